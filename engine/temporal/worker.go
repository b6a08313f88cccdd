package temporal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/arazzo-go/arazzo/engine"
)

// Worker holds what a Temporal worker needs to run Arazzo workflows:
// how to load documents, the worker's own options (credentials), and the
// plans it compiled, each once. Register it with a worker.Worker (or a
// test environment) through Register.
type Worker struct {
	// Load compiles the document an Input names and returns its
	// engine.DocumentHash.
	Load func(ctx context.Context, document string) (plan *engine.Plan, hash string, err error)
	// Options gives the worker's options for runs of a plan, called once
	// per plan: Middleware (credentials and signing, applied in the
	// activity), Secrets (values to mask, such as credentials), Servers
	// (defaults a run's own Settings.Servers override). Nil: none.
	Options func(plan *engine.Plan) (*engine.Options, error)
	// Key decrypts the runs' secret inputs (see Seal); nil refuses runs
	// that have them.
	Key []byte
	// MaxActions continues a run as new (ContinueAsNew) once it has run
	// this many activities and timers (default DefaultMaxActions, about
	// 10 000 history events), or when the server suggests it.
	MaxActions int
	// MaxResponseBytes caps a response body, which the history records
	// (default DefaultMaxResponseBytes).
	MaxResponseBytes int64

	mu      sync.Mutex
	plans   map[string]*compiled
	callers map[callerKey]engine.Caller
}

type compiled struct {
	plan *engine.Plan
	hash string
	opts *engine.Options
}

type callerKey struct {
	execution string // the Temporal workflow execution
	src       *engine.SourceRef
}

// Registry is where Register puts the workflow and the activity:
// worker.Worker and testsuite.TestWorkflowEnvironment are ones.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Register registers the workflow (WorkflowName) and its activity
// (ActivityName).
func (w *Worker) Register(r Registry) {
	r.RegisterWorkflowWithOptions(w.Run, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterActivityWithOptions(w.Send, activity.RegisterOptions{Name: ActivityName})
}

func (w *Worker) maxActions() int {
	if w.MaxActions > 0 {
		return w.MaxActions
	}
	return DefaultMaxActions
}

func (w *Worker) maxBytes() int64 {
	if w.MaxResponseBytes > 0 {
		return w.MaxResponseBytes
	}
	return DefaultMaxResponseBytes
}

// DocumentChangedError refuses a run whose document is not, on this
// worker, what it was when the run was submitted: replaying a history
// against other steps would silently do something else.
type DocumentChangedError struct {
	Document, Want, Got string
}

func (e *DocumentChangedError) Error() string {
	return fmt.Sprintf("%s on this worker is not the document the run was submitted with (hash %.12s, the worker's is %.12s): "+
		"give the worker the same document and source descriptions, or submit the run again", e.Document, e.Want, e.Got)
}

// compiled returns the plan of a document, compiled once per content:
// a document whose hash is not the one asked for is loaded again once
// (it may have been updated), then refused.
func (w *Worker) compiled(doc, hash string) (*compiled, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.plans[doc]; c != nil && c.hash == hash {
		return c, nil
	}
	if w.Load == nil {
		return nil, errors.New("the worker cannot load documents (Worker.Load is nil)")
	}
	plan, got, err := w.Load(context.Background(), doc)
	if err != nil {
		return nil, err
	}
	if got != hash {
		return nil, &DocumentChangedError{Document: doc, Want: hash, Got: got}
	}
	opts := &engine.Options{}
	if w.Options != nil {
		if opts, err = w.Options(plan); err != nil {
			return nil, err
		}
	}
	if w.plans == nil {
		w.plans = map[string]*compiled{}
	}
	c := &compiled{plan: plan, hash: got, opts: opts}
	w.plans[doc] = c
	return c, nil
}

// Send is the activity: it applies the worker's middleware (credentials,
// signing) to the request and sends it. Secret inputs are put back just
// before sending; what it returns has them, and every credential, taken
// out again.
func (w *Worker) Send(ctx context.Context, r Request) (*Response, error) {
	c, err := w.compiled(r.Document, r.Hash)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRefused, nil)
	}
	step := findStep(c.plan, r.WorkflowID, r.StepID)
	if step == nil || step.Source == nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s has no operation step %s in workflow %s", r.Document, r.StepID, r.WorkflowID), ErrTypeRefused, nil)
	}
	secrets, err := open(w.Key, r.Secrets)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRefused, nil)
	}
	var mu sync.Mutex
	masks := append([]string{}, c.opts.Secrets...)
	addSecret := func(vs ...string) {
		mu.Lock()
		masks = append(masks, vs...)
		mu.Unlock()
	}
	open := newSealer(secrets, nil, "")
	inputs, _ := open.value(r.Inputs, open.unsealString).(map[string]any)
	call := engine.Call{Step: step, Attempt: r.Attempt, ServerURL: open.unsealString(r.ServerURL), Values: engine.InputValues(inputs)}
	ctx = engine.CallContext(ctx, call, addSecret)
	// The request's own limit (the run's, or its step's 1.1 timeout),
	// body included: the source's caller is shared by the run's requests.
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	var body io.Reader
	if r.HasBody {
		body = strings.NewReader(string(open.unsealBytes(r.Body.bytes())))
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, open.unsealString(r.URL), body)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(newSealer(secrets, masks, engine.Mask).sealString(err.Error()), ErrTypeTransport, nil)
	}
	req.Header = http.Header(open.header(r.Header, open.unsealString))
	resp, err := w.caller(ctx, c, step.Source).Do(req)
	mu.Lock()
	seal := newSealer(secrets, masks, engine.Mask)
	mu.Unlock()
	if err != nil {
		msg := seal.sealString(err.Error())
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("no response within %s (the request timeout)", r.Timeout)
		}
		return nil, transportFailure(r.Method, msg, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.MaxBytes+1))
	if err != nil {
		return nil, transportFailure(r.Method, "reading the response: "+seal.sealString(err.Error()), err)
	}
	return &Response{Status: resp.StatusCode, Header: seal.header(resp.Header, seal.sealString), Body: bodyOf(seal.sealBytes(data))}, nil
}

// transportFailure says whether Temporal retries a request that got no
// response: always when nothing reached the server (the connection was
// refused, the host is unknown); after a network failure (a timeout, a
// reset connection) only when sending it again is harmless (an
// idempotent method); never otherwise (a middleware's error, a POST that
// timed out): the step fails with the error at once and its onFailure
// actions decide.
func transportFailure(method, msg string, err error) error {
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	retry := errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
			retry = true
		}
	}
	if retry {
		return temporal.NewApplicationError(msg, ErrTypeTransport)
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeTransport, nil)
}

// caller is the source's caller wrapped by the worker's middleware, once
// per workflow execution (an OAuth token is fetched once per run, as in a
// local run).
func (w *Worker) caller(ctx context.Context, c *compiled, src *engine.SourceRef) engine.Caller {
	key := callerKey{execution: activity.GetInfo(ctx).WorkflowExecution.RunID, src: src}
	w.mu.Lock()
	defer w.mu.Unlock()
	if cl, ok := w.callers[key]; ok {
		return cl
	}
	var cl engine.Caller = engine.NewHTTPClient(0) // each request has its own deadline (Send)
	for _, m := range c.opts.Middleware {
		cl = m.Wrap(src, cl)
	}
	if w.callers == nil || len(w.callers) >= 1024 {
		w.callers = map[callerKey]engine.Caller{} // bounded: old runs' callers go
	}
	w.callers[key] = cl
	return cl
}

// findStep finds a step by workflow and step id in a plan or the Arazzo
// documents it uses.
func findStep(p *engine.Plan, workflowID, stepID string) *engine.Step {
	if wf := p.Workflow(workflowID); wf != nil {
		return wf.Step(stepID)
	}
	for _, s := range p.Sources() {
		if s.Plan != nil {
			if st := findStep(s.Plan, workflowID, stepID); st != nil {
				return st
			}
		}
	}
	return nil
}
