package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// EventKind says what happened.
type EventKind string

const (
	RunStarted         EventKind = "run.started"
	RunFinished        EventKind = "run.finished"
	WorkflowStarted    EventKind = "workflow.started"
	WorkflowFinished   EventKind = "workflow.finished"
	StepStarted        EventKind = "step.started"
	StepFinished       EventKind = "step.finished"
	RequestSent        EventKind = "request.sent"
	ResponseReceived   EventKind = "response.received"
	CriterionEvaluated EventKind = "criterion.evaluated"
	ActionTaken        EventKind = "action.taken"
	Waiting            EventKind = "wait"
	Notice             EventKind = "notice"       // something worth a warning: an undefined parameter, a body that is not JSON
	CallerRetry        EventKind = "caller.retry" // a Caller decorator retries a request (throttling, transient errors)
)

// Event is one thing the engine did. Which fields are set depends on Kind.
// Header values that carry credentials are already masked.
type Event struct {
	Kind       EventKind
	Time       time.Time
	WorkflowID string
	StepID     string
	Visit      int // how many times this step has been entered in this workflow run
	Attempt    int // 1 + retries within this visit

	Request  *RequestInfo
	Response *ResponseInfo
	Duration time.Duration
	Err      string

	Criterion string // the condition text
	Passed    bool

	Action     string // action name
	ActionType string // end, goto, retry, next, fail
	Target     string // goto/retry target step or workflow
	Wait       time.Duration

	Status  string // succeeded or failed, on *.finished events
	Outputs map[string]any
	Message string
}

// RequestInfo describes a request as sent.
type RequestInfo struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte // capped
}

// ResponseInfo describes a response as received.
type ResponseInfo struct {
	StatusCode int
	Header     http.Header
	Body       []byte // capped
	Truncated  bool
}

// Observer receives every event of a run, in order, on the goroutine that
// runs the workflow. It must not block for long.
type Observer interface {
	OnEvent(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// OnEvent calls f.
func (f ObserverFunc) OnEvent(e Event) { f(e) }

// Mask replaces secret values in every output.
const Mask = "****"

// sensitiveHeaders are masked in every event: credentials, session tokens
// and signatures.
var sensitiveHeaders = map[string]bool{
	"authorization":        true,
	"proxy-authorization":  true,
	"cookie":               true,
	"set-cookie":           true,
	"x-amz-security-token": true,
	"x-api-key":            true,
	"api-key":              true,
	"x-auth-token":         true,
}

// SensitiveHeader reports whether a header's value must never be shown.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	return sensitiveHeaders[n] || strings.Contains(n, "token") || strings.Contains(n, "secret") || strings.Contains(n, "password")
}

// redactHeader copies h with sensitive values masked.
func redactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if SensitiveHeader(k) {
			out[k] = []string{Mask}
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

type reporterKey struct{}

// WithReporter returns a context whose Report calls go to f. The engine
// sets it on every request; tests of decorators use it directly.
func WithReporter(ctx context.Context, f func(Event)) context.Context {
	return context.WithValue(ctx, reporterKey{}, f)
}

// Report lets a Caller decorator add an event to the run that sent the
// request (ctx is the request's context). The run fills in the workflow
// and step. Outside a run it does nothing.
func Report(ctx context.Context, e Event) {
	if f, ok := ctx.Value(reporterKey{}).(func(Event)); ok {
		f(e)
	}
}

// ErrorSummary finds an error type and message in an error response, by
// the conventions JSON APIs use: the X-Amzn-ErrorType header and the
// __type/code fields (AWS, with any "namespace#" dropped), message/Message,
// RFC 9457 title/detail, and OAuth's error/error_description.
func ErrorSummary(h http.Header, body []byte) (code, msg string) {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	first := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := m[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	code = h.Get("X-Amzn-ErrorType")
	if code == "" {
		code = first("__type", "code", "Code", "error", "title")
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	msg = first("message", "Message", "errorMessage", "error_description", "detail")
	return code, msg
}
