package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Caller performs HTTP requests: the one interface through which the
// engine touches the world. *http.Client satisfies it; decorators add
// signing, recording or dry runs.
type Caller interface {
	Do(req *http.Request) (*http.Response, error)
}

// CallerFunc adapts a function to Caller.
type CallerFunc func(*http.Request) (*http.Response, error)

// Do calls f.
func (f CallerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// Defaults for Options left zero.
const (
	DefaultPollInterval     = 5 * time.Second
	DefaultMaxSteps         = 10_000
	DefaultMaxResponseBytes = 16 << 20
	DefaultRequestTimeout   = 60 * time.Second
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
	// Decorate wraps the caller for one source, once per run: the hook for
	// signing (see package awssig), recording or rate limiting.
	Decorate func(src *SourceRef, next Caller) Caller
	// Secrets are further values to mask in events and errors, besides the
	// inputs the workflow marks secret.
	Secrets []string
}

// Result is what a run did.
type Result struct {
	WorkflowID string         `json:"workflowId"`
	Status     string         `json:"status"` // succeeded or failed
	Outputs    map[string]any `json:"outputs"`
	Steps      []*StepResult  `json:"steps"`
	Error      *RunError      `json:"error,omitempty"`
}

// Status values.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
)

// StepResult summarizes every execution of one step.
type StepResult struct {
	WorkflowID string `json:"workflowId"`
	StepID     string `json:"stepId"`
	Runs       int    `json:"runs"`
	StatusCode int    `json:"statusCode,omitempty"`
	Outcome    string `json:"outcome"` // succeeded or failed, of the last run
	Error      string `json:"error,omitempty"`
}

// RunError says where and why a run failed.
type RunError struct {
	WorkflowID  string `json:"workflowId"`
	StepID      string `json:"stepId,omitempty"`
	Attempt     int    `json:"attempt,omitempty"`
	StatusCode  int    `json:"statusCode,omitempty"`
	Message     string `json:"message"`
	BodyExcerpt string `json:"body,omitempty"`
	cause       error
}

func (e *RunError) Error() string {
	var b strings.Builder
	b.WriteString("workflow " + e.WorkflowID)
	if e.StepID != "" {
		fmt.Fprintf(&b, ", step %s", e.StepID)
	}
	if e.Attempt > 0 {
		fmt.Fprintf(&b, " (attempt %d)", e.Attempt)
	}
	if e.StatusCode > 0 {
		fmt.Fprintf(&b, ", status %d", e.StatusCode)
	}
	b.WriteString(": " + e.Message)
	if e.BodyExcerpt != "" {
		b.WriteString(": " + e.BodyExcerpt)
	}
	return b.String()
}

func (e *RunError) Unwrap() error { return e.cause }

// ErrUnknownWorkflow is returned when the requested workflow is not in the plan.
var ErrUnknownWorkflow = errors.New("unknown workflow")

// Run runs one workflow of the plan. It returns an error without a result
// when nothing could be sent (an unknown workflow, invalid inputs). When the
// workflow fails, the result says so and the error is its *RunError.
func (p *Plan) Run(ctx context.Context, workflowID string, inputs map[string]any, opts *Options) (*Result, error) {
	w, inputs, err := p.prepare(workflowID, inputs)
	if err != nil {
		return nil, err
	}
	r := newRun(p, opts)
	r.secrets = secretInputs(w, inputs, r.opts.Secrets)
	if r.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
	}
	r.emit(Event{Kind: RunStarted, WorkflowID: w.ID})
	out := r.workflow(ctx, w, inputs)
	if out.err != nil && r.secrets != nil {
		out.err.Message, out.err.BodyExcerpt = r.secrets.Replace(out.err.Message), r.secrets.Replace(out.err.BodyExcerpt)
	}
	for _, sr := range r.stepResults {
		if r.secrets != nil {
			sr.Error = r.secrets.Replace(sr.Error)
		}
	}
	res := &Result{WorkflowID: w.ID, Status: out.status, Outputs: out.outputs, Steps: r.stepResults, Error: out.err}
	if res.Outputs == nil {
		res.Outputs = map[string]any{}
	}
	if res.Steps == nil {
		res.Steps = []*StepResult{}
	}
	r.emit(Event{Kind: RunFinished, WorkflowID: w.ID, Status: out.status, Outputs: res.Outputs, Err: errString(out.err)})
	if out.err != nil {
		return res, out.err
	}
	return res, nil
}

// prepare finds the workflow and checks the inputs, with the schema's
// defaults applied: what must hold before anything is sent.
func (p *Plan) prepare(workflowID string, inputs map[string]any) (*Workflow, map[string]any, error) {
	w := p.Workflow(workflowID)
	if w == nil {
		var ids []string
		for _, x := range p.Workflows {
			ids = append(ids, x.ID)
		}
		return nil, nil, fmt.Errorf("%w %q: this document has %s", ErrUnknownWorkflow, workflowID, strings.Join(ids, ", "))
	}
	if inputs == nil {
		inputs = map[string]any{}
	}
	if w.Inputs != nil {
		inputs = w.Inputs.ApplyDefaults(inputs)
		if err := w.Inputs.Validate(inputs); err != nil {
			return nil, nil, err
		}
	}
	return w, inputs, nil
}

func errString(e *RunError) string {
	if e == nil {
		return ""
	}
	return e.Error()
}

// run is the state of one execution of a plan.
type run struct {
	plan        *Plan
	opts        Options
	wfInputs    map[string]map[string]any
	wfOutputs   map[string]map[string]any
	done        map[*Workflow]string // workflows completed in this run, with their status
	callers     map[*SourceRef]Caller
	noticed     map[string]bool
	servers     map[serverKey]string // base URLs worked out in this run
	secrets     *strings.Replacer    // masks secret values in events and errors
	executions  int
	stepResults []*StepResult
	stepIndex   map[*Step]*StepResult
}

func newRun(p *Plan, o *Options) *run {
	r := &run{plan: p, wfInputs: map[string]map[string]any{}, wfOutputs: map[string]map[string]any{},
		done: map[*Workflow]string{}, stepIndex: map[*Step]*StepResult{}, noticed: map[string]bool{}}
	if o != nil {
		r.opts = *o
	}
	if r.opts.Caller == nil {
		t := r.opts.RequestTimeout
		if t <= 0 {
			t = DefaultRequestTimeout
		}
		r.opts.Caller = NewHTTPClient(t)
	}
	if r.opts.PollInterval == 0 {
		r.opts.PollInterval = DefaultPollInterval
	}
	if r.opts.MaxSteps <= 0 {
		r.opts.MaxSteps = DefaultMaxSteps
	}
	if r.opts.MaxResponseBytes <= 0 {
		r.opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if r.opts.Sleep == nil {
		r.opts.Sleep = Sleep
	}
	if r.opts.Now == nil {
		r.opts.Now = time.Now
	}
	return r
}

// NewHTTPClient is the default caller: a per-request timeout, and redirects
// followed only to the same host, so credentials and signatures never
// travel to another server. A cross-host redirect comes back to the
// workflow as the 3xx response it is.
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

// observed reports whether anyone listens, so costly event payloads are
// built only then.
func (r *run) observed() bool { return len(r.opts.Observers) > 0 }

// emit is small enough to inline, so with no observer an event costs
// nothing: deliver, which the event escapes into, is never reached.
func (r *run) emit(e Event) {
	if len(r.opts.Observers) > 0 {
		r.deliver(e)
	}
}

func (r *run) deliver(e Event) {
	e.Time = r.opts.Now()
	e = redactEvent(r.secrets, e)
	for _, o := range r.opts.Observers {
		o.OnEvent(e)
	}
}

// wfOutcome is how a workflow ended.
type wfOutcome struct {
	status  string
	outputs map[string]any
	err     *RunError
	last    *exchange // the last HTTP exchange, for a parent step's criteria
}

// workflow runs w with inputs: dependencies first, then its steps.
func (r *run) workflow(ctx context.Context, w *Workflow, inputs map[string]any) wfOutcome {
	for _, d := range w.DependsOn {
		st, ran := r.done[d]
		if !ran {
			out := r.workflow(ctx, d, r.inputsFor(d))
			st = out.status
		}
		if st != Succeeded {
			return wfOutcome{status: Failed, err: &RunError{WorkflowID: w.ID, Message: fmt.Sprintf("dependency %s failed, so %s did not run", d.ID, w.ID)}}
		}
	}
	r.emit(Event{Kind: WorkflowStarted, WorkflowID: w.ID})
	r.wfInputs[w.ID] = inputs
	f := &frame{run: r, w: w, inputs: inputs, steps: map[string]map[string]any{}, visits: map[*Step]int{}}
	out := r.steps(ctx, f)
	if out.outputs == nil {
		out.outputs = f.evalOutputs(w.Outputs)
	}
	if out.last == nil {
		out.last = f.last
	}
	r.wfOutputs[w.ID] = out.outputs
	r.done[w] = out.status
	r.emit(Event{Kind: WorkflowFinished, WorkflowID: w.ID, Status: out.status, Outputs: out.outputs, Err: errString(out.err)})
	return out
}

func (r *run) inputsFor(w *Workflow) map[string]any {
	in := map[string]any{}
	for k, v := range r.opts.WorkflowInputs[w.ID] {
		in[k] = v
	}
	if w.Inputs != nil {
		in = w.Inputs.ApplyDefaults(in)
	}
	return in
}

// transition is the state machine's decision after a step.
type transition struct {
	kind   string // next, end, goto-step, goto-workflow, retry, fail
	action *Action
	wait   time.Duration
}

// steps is the interpreter loop: run the step at pc, decide, move.
func (r *run) steps(ctx context.Context, f *frame) wfOutcome {
	w := f.w
	pc := 0
	for pc < len(w.Steps) {
		s := w.Steps[pc]
		f.visits[s]++
		var retries map[*Action]int // made on the first retry of this visit
		attempt := 0
		for {
			attempt++
			if err := ctx.Err(); err != nil {
				return f.fail(s, attempt, nil, ctxMessage(err, s))
			}
			r.executions++
			if r.executions > r.opts.MaxSteps {
				return f.fail(s, attempt, nil, fmt.Sprintf("stopped after %d step executions: step %s keeps running (raise the limit with --max-steps)", r.opts.MaxSteps, s.ID))
			}
			res := f.execute(ctx, s, attempt)
			if err := ctx.Err(); err != nil && res.transport != nil {
				return f.fail(s, attempt, res.ex, ctxMessage(err, s))
			}
			t := f.decide(s, res, &retries)
			r.emit(Event{Kind: ActionTaken, WorkflowID: w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: attempt,
				Action: actionName(t.action), ActionType: t.kind, Target: actionTarget(t.action), Wait: t.wait})
			switch t.kind {
			case "next":
				pc++
			case "end", "fail":
				if t.kind == "end" && res.ok {
					return wfOutcome{status: Succeeded}
				}
				return f.fail(s, attempt, res.ex, res.message())
			case "goto-step":
				target := t.action.Step
				if f.visits[target] > 0 {
					// Re-entering a step is a poll: wait before it.
					wait := r.opts.PollInterval
					if ra, ok := retryAfter(res.ex, r.opts.Now()); ok {
						wait = ra
					}
					if err := r.wait(ctx, w, target, wait, "poll"); err != nil {
						return f.fail(s, attempt, res.ex, ctxMessage(err, s))
					}
				}
				pc = target.Index
			case "goto-workflow":
				target := t.action.TargetWorkflow
				out := r.workflow(ctx, target, r.inputsFor(target))
				// A one-way transfer: this workflow ends with the target's
				// status; its own outputs come from what ran.
				return wfOutcome{status: out.status, err: out.err, last: out.last}
			case "retry":
				if err := r.wait(ctx, w, s, t.wait, "retry"); err != nil {
					return f.fail(s, attempt, res.ex, ctxMessage(err, s))
				}
				if a := t.action; a.Step != nil || a.TargetWorkflow != nil {
					if out, ok := f.runRetryTarget(ctx, a); !ok {
						return out
					}
				}
				continue
			}
			break
		}
	}
	return wfOutcome{status: Succeeded}
}

// wait sleeps before step s is run again (a poll or a retry), as an event.
func (r *run) wait(ctx context.Context, w *Workflow, s *Step, d time.Duration, reason string) error {
	if d <= 0 {
		return nil
	}
	r.emit(Event{Kind: Waiting, WorkflowID: w.ID, StepID: s.ID, Wait: d, Message: reason})
	return r.opts.Sleep(ctx, d)
}

func ctxMessage(err error, s *Step) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("the run timed out in step %s", s.ID)
	}
	return fmt.Sprintf("the run was cancelled in step %s", s.ID)
}

func actionName(a *Action) string {
	if a == nil {
		return ""
	}
	return a.Name
}

func actionTarget(a *Action) string {
	switch {
	case a == nil:
		return ""
	case a.Step != nil:
		return a.Step.ID
	case a.TargetWorkflow != nil:
		return a.TargetWorkflow.ID
	}
	return ""
}

// decide picks the transition after a step's outcome: the first matching
// action of the effective list, with retries counted per action.
func (f *frame) decide(s *Step, res *stepOutcome, retries *map[*Action]int) transition {
	list := s.OnSuccess
	if !res.ok {
		list = s.OnFailure
	}
	for _, a := range list {
		if !f.matches(s, a) {
			continue
		}
		switch a.Type {
		case "end":
			return transition{kind: "end", action: a}
		case "goto":
			if a.Step != nil {
				return transition{kind: "goto-step", action: a}
			}
			if a.TargetWorkflow != nil {
				return transition{kind: "goto-workflow", action: a}
			}
		case "retry":
			if *retries == nil {
				*retries = map[*Action]int{}
			}
			if (*retries)[a] >= a.RetryLimit {
				continue // exhausted: the next matching action is tried
			}
			(*retries)[a]++
			wait := time.Duration(a.RetryAfter * float64(time.Second))
			if ra, ok := retryAfter(res.ex, f.run.opts.Now()); ok {
				wait = ra
			}
			return transition{kind: "retry", action: a, wait: wait}
		}
	}
	if res.ok {
		return transition{kind: "next"}
	}
	return transition{kind: "fail"}
}

func (f *frame) matches(s *Step, a *Action) bool {
	for _, c := range a.Criteria {
		pass, err := c.Eval(f)
		if f.run.observed() {
			f.run.emit(Event{Kind: CriterionEvaluated, WorkflowID: f.w.ID, StepID: s.ID, Action: a.Name, Criterion: c.Spec.Condition, Passed: pass, Err: errText(err), Message: c.Describe()})
		}
		if !pass {
			return false
		}
	}
	return true
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// runRetryTarget runs a retry action's step or workflow, then returns so
// the failed step is tried again. ok is false when the target failed.
func (f *frame) runRetryTarget(ctx context.Context, a *Action) (wfOutcome, bool) {
	if a.TargetWorkflow != nil {
		out := f.run.workflow(ctx, a.TargetWorkflow, f.run.inputsFor(a.TargetWorkflow))
		if out.status != Succeeded {
			return wfOutcome{status: Failed, err: out.err}, false
		}
		return wfOutcome{}, true
	}
	t := a.Step
	f.visits[t]++
	f.run.executions++
	res := f.execute(ctx, t, 1)
	if !res.ok {
		return f.fail(t, 1, res.ex, res.message()), false
	}
	return wfOutcome{}, true
}

// fail ends the workflow with an error about step s.
func (f *frame) fail(s *Step, attempt int, ex *exchange, msg string) wfOutcome {
	e := &RunError{WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Message: msg}
	if ex != nil && ex.hasStatus {
		e.StatusCode = ex.status
		e.BodyExcerpt = excerpt(ex.respBody, excerptBytes)
	}
	return wfOutcome{status: Failed, err: e}
}

// excerpt shortens a body for an error message.
func excerpt(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// retryAfter reads a Retry-After header: delta-seconds or an HTTP date.
func retryAfter(ex *exchange, now time.Time) (time.Duration, bool) {
	if ex == nil || ex.respHeader == nil {
		return 0, false
	}
	v := strings.TrimSpace(ex.respHeader.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// stepOutcome is the result of one execution of a step.
type stepOutcome struct {
	ok        bool
	ex        *exchange
	transport error     // the request could not be completed
	prep      error     // the request could not be built
	callee    *RunError // a called workflow's failure
	failedOn  string    // the criterion that failed
}

func (o *stepOutcome) message() string {
	var msg string
	switch {
	case o.prep != nil:
		return o.prep.Error()
	case o.transport != nil:
		return o.transport.Error()
	case o.callee != nil:
		return "called workflow failed: " + o.callee.Error()
	case o.failedOn != "":
		msg = "success criterion not met: " + o.failedOn
	default:
		msg = "step failed"
	}
	// An error response says why in its body: put that first.
	if o.ex != nil && o.ex.hasStatus && o.ex.status >= 400 {
		head := fmt.Sprintf("status %d", o.ex.status)
		if code, text := ErrorSummary(o.ex.respHeader, o.ex.respBody); code != "" || text != "" {
			head += " (" + strings.TrimSuffix(strings.TrimPrefix(code+": "+text, ": "), ": ") + ")"
		}
		return head + "; " + msg
	}
	if o.failedOn == "" && o.ex != nil && o.ex.hasStatus {
		return fmt.Sprintf("unexpected status %d", o.ex.status)
	}
	return msg
}

// execute runs one attempt of a step and records its outputs.
func (f *frame) execute(ctx context.Context, s *Step, attempt int) *stepOutcome {
	r := f.run
	r.emit(Event{Kind: StepStarted, WorkflowID: f.w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: attempt})
	start := r.opts.Now()
	var res *stepOutcome
	if s.Callee != nil {
		res = f.callWorkflow(ctx, s)
	} else {
		res = f.callOperation(ctx, s, attempt)
	}
	f.current = res.ex
	f.last = res.ex
	clear(f.memo)
	if res.prep == nil && res.transport == nil && res.callee == nil {
		res.ok = true
		if len(s.Success) == 0 {
			if s.Callee == nil {
				res.ok = res.ex.status >= 200 && res.ex.status < 300
			}
		}
		for _, c := range s.Success {
			pass, err := c.Eval(f)
			if r.observed() {
				r.emit(Event{Kind: CriterionEvaluated, WorkflowID: f.w.ID, StepID: s.ID, Criterion: c.Spec.Condition, Passed: pass, Err: errText(err), Message: c.Describe()})
			}
			if !pass {
				res.ok = false
				res.failedOn = c.Spec.Condition
				if err != nil {
					res.failedOn += " (" + err.Error() + ")"
				}
				break
			}
		}
	}
	// Outputs are set whenever there is something to read them from.
	if res.ex != nil || s.Callee != nil {
		f.steps[s.ID] = f.evalOutputs(s.Outputs)
	}
	f.record(s, res)
	status := Succeeded
	if !res.ok {
		status = Failed
	}
	ev := Event{Kind: StepFinished, WorkflowID: f.w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: attempt, Status: status,
		Duration: r.opts.Now().Sub(start), Outputs: f.steps[s.ID]}
	if !res.ok {
		ev.Err = res.message()
	}
	r.emit(ev)
	f.calleeOutputs = nil
	return res
}

func (f *frame) record(s *Step, res *stepOutcome) {
	sr := f.run.stepIndex[s]
	if sr == nil {
		sr = &StepResult{WorkflowID: f.w.ID, StepID: s.ID}
		f.run.stepIndex[s] = sr
		f.run.stepResults = append(f.run.stepResults, sr)
	}
	sr.Runs++
	sr.StatusCode = 0
	if res.ex != nil && res.ex.hasStatus {
		sr.StatusCode = res.ex.status
	}
	sr.Outcome, sr.Error = Succeeded, ""
	if !res.ok {
		sr.Outcome, sr.Error = Failed, res.message()
	}
}

// callWorkflow runs a workflowId step: parameters become the callee's inputs.
func (f *frame) callWorkflow(ctx context.Context, s *Step) *stepOutcome {
	in := map[string]any{}
	for _, p := range s.Params {
		if v, ok := p.Value.Eval(f); ok {
			in[p.Name] = v
		}
	}
	callee := s.Callee
	if callee.Inputs != nil {
		in = callee.Inputs.ApplyDefaults(in)
		if err := callee.Inputs.Validate(in); err != nil {
			return &stepOutcome{prep: fmt.Errorf("inputs for workflow %s: %v", callee.ID, err)}
		}
	}
	out := f.run.workflow(ctx, callee, in)
	f.calleeOutputs = out.outputs
	res := &stepOutcome{ex: out.last}
	if out.status != Succeeded {
		res.callee = out.err
		if res.callee == nil {
			res.callee = &RunError{WorkflowID: callee.ID, Message: "failed"}
		}
	}
	return res
}

// callOperation builds, sends and reads one HTTP request.
func (f *frame) callOperation(ctx context.Context, s *Step, attempt int) *stepOutcome {
	r := f.run
	br, err := r.buildRequest(s, f)
	if err != nil {
		return &stepOutcome{prep: err}
	}
	for _, n := range br.notices {
		// Once per step and run: a poll would otherwise repeat it each visit.
		if key := s.ID + "\x00" + n; !r.noticed[key] {
			r.noticed[key] = true
			r.emit(Event{Kind: Notice, WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Message: n})
		}
	}
	ex := &exchange{req: br}
	var body io.Reader
	if br.hasBody {
		body = bytes.NewReader(br.body)
	}
	if r.observed() {
		ctx = WithReporter(ctx, func(e Event) {
			e.WorkflowID, e.StepID = f.w.ID, s.ID
			if e.Kind == "" {
				e.Kind = Notice
			}
			r.emit(e)
		})
	}
	req, err := http.NewRequestWithContext(ctx, br.method, br.url, body)
	if err != nil {
		return &stepOutcome{prep: fmt.Errorf("cannot build the request: %v", err), ex: ex}
	}
	req.Header = br.header // built for this request alone; $request.header reads it too
	if r.observed() {
		r.emit(Event{Kind: RequestSent, WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt,
			Request: &RequestInfo{Method: br.method, URL: br.url, Header: redactHeader(req.Header), Body: capBytes(br.body, eventBodyBytes)}})
	}
	start := r.opts.Now()
	resp, err := r.callerFor(s).Do(req)
	if err != nil {
		return &stepOutcome{transport: fmt.Errorf("%s %s: %v", br.method, br.url, unwrapURLError(err)), ex: ex}
	}
	defer resp.Body.Close()
	data, err := readBody(resp, r.opts.MaxResponseBytes+1)
	ex.status, ex.hasStatus, ex.respHeader = resp.StatusCode, true, resp.Header
	if err != nil {
		ex.respBody = data
		return &stepOutcome{transport: fmt.Errorf("reading the response of %s %s: %v", br.method, br.url, unwrapURLError(err)), ex: ex}
	}
	if int64(len(data)) > r.opts.MaxResponseBytes {
		ex.respBody = data[:excerptBytes]
		return &stepOutcome{transport: fmt.Errorf("the response body of %s %s is larger than the %d-byte limit", br.method, br.url, r.opts.MaxResponseBytes), ex: ex}
	}
	ex.respBody = data
	if r.observed() {
		r.emit(Event{Kind: ResponseReceived, WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Duration: r.opts.Now().Sub(start),
			Response: &ResponseInfo{StatusCode: resp.StatusCode, Header: redactHeader(resp.Header), Body: capBytes(data, eventBodyBytes), Truncated: len(data) > eventBodyBytes}})
	}
	if msg := ex.parseBody(); msg != "" {
		r.emit(Event{Kind: Notice, WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Message: msg})
	}
	return &stepOutcome{ex: ex}
}

// callerFor returns the step's source's caller, decorated once per run.
func (r *run) callerFor(s *Step) Caller {
	if r.opts.Decorate == nil {
		return r.opts.Caller
	}
	ref := s.Source
	if c, ok := r.callers[ref]; ok {
		return c
	}
	if r.callers == nil {
		r.callers = map[*SourceRef]Caller{}
	}
	c := r.opts.Decorate(ref, r.opts.Caller)
	r.callers[ref] = c
	return c
}

// readBody reads at most limit bytes; a body of known length is read into
// one buffer of exactly that size.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n < limit {
		buf := make([]byte, n)
		m, err := io.ReadFull(resp.Body, buf)
		return buf[:m], err
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

func capBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the
// method and URL that our own message already gives.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
