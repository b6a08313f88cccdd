package temporal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Names under which a Worker registers its workflow, activity and query.
const (
	WorkflowName = "arazzo.run"
	ActivityName = "arazzo.http"
	EventsQuery  = "arazzo.events"
)

// Error types of the workflow's failures (temporal.ApplicationError.Type).
const (
	// ErrTypeFailed: the Arazzo workflow ran and failed; the error's
	// details hold the *engine.Result.
	ErrTypeFailed = "ArazzoRunFailed"
	// ErrTypeRefused: nothing was sent (the document changed or cannot be
	// loaded, unknown workflow, invalid inputs, AsyncAPI steps).
	ErrTypeRefused = "ArazzoRunRefused"
	// ErrTypeTransport: the activity got no response (the engine reports
	// it as the step's transport error).
	ErrTypeTransport = "ArazzoTransport"
)

// Defaults for a Worker's fields left zero.
const (
	DefaultMaxActions       = 2000
	DefaultMaxResponseBytes = 1 << 20
	// maxEvents bounds the events a run keeps for EventsQuery.
	maxEvents = 4096
)

// Input is what a run on Temporal is given: the workflow's history
// records it, so it holds no secret in the clear.
type Input struct {
	// Document names the Arazzo document as the worker finds it (a path,
	// relative ones against the worker's directory); Hash is its
	// engine.DocumentHash when submitted. A worker whose copy hashes
	// otherwise refuses the run.
	Document string `json:"document"`
	Hash     string `json:"hash"`
	// WorkflowID is the Arazzo workflow to run.
	WorkflowID string `json:"workflowId"`
	// Inputs are the workflow's inputs as JSON, secret inputs left out;
	// Secrets holds those, encrypted (Seal).
	Inputs  json.RawMessage   `json:"inputs,omitempty"`
	Secrets map[string]string `json:"secrets,omitempty"`
	// Settings are the options of the run the submitter chose.
	Settings Settings `json:"settings"`
	// Timeout ends the run with the engine's timeout error (0: none),
	// counted from the workflow's start by the workflow's clock; Deadline
	// is where that falls, set by the workflow and carried by a continued
	// run.
	Timeout  time.Duration `json:"timeout,omitempty"`
	Deadline time.Time     `json:"deadline,omitzero"`
	// State, when set, continues a run (ContinueAsNew): an
	// engine.RunState as JSON, secrets replaced by placeholders.
	State string `json:"state,omitempty"`
	// EventsFrom numbers the first event of this run for EventsQuery: a
	// continued run goes on counting.
	EventsFrom int `json:"eventsFrom,omitempty"`
}

// Settings are the engine options a submitter chooses per run.
type Settings struct {
	Servers         map[string]string            `json:"servers,omitempty"`
	ServerVariables map[string]map[string]string `json:"serverVariables,omitempty"`
	WorkflowInputs  map[string]map[string]any    `json:"workflowInputs,omitempty"`
	PollInterval    time.Duration                `json:"pollInterval,omitempty"`
	MaxSteps        int                          `json:"maxSteps,omitempty"`
	// RequestTimeout bounds each request: the activity's
	// StartToCloseTimeout, less a margin so the HTTP client's own limit
	// reports first.
	RequestTimeout time.Duration `json:"requestTimeout,omitempty"`
}

// Events is the answer to EventsQuery: the run's events from From on
// (events before it were dropped to bound memory, or belong to a run
// continued as new), and the number to ask from next time.
type Events struct {
	From   int            `json:"from"`
	Next   int            `json:"next"`
	Events []engine.Event `json:"events"`
}

// Request is the activity's input: one HTTP request as the engine laid it
// out, before any credential is applied, secret inputs as placeholders.
type Request struct {
	Document   string              `json:"document"`
	Hash       string              `json:"hash"`
	WorkflowID string              `json:"workflowId"`
	StepID     string              `json:"stepId"`
	Attempt    int                 `json:"attempt"`
	ServerURL  string              `json:"serverUrl,omitempty"`
	Inputs     map[string]any      `json:"inputs,omitempty"`
	Secrets    map[string]string   `json:"secrets,omitempty"`
	Method     string              `json:"method"`
	URL        string              `json:"url"`
	Header     map[string][]string `json:"header,omitempty"`
	Body       Body                `json:"body,omitzero"`
	HasBody    bool                `json:"hasBody,omitempty"`
	Timeout    time.Duration       `json:"timeout"`
	MaxBytes   int64               `json:"maxBytes"`
}

// Response is the activity's result: status, header and body (at most
// Request.MaxBytes+1 bytes, so the engine sees a body over its limit),
// secret values replaced.
type Response struct {
	Status int                 `json:"status"`
	Header map[string][]string `json:"header,omitempty"`
	Body   Body                `json:"body,omitzero"`
}

// Body is a request or response body as the history records it: as text
// when it is UTF-8 (readable in Temporal's UI), else base64.
type Body struct {
	Text   string `json:"text,omitempty"`
	Base64 []byte `json:"base64,omitempty"`
}

func bodyOf(b []byte) Body {
	if utf8.Valid(b) {
		return Body{Text: string(b)}
	}
	return Body{Base64: b}
}

func (b Body) bytes() []byte {
	if b.Base64 != nil {
		return b.Base64
	}
	return []byte(b.Text)
}

// Run is the Temporal workflow: it runs one Arazzo workflow of a compiled
// plan with the engine's state machine, every request an activity, every
// wait a durable timer, the clock the workflow's.
func (w *Worker) Run(ctx workflow.Context, in Input) (*engine.Result, error) {
	c, err := w.compiled(in.Document, in.Hash)
	if err != nil {
		return nil, refused(err)
	}
	if err := Supported(c.plan); err != nil {
		return nil, refused(err)
	}
	inputs := map[string]any{}
	if len(in.Inputs) > 0 {
		if err := decodeJSON(in.Inputs, &inputs); err != nil {
			return nil, refused(fmt.Errorf("the run's inputs: %v", err))
		}
	}
	secrets, err := open(w.Key, in.Secrets)
	if err != nil {
		return nil, refused(err)
	}
	maps.Copy(inputs, secrets)
	sl := newSealer(secrets, nil, "")

	log := &eventLog{from: in.EventsFrom, continued: in.State != ""}
	if err := workflow.SetQueryHandler(ctx, EventsQuery, log.since); err != nil {
		return nil, err
	}
	runCtx, cancelRun := workflow.WithCancel(ctx)
	stop := newStopContext()
	workflow.Go(ctx, func(c workflow.Context) {
		ctx.Done().Receive(c, nil)
		stop.stop(context.Canceled)
		cancelRun()
	})
	if in.Deadline.IsZero() && in.Timeout > 0 {
		in.Deadline = workflow.Now(ctx).Add(in.Timeout)
	}
	if !in.Deadline.IsZero() {
		// --timeout as a durable timer: the run ends with the engine's
		// own timeout error and a result, as a local run does.
		workflow.Go(ctx, func(c workflow.Context) {
			if d := in.Deadline.Sub(workflow.Now(c)); d > 0 {
				if workflow.NewTimer(runCtx, d).Get(c, nil) != nil {
					return
				}
			}
			stop.stop(context.DeadlineExceeded)
			cancelRun()
		})
	}

	set := in.Settings
	timeout := set.RequestTimeout
	if timeout <= 0 {
		timeout = engine.DefaultRequestTimeout
	}
	actions := 0
	caller := &activityCaller{ctx: runCtx, in: &in, sl: sl, stop: stop, timeout: timeout, maxBytes: w.maxBytes(), actions: &actions}
	// The threshold is the worker's setting, which may change when it
	// restarts: recorded once per run, so a replay decides as the run did.
	var limit int
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return w.maxActions() }).Get(&limit); err != nil {
		return nil, err
	}
	jr := &continuer{limit: limit, actions: &actions, suggested: func() bool { return workflow.GetInfo(ctx).GetContinueAsNewSuggested() }}
	log.stopping = &jr.stopping
	opts := engine.Options{
		Caller:           caller,
		Observers:        []engine.Observer{log},
		PollInterval:     set.PollInterval,
		MaxSteps:         set.MaxSteps,
		Servers:          maps.Clone(c.opts.Servers),
		ServerVariables:  set.ServerVariables,
		WorkflowInputs:   set.WorkflowInputs,
		MaxResponseBytes: w.maxBytes(),
		Now:              func() time.Time { return workflow.Now(ctx) },
		Middleware:       hooksOf(c.opts.Middleware),
		Secrets:          c.opts.Secrets,
		Journal:          jr,
	}
	opts.Sleep = func(_ context.Context, d time.Duration) error {
		actions++
		if err := workflow.Sleep(runCtx, d); err != nil {
			return stop.errOr(context.Canceled)
		}
		return nil
	}
	if opts.Servers == nil {
		opts.Servers = map[string]string{}
	}
	maps.Copy(opts.Servers, set.Servers)

	var res *engine.Result
	if in.State != "" {
		var st engine.RunState
		if err := decodeJSON([]byte(sl.unsealString(in.State)), &st); err != nil {
			return nil, refused(fmt.Errorf("the continued run's state: %v", err))
		}
		res, err = c.plan.Resume(stop, &st, secrets, &opts)
	} else {
		res, err = c.plan.Run(stop, in.WorkflowID, inputs, &opts)
	}
	if jr.stopping {
		next := in
		next.State = sl.sealString(string(jr.state))
		next.Inputs, next.EventsFrom = nil, log.next()
		return nil, workflow.NewContinueAsNewError(ctx, WorkflowName, next)
	}
	switch {
	case res == nil:
		return nil, refused(err)
	case res.Status == engine.Succeeded:
		return res, nil
	case stop.Err() == context.Canceled:
		return nil, temporal.NewCanceledError(*res)
	}
	return nil, temporal.NewNonRetryableApplicationError(res.Error.Error(), ErrTypeFailed, nil, *res, causeOf(err))
}

// Causes of a failed run that its result cannot carry (a RunError's Err
// is not serialised), so that the submitter's errors.Is works as on a
// local run.
var causes = map[string]error{
	"timeout":   context.DeadlineExceeded,
	"canceled":  context.Canceled,
	"stepLimit": engine.ErrStepLimit,
}

func causeOf(err error) string {
	for name, c := range causes {
		if errors.Is(err, c) {
			return name
		}
	}
	return ""
}

func refused(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRefused, nil)
}

// Supported refuses plans that cannot run on Temporal: those with AsyncAPI
// sources, whose steps receive in background goroutines and hold broker
// connections, neither of which replays. Submitters check it before
// submitting; workers check it again.
func Supported(p *engine.Plan) error {
	for _, s := range p.Sources() {
		if s.Type == source.AsyncAPI {
			return fmt.Errorf("source %s is an AsyncAPI description: message steps do not run on Temporal (run the workflow with arazzo run, without --temporal-address)", s.Name)
		}
		if s.Plan != nil {
			if err := Supported(s.Plan); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeJSON keeps numbers exact, as the engine does.
func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// stopContext is the context the engine runs under inside the workflow:
// no goroutine, no wall clock; the workflow's cancellation and its
// deadline timer stop it.
type stopContext struct {
	mu   sync.Mutex
	done chan struct{}
	err  error
}

func newStopContext() *stopContext { return &stopContext{done: make(chan struct{})} }

func (s *stopContext) stop(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
		close(s.done)
	}
}

func (s *stopContext) errOr(err error) error {
	if e := s.Err(); e != nil {
		return e
	}
	s.stop(err)
	return err
}

func (s *stopContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (s *stopContext) Done() <-chan struct{}       { return s.done }
func (s *stopContext) Value(any) any               { return nil }
func (s *stopContext) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// activityCaller is the engine's Caller inside the workflow: each request
// an activity, which applies credentials and sends it on a worker.
type activityCaller struct {
	ctx      workflow.Context
	in       *Input
	sl       *sealer
	stop     *stopContext
	timeout  time.Duration
	maxBytes int64
	actions  *int
}

// retryPolicy is how Temporal retries an activity that got no response:
// an error the activity marks retryable (a connection refused, or an
// idempotent request that timed out or was reset; see transportFailure)
// up to 5 attempts, 1 s, 2 s, 4 s, 8 s apart. A response, whatever its
// status, is the activity's result: the step's criteria and retry actions
// decide about it.
var retryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5}

func (a *activityCaller) Do(req *http.Request) (*http.Response, error) {
	call := engine.CallOf(req.Context())
	if call == nil || call.Step == nil {
		return nil, errors.New("a request outside a step") // hooksOf always adds the Call
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	var inputs map[string]any
	if call.Values != nil {
		inputs, _ = a.sl.value(call.Values.Inputs(), a.sl.sealString).(map[string]any)
	}
	// A 1.1 step timeout bounds the request where it is made. (The
	// engine also times the step on the workflow's goroutine, by the wall
	// clock; on replay that only changes the wording of a failed step's
	// error, never which commands the workflow issues.)
	timeout := a.timeout
	if t := call.Step.Timeout; t > 0 && t < timeout {
		timeout = t
	}
	r := Request{
		Document: a.in.Document, Hash: a.in.Hash, WorkflowID: call.Step.Workflow.ID, StepID: call.Step.ID,
		Attempt: call.Attempt, ServerURL: a.sl.sealString(call.ServerURL), Inputs: inputs, Secrets: a.in.Secrets,
		Method: req.Method, URL: a.sl.sealString(req.URL.String()), Header: a.sl.header(req.Header, a.sl.sealString),
		Body: bodyOf(a.sl.sealBytes(body)), HasBody: req.Body != nil, Timeout: timeout, MaxBytes: a.maxBytes,
	}
	actx := workflow.WithActivityOptions(a.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout + 10*time.Second,
		RetryPolicy:         retryPolicy,
	})
	*a.actions++
	var resp Response
	if err := workflow.ExecuteActivity(actx, ActivityName, r).Get(a.ctx, &resp); err != nil {
		if temporal.IsCanceledError(err) || a.stop.Err() != nil {
			return nil, a.stop.errOr(context.Canceled)
		}
		return nil, activityFailure(err, timeout)
	}
	data := a.sl.unsealBytes(resp.Body.bytes())
	return &http.Response{
		StatusCode: resp.Status, Status: strconv.Itoa(resp.Status) + " " + http.StatusText(resp.Status),
		Header: http.Header(a.sl.header(resp.Header, a.sl.unsealString)), Body: io.NopCloser(bytes.NewReader(data)),
		ContentLength: int64(len(data)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// activityFailure is the error the engine reports as the step's
// transport error: the activity's own message, not Temporal's wrapping.
func activityFailure(err error, timeout time.Duration) error {
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return fmt.Errorf("no response within %s (the request timeout)", timeout)
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return errors.New(ae.Message())
	}
	return err
}

// hooksOf gives the workflow the middleware's hooks that lay requests out
// (server variables, endpoints) but not their Wrap: credentials and
// signing are applied by the activity, on the worker, so none lands in
// workflow code or history. With no middleware one is still there, so
// the engine tells the caller which step each request is for.
func hooksOf(ms []engine.Middleware) []engine.Middleware {
	out := []engine.Middleware{hooks{}}
	for _, m := range ms {
		out = append(out, hooks{m})
	}
	return out
}

type hooks struct{ m engine.Middleware }

func (hooks) Wrap(_ *engine.SourceRef, next engine.Caller) engine.Caller { return next }

func (h hooks) ServerVariables(src *engine.SourceRef) map[string]string {
	if d, ok := h.m.(engine.ServerVariableDefaults); ok {
		return d.ServerVariables(src)
	}
	return nil
}

func (h hooks) Endpoint(src *engine.SourceRef, op *source.Operation, server string) (string, string) {
	if r, ok := h.m.(engine.EndpointResolver); ok {
		return r.Endpoint(src, op, server)
	}
	return server, ""
}

// continuer is the run's Journal inside the workflow: it records nothing
// until the history has grown past the limit (activities and timers
// counted, or the server suggests it), then, at the next step boundary,
// keeps the state and stops the run, which the workflow continues as new
// from that state (Plan.Resume).
type continuer struct {
	limit     int
	actions   *int
	suggested func() bool
	stopping  bool
	state     []byte
}

var errContinue = errors.New("continuing as new")

func (j *continuer) Record(st *engine.RunState) error {
	if j.stopping {
		return errContinue
	}
	if *j.actions < j.limit && !j.suggested() {
		return nil
	}
	// Only at a step boundary: a request in flight would be ambiguous to
	// the resumed run.
	if len(st.Frames) == 0 || st.Status != "" {
		return nil
	}
	for _, f := range st.Frames {
		if len(f.Requests) > 0 {
			return nil
		}
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	j.state, j.stopping = data, true
	return errContinue
}

// eventLog keeps the run's events for EventsQuery, numbered across runs
// continued as new; the oldest go past maxEvents.
type eventLog struct {
	from      int // number of events[0]
	events    []engine.Event
	continued bool  // a continued run: its restart events are not news
	started   bool  // a step has started in this run
	stopping  *bool // the run is stopping to continue: its end is not news
}

func (l *eventLog) OnEvent(e engine.Event) {
	if l.stopping != nil && *l.stopping {
		return
	}
	if e.Kind == engine.StepStarted {
		l.started = true
	}
	if l.continued && !l.started && (e.Kind == engine.RunStarted || e.Kind == engine.WorkflowStarted) {
		return
	}
	if len(l.events) == maxEvents {
		n := maxEvents / 4
		l.events = append(l.events[:0], l.events[n:]...)
		l.from += n
	}
	l.events = append(l.events, e)
}

func (l *eventLog) next() int { return l.from + len(l.events) }

func (l *eventLog) since(from int) (Events, error) {
	i := max(from-l.from, 0)
	if i > len(l.events) {
		i = len(l.events)
	}
	return Events{From: max(from, l.from), Next: l.next(), Events: l.events[i:]}, nil
}
