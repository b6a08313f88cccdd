package engine

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/arazzo-go/arazzo/engine/source"
)

// Caller performs HTTP requests: the one interface through which the
// engine touches the network. *http.Client satisfies it; middleware adds
// credentials, signing, recording or dry runs.
type Caller interface {
	Do(req *http.Request) (*http.Response, error)
}

// CallerFunc adapts a function to Caller.
type CallerFunc func(*http.Request) (*http.Response, error)

// Do calls f.
func (f CallerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// Middleware wraps the Caller of one source, once per run: the layer where
// credentials and signing (every auth scheme, SigV4 among them), recording
// and rate limits go. Wrap returns next itself for a source it has nothing
// to do with. The hooks in middleware.go tell it more (CallOf, AddSecret,
// Preparer, WithTLS).
type Middleware interface {
	Wrap(src *SourceRef, next Caller) Caller
}

// MiddlewareFunc adapts a function to Middleware.
type MiddlewareFunc func(src *SourceRef, next Caller) Caller

// Wrap calls f.
func (f MiddlewareFunc) Wrap(src *SourceRef, next Caller) Caller { return f(src, next) }

// ServerVariableDefaults is implemented by middleware that knows values for
// a source's OpenAPI server variables (the region an AWS signer signs
// for). Options.ServerVariables win over them.
type ServerVariableDefaults interface {
	ServerVariables(src *SourceRef) map[string]string
}

// EndpointResolver is implemented by middleware that knows where a
// source's requests must go better than its description says (an API that
// answers on regional hosts only, or over https only). It is asked for
// every request whose server the user did not override, with the server
// URL the description gives (variables expanded); a non-empty notice is
// shown to the user.
type EndpointResolver interface {
	Endpoint(src *SourceRef, op *source.Operation, server string) (url, notice string)
}

// Defaults for Options left zero.
const (
	DefaultPollInterval     = 5 * time.Second
	DefaultMaxSteps         = 10_000
	DefaultMaxResponseBytes = 16 << 20
	DefaultRequestTimeout   = 60 * time.Second
	DefaultMaxDepth         = 32
	excerptBytes            = 512
	eventBodyBytes          = 64 << 10
)

// Options control one run. The zero value is usable.
type Options struct {
	// Caller sends requests; default an http.Client with RequestTimeout.
	Caller Caller
	// RequestTimeout bounds each request (default 60s) when Caller is nil.
	RequestTimeout time.Duration
	Observers      []Observer
	// PollInterval is waited before a goto re-enters a step that already
	// ran (a poll). Default 5s; a negative value means no wait.
	PollInterval time.Duration
	// MaxSteps bounds step executions (attempts) in a run. Default 10 000.
	MaxSteps int
	// MaxDepth bounds how deeply workflow calls nest. Default 32.
	MaxDepth int
	// Timeout bounds the whole run; 0 means none.
	Timeout time.Duration
	// Servers overrides the base URL of a source, by source name.
	Servers map[string]string
	// ServerVariables overrides OpenAPI server variables, by source name
	// ("" applies to every source).
	ServerVariables map[string]map[string]string
	// WorkflowInputs gives inputs to workflows run as dependencies or goto
	// targets, by workflowId.
	WorkflowInputs map[string]map[string]any
	// MaxResponseBytes caps a response body (default 16 MiB).
	MaxResponseBytes int64
	// Sleep waits; tests inject a fake. Default: a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Middleware wraps each source's caller, in order: the first wraps
	// the Caller, the last is called first.
	Middleware []Middleware
	// Secrets are further values to mask in events and errors, besides the
	// inputs the workflow marks secret.
	Secrets []string
	// MessageTimeout bounds an AsyncAPI receive step that has no timeout
	// of its own (default DefaultMessageTimeout).
	MessageTimeout time.Duration
	// Checks sets, per contract check, what a request or response that
	// breaks the operation's description does (check.go); all off when nil.
	Checks Checks
	// Journal records the run as it goes, so that Plan.Resume can
	// continue it after a crash (durable.go); nil records nothing.
	Journal Journal
	// Resend lets a resumed run send again a request that was sent
	// before it stopped but whose response was never recorded, even when
	// that is not known to be safe.
	Resend bool
	resume *RunState // set by Resume
}

// withDefaults fills what is left zero.
func (o Options) withDefaults() Options {
	if o.Caller == nil {
		t := o.RequestTimeout
		if t <= 0 {
			t = DefaultRequestTimeout
		}
		o.Caller = NewHTTPClient(t)
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Sleep == nil {
		o.Sleep = Sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// NewHTTPClient is the default caller: a per-request timeout that covers
// the body too, and redirects followed only to the same host, so
// credentials and signatures never travel to another server. A cross-host
// redirect comes back to the workflow as the 3xx response it is.
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// Sleep waits for d or until ctx is done, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Result is what a run did.
type Result struct {
	WorkflowID string         `json:"workflowId"`
	Status     Status         `json:"status"`
	Outputs    map[string]any `json:"outputs"`
	Steps      []*StepResult  `json:"steps"`
	Error      *RunError      `json:"error,omitempty"`
	// Notices are the warnings of the run, each once per step: undefined
	// parameters, bodies that are not what they claim, success actions
	// that all missed.
	Notices []StepNotice `json:"notices,omitempty"`
}

// StepNotice is a warning about a step.
type StepNotice struct {
	WorkflowID string `json:"workflowId"`
	StepID     string `json:"stepId"`
	Message    string `json:"message"`
}

// maxNotices caps the notices a result keeps.
const maxNotices = 100

// StepResult summarizes every execution of one step.
type StepResult struct {
	WorkflowID string `json:"workflowId"`
	StepID     string `json:"stepId"`
	Runs       int    `json:"runs"`
	StatusCode int    `json:"statusCode,omitempty"`
	Outcome    Status `json:"outcome"` // of the last run
	Error      string `json:"error,omitempty"`
	// Checks are the contract violations of every run of the step (the
	// first maxStepViolations), with the attempt each was found in.
	Checks []Violation `json:"checks,omitempty"`
}
