package engine

// The state machine. It decides what happens after each step from the
// step's outcome (success criteria, then the first matching success or
// failure action) and keeps what later expressions can read. Performing a
// step is the step kind's business (operation.go, call.go): nothing in this
// file sends a request, reads a clock or imports net/http (a test checks),
// so the same decisions can be replayed from a recorded run.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arazzo-go/arazzo/expr"
)

// performer is a kind of step: it does what the step describes and
// reports the outcome; the state machine decides what follows.
type performer interface {
	perform(ctx context.Context, f *frame, s *Step, attempt int) *stepOutcome
}

// stepOutcome is the result of one execution of a step.
type stepOutcome struct {
	ok  bool
	err error     // why the step failed (see errors.go); nil when ok
	ex  *exchange // the HTTP exchange expressions read, if any
	// retryAfter is the wait the response asked for (Retry-After).
	retryAfter    time.Duration
	hasRetryAfter bool
	// interrupted: the step could not complete because ctx ended.
	interrupted bool
	// violations are the contract checks the exchange failed (check.go).
	violations []Violation
	// stop ends the run: nothing for actions to decide (durable.go).
	stop error
	// events are reported when the outcome is recorded: a step that waited
	// in the background reports on the run's goroutine.
	events []Event
	// after, when set, runs when the outcome is recorded, before the
	// criteria, on the run's goroutine (a received message's checks); its
	// error fails the step.
	after func(f *frame) error
}

// Run runs one workflow of the plan. It returns an error without a result
// when nothing could be sent (an unknown workflow, invalid inputs, a
// Preparer middleware's objection such as a missing credential). When the
// workflow fails, the result says so and the error is its *RunError.
func (p *Plan) Run(ctx context.Context, workflowID string, inputs map[string]any, opts *Options) (*Result, error) {
	w, inputs, notes, err := p.prepare(workflowID, inputs)
	if err != nil {
		return nil, err
	}
	if w.refusal != nil {
		return nil, w.refusal
	}
	r := newRun(p, opts, w, inputs)
	if err := r.prepare(ctx, w, inputs); err != nil {
		return nil, err
	}
	if r.durable != nil && r.opts.resume != nil {
		r.restoreRun(r.opts.resume)
	}
	if r.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
	}
	r.emit(Event{Kind: RunStarted, WorkflowID: w.ID})
	for _, n := range notes {
		r.emit(Event{Kind: Notice, WorkflowID: w.ID, Message: n})
	}
	out := r.workflow(ctx, w, inputs)
	r.closeBrokers()
	r.redact.Error(out.err)
	for _, sr := range r.stepResults {
		sr.Error = r.redact.String(sr.Error)
	}
	r.finish(out, out.outputs)
	outputs, _ := r.redact.Value(out.outputs).(map[string]any)
	res := &Result{WorkflowID: w.ID, Status: out.status, Outputs: outputs, Steps: r.stepResults, Error: out.err, Notices: r.notices}
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
// defaults applied: what must hold before anything is sent. notes say which
// inputs were converted to their declared type.
func (p *Plan) prepare(workflowID string, inputs map[string]any) (*Workflow, map[string]any, []string, error) {
	w := p.Workflow(workflowID)
	if w == nil {
		var ids []string
		for _, x := range p.Workflows {
			ids = append(ids, x.ID)
		}
		return nil, nil, nil, fmt.Errorf("%w %q: this document has %s", ErrUnknownWorkflow, workflowID, strings.Join(ids, ", "))
	}
	if err := p.refusal(w); err != nil {
		return nil, nil, nil, err
	}
	inputs, notes, err := w.checkInputs(inputs)
	if err != nil {
		return nil, nil, nil, err
	}
	return w, inputs, notes, nil
}

// checkInputs converts values close to their declared type, applies the
// schema's defaults and validates: what every entry into a workflow does,
// whether run, called, depended on, or gone to.
func (w *Workflow) checkInputs(inputs map[string]any) (map[string]any, []string, error) {
	if inputs == nil {
		inputs = map[string]any{}
	}
	if w.Inputs == nil {
		return inputs, nil, nil
	}
	inputs, notes := w.Inputs.Coerce(inputs)
	inputs = w.Inputs.ApplyDefaults(inputs)
	if err := w.Inputs.Validate(inputs); err != nil {
		// A schema error quotes the value: mask the secret ones.
		return nil, notes, newRedactor(secretValues(w, inputs, nil)).inputError(err)
	}
	return inputs, notes, nil
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
	redact      *redactor // masks secret values in events and errors
	wfInputs    map[string]map[string]any
	wfOutputs   map[string]map[string]any
	done        map[*Workflow]Status // workflows completed in this run
	calls       []string             // the workflows being run, outermost first
	executions  int
	stepResults []*StepResult
	stepIndex   map[*Step]*StepResult
	noticed     map[noticeKey]bool
	notices     []StepNotice
	dry         bool // a dry run: step outputs are placeholders
	durable     *durable
	// Per source, worked out once per run (operation.go).
	callers map[*SourceRef]Caller
	servers map[serverKey]string
	brokers brokers // AsyncAPI connections and subscriptions (messaging.go)
	// Per step: its last request check (check.go).
	checked map[*Step]*requestMemo
}

func newRun(p *Plan, o *Options, w *Workflow, inputs map[string]any) *run {
	r := &run{plan: p, wfInputs: map[string]map[string]any{}, wfOutputs: map[string]map[string]any{},
		done: map[*Workflow]Status{}, stepIndex: map[*Step]*StepResult{}, noticed: map[noticeKey]bool{}}
	if o != nil {
		r.opts = *o
	}
	r.opts = r.opts.withDefaults()
	r.redact = newRedactor(secretValues(w, inputs, r.opts.Secrets))
	r.durable = newDurable(&r.opts, w, inputs)
	return r
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
	e = r.redact.Event(e)
	for _, o := range r.opts.Observers {
		o.OnEvent(e)
	}
}

// notice emits a warning once per step and run: a poll would otherwise
// repeat it on every visit.
type noticeKey struct {
	w   *Workflow
	s   *Step
	msg string
}

func (r *run) notice(f *frame, s *Step, attempt int, msg string) {
	key := noticeKey{f.w, s, msg}
	if !r.noticed[key] {
		r.noticed[key] = true
		if len(r.notices) < maxNotices {
			r.notices = append(r.notices, StepNotice{WorkflowID: f.w.ID, StepID: s.ID, Message: r.redact.String(msg)})
		}
		r.emit(Event{Kind: Notice, WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Message: msg})
	}
}

// wfOutcome is how a workflow ended.
type wfOutcome struct {
	status  Status
	outputs map[string]any
	err     *RunError
	last    *exchange // the last HTTP exchange, for a parent step's criteria
}

// workflow runs w with inputs: dependencies first, then its steps.
func (r *run) workflow(ctx context.Context, w *Workflow, inputs map[string]any) wfOutcome {
	if len(r.calls) >= r.opts.MaxDepth {
		return wfOutcome{status: Failed, err: &RunError{WorkflowID: w.ID, Err: ErrDepthLimit,
			Message: fmt.Sprintf("workflow calls nest deeper than %d: %s", r.opts.MaxDepth, callChain(append(r.calls, w.ID)))}}
	}
	r.calls = append(r.calls, w.ID)
	defer func() { r.calls = r.calls[:len(r.calls)-1] }()
	for _, d := range w.DependsOn {
		st, ran := r.done[d]
		var derr *RunError
		if !ran {
			out := r.enterWorkflow(ctx, d, inputs)
			st, derr = out.status, out.err
		}
		if st != Succeeded {
			cause := &DependencyError{WorkflowID: d.ID, Err: derr}
			msg := fmt.Sprintf("dependency %s failed, so %s did not run", d.ID, w.ID)
			if derr != nil {
				msg += ": " + derr.Message
			}
			return wfOutcome{status: Failed, err: &RunError{WorkflowID: w.ID, Err: cause, Message: msg}}
		}
	}
	r.emit(Event{Kind: WorkflowStarted, WorkflowID: w.ID})
	r.wfInputs[w.ID] = inputs
	f := newFrame(r, w, inputs)
	if err := r.enter(f); err != nil {
		return wfOutcome{status: Failed, err: &RunError{WorkflowID: w.ID, Message: err.Error(), Err: err}}
	}
	// Step kinds with work at workflow start (a receive subscribes, so
	// the message an earlier step triggers is not missed).
	stop, failed, err := r.startSteps(ctx, f)
	var out wfOutcome
	if err != nil {
		out = f.fail(failed, 1, nil, err)
	} else {
		out = r.steps(ctx, f)
	}
	stop()
	r.leave(f)
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

// callChain shows a chain of workflow calls, its middle elided when long.
func callChain(ids []string) string {
	if len(ids) > 8 {
		ids = append(append(append([]string{}, ids[:3]...), "…"), ids[len(ids)-3:]...)
	}
	return strings.Join(ids, " → ")
}

// inputsFor is what a workflow entered by dependsOn, goto or retry gets:
// the entering workflow's inputs whose names it declares, overridden by
// the inputs given for it by id (Options.WorkflowInputs).
func (r *run) inputsFor(w *Workflow, from map[string]any) map[string]any {
	in := map[string]any{}
	if w.Inputs != nil {
		props, _ := w.Inputs.Properties()
		for k, v := range from {
			if _, declared := props[k]; declared {
				in[k] = v
			}
		}
	}
	for k, v := range r.opts.WorkflowInputs[w.ID] {
		in[k] = v
	}
	return in
}

// enterWorkflow runs w, entered by dependsOn, goto or retry from a workflow whose
// inputs are from, after checking its inputs as Run does.
func (r *run) enterWorkflow(ctx context.Context, w *Workflow, from map[string]any) wfOutcome {
	in, notes, err := w.checkInputs(r.inputsFor(w, from))
	for _, n := range notes {
		r.emit(Event{Kind: Notice, WorkflowID: w.ID, Message: n})
	}
	if err != nil {
		r.done[w] = Failed
		return wfOutcome{status: Failed, err: &RunError{WorkflowID: w.ID, Err: err,
			Message: fmt.Sprintf("workflow %s was entered with invalid inputs: %v (give them in the inputs for %s)", w.ID, err, w.ID)}}
	}
	return r.workflow(ctx, w, in)
}

// enterTarget runs the workflow a goto or retry action names: with the
// action's parameters as its inputs when it has them (Arazzo 1.1), else
// with the caller's inputs whose names it declares.
func (f *frame) enterTarget(ctx context.Context, a *Action) wfOutcome {
	if len(a.Params) == 0 {
		return f.run.enterWorkflow(ctx, a.TargetWorkflow, f.inputs)
	}
	in, err := f.targetInputs(a)
	if err != nil {
		return wfOutcome{status: Failed, err: &RunError{WorkflowID: f.w.ID, Message: err.Error(), Err: err}}
	}
	return f.run.workflow(ctx, a.TargetWorkflow, in)
}

// steps is the interpreter loop: run the step at pc, decide, move.
func (r *run) steps(ctx context.Context, f *frame) wfOutcome {
	w := f.w
	pc := f.pc // 0, or where a resumed run stopped
	defer f.dropBackground()
	for pc < len(w.order) {
		s := w.order[pc]
		if s.background && f.bg[s] == nil {
			// A receive a later step depends on: it waits in the
			// background and is joined where that step needs it.
			f.visits[s]++
			r.executions++
			f.startBackground(ctx, s)
			pc++
			continue
		}
		for _, d := range s.After {
			if f.bg[d] != nil {
				if out, ok := f.join(ctx, d); !ok {
					return out
				}
			}
		}
		if d := f.run.pending(s); d != "" {
			return f.fail(s, 1, nil, &StepDependencyError{StepID: s.ID, Dependency: d})
		}
		var retries map[*Action]int // made on the first retry of this visit
		attempt := 0
		if f.resumed {
			// Back in the middle of a visit: its count and retries are restored.
			f.resumed, retries, attempt = false, f.retries, f.attempt-1
		} else {
			f.visits[s]++
		}
		for {
			attempt++
			if err := ctx.Err(); err != nil {
				return f.fail(s, attempt, nil, &StoppedError{StepID: s.ID, Err: err})
			}
			if err := r.checkpoint(f, pc, attempt, retries); err != nil {
				return f.fail(s, attempt, nil, err)
			}
			r.executions++
			if r.executions > r.opts.MaxSteps {
				return f.fail(s, attempt, nil, &StepLimitError{Limit: r.opts.MaxSteps, StepID: s.ID})
			}
			res := f.execute(ctx, s, attempt)
			if res.stop != nil {
				return f.fail(s, attempt, res.ex, res.stop)
			}
			if err := ctx.Err(); err != nil && res.interrupted {
				return f.fail(s, attempt, res.ex, &StoppedError{StepID: s.ID, Err: err})
			}
			t, a, wait := f.decide(s, res, &retries)
			r.emit(Event{Kind: ActionTaken, WorkflowID: w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: attempt,
				Action: actionName(a), Transition: t, Target: actionTarget(a), Wait: wait})
			switch t {
			case Next:
				pc++
			case EndWorkflow, Fail:
				if t == EndWorkflow && res.ok {
					return wfOutcome{status: Succeeded}
				}
				return f.fail(s, attempt, res.ex, res.err)
			case GotoStep:
				if f.visits[a.Step] > 0 {
					// Re-entering a step is a poll: wait before it.
					wait := r.opts.PollInterval
					if res.hasRetryAfter {
						wait = res.retryAfter
					}
					if err := r.wait(ctx, w, a.Step, wait, "poll"); err != nil {
						return f.fail(s, attempt, res.ex, &StoppedError{StepID: s.ID, Err: err})
					}
				}
				pc = a.Step.pos
			case GotoWorkflow:
				out := f.enterTarget(ctx, a)
				// A one-way transfer: this workflow ends with the target's
				// status; its own outputs come from what ran.
				return wfOutcome{status: out.status, err: out.err, last: out.last}
			case RetryStep:
				if err := r.wait(ctx, w, s, wait, "retry"); err != nil {
					return f.fail(s, attempt, res.ex, &StoppedError{StepID: s.ID, Err: err})
				}
				if a.Step != nil || a.TargetWorkflow != nil {
					if out, ok := f.runRetryTarget(ctx, a); !ok {
						return out
					}
				}
				continue
			}
			break
		}
	}
	// Background steps nothing joined still decide the outcome.
	for _, s := range w.order {
		if f.bg[s] != nil {
			if out, ok := f.join(ctx, s); !ok {
				return out
			}
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
func (f *frame) decide(s *Step, res *stepOutcome, retries *map[*Action]int) (Transition, *Action, time.Duration) {
	list := s.OnSuccess
	if !res.ok {
		list = s.OnFailure
	}
	for _, a := range list {
		if !f.matches(s, a) {
			continue
		}
		switch a.Type {
		case End:
			return EndWorkflow, a, 0
		case Goto:
			if a.Step != nil {
				return GotoStep, a, 0
			}
			if a.TargetWorkflow != nil {
				return GotoWorkflow, a, 0
			}
		case Retry:
			if *retries == nil {
				*retries = map[*Action]int{}
			}
			if (*retries)[a] >= a.RetryLimit {
				continue // exhausted: the next matching action is tried
			}
			(*retries)[a]++
			wait := time.Duration(a.RetryAfter * float64(time.Second))
			if res.hasRetryAfter {
				wait = res.retryAfter
			}
			return RetryStep, a, wait
		}
	}
	if res.ok {
		if len(list) > 0 {
			f.run.notice(f, s, 0, fellThrough(f, list))
		}
		return Next, nil, 0
	}
	return Fail, nil, 0
}

// fellThrough says that a step's success actions all missed, so the run
// goes on in document order (as the specification says), with what their
// criteria looked at: a poll loop that ends on a status it did not expect
// (a FAILED job) is then visible.
func fellThrough(f *frame, list []*Action) string {
	var seen []string
	has := map[string]bool{}
	for _, a := range list {
		for _, c := range a.Criteria {
			if o := c.Observed(f); o != "" && !has[o] {
				has[o] = true
				seen = append(seen, o)
			}
		}
	}
	if len(seen) == 0 {
		return "no onSuccess action matched; going on to the next step"
	}
	return "no onSuccess action matched (" + strings.Join(seen, "; ") + "); going on to the next step"
}

func (f *frame) matches(s *Step, a *Action) bool {
	for _, c := range a.Criteria {
		pass, err := c.Eval(f)
		f.selectedNothing(s, 0, err)
		if f.run.observed() {
			f.run.emit(Event{Kind: CriterionEvaluated, WorkflowID: f.w.ID, StepID: s.ID, Action: a.Name, Criterion: c.Spec.Condition, Passed: pass, Err: errText(err), Message: c.Describe()})
		}
		if !pass {
			return false
		}
	}
	return true
}

// selectedNothing reports, once per step and run, a criterion whose path
// selected nothing: a condition that is false for want of data is a
// document or API problem a user must see, not a silent false.
func (f *frame) selectedNothing(s *Step, attempt int, err error) {
	if err != nil && errors.Is(err, expr.ErrNothingSelected) {
		f.run.notice(f, s, attempt, "criterion: "+err.Error())
	}
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
		out := f.enterTarget(ctx, a)
		if out.status != Succeeded {
			return wfOutcome{status: Failed, err: out.err}, false
		}
		return wfOutcome{}, true
	}
	t := a.Step
	f.visits[t]++
	f.run.executions++
	res := f.execute(ctx, t, 1)
	if res.stop != nil {
		return f.fail(t, 1, res.ex, res.stop), false
	}
	if !res.ok {
		return f.fail(t, 1, res.ex, res.err), false
	}
	return wfOutcome{}, true
}

// fail ends the workflow with an error about step s.
func (f *frame) fail(s *Step, attempt int, ex *exchange, cause error) wfOutcome {
	if cause == nil {
		cause = errors.New("step failed")
	}
	e := &RunError{WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Message: cause.Error(), Err: cause}
	if code, ok := ex.statusCode(); ok {
		e.StatusCode = code
		e.BodyExcerpt = ex.excerpt()
		e.Message = messageBesideStatus(cause)
	}
	return wfOutcome{status: Failed, err: e}
}

// execute performs one attempt of a step, checks its success criteria and
// records its outputs.
func (f *frame) execute(ctx context.Context, s *Step, attempt int) *stepOutcome {
	r := f.run
	r.emit(Event{Kind: StepStarted, WorkflowID: f.w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: attempt})
	start := r.opts.Now()
	return f.finish(s, attempt, start, s.perform.perform(ctx, f, s, attempt))
}

// finish checks a performed step's success criteria, records its outputs
// and reports it.
func (f *frame) finish(s *Step, attempt int, start time.Time, res *stepOutcome) *stepOutcome {
	r := f.run
	if res.stop != nil {
		return res // a durable run stops here: nothing for actions to decide
	}
	for _, e := range res.events {
		r.emit(e)
	}
	if res.after != nil {
		if err := res.after(f); err != nil && res.err == nil {
			res.err = err
		}
	}
	f.current = res.ex
	f.last = res.ex
	clear(f.memo)
	if res.err == nil {
		res.ok = true
		if len(s.Success) == 0 && s.Kind == OperationStep {
			if se := res.ex.failedStatus(s, true); se != nil {
				res.ok, res.err = false, se
			}
		}
		for _, c := range s.Success {
			pass, err := c.Eval(f)
			f.selectedNothing(s, attempt, err)
			if r.observed() {
				r.emit(Event{Kind: CriterionEvaluated, WorkflowID: f.w.ID, StepID: s.ID, Criterion: c.Spec.Condition, Passed: pass, Err: errText(err), Message: c.Describe()})
			}
			if !pass {
				res.ok = false
				res.err = &CriterionError{Condition: c.Spec.Condition, File: c.File, Line: c.Pos.Line, Column: c.Pos.Col,
					Err: err, Response: res.ex.failedStatus(s, false)}
				break
			}
		}
	}
	// Outputs are set whenever there is something to read them from.
	if res.ex != nil || s.Kind == WorkflowStep {
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
		ev.Err = errText(res.err)
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
	f.recorded++
	if f.skipRecords > 0 {
		f.skipRecords-- // a resumed run performs it again: counted already
	} else {
		sr.Runs++
		for _, v := range res.violations {
			if len(sr.Checks) < maxStepViolations {
				sr.Checks = append(sr.Checks, v)
			}
		}
	}
	sr.StatusCode, _ = res.ex.statusCode()
	sr.Outcome, sr.Error = Succeeded, ""
	if !res.ok {
		sr.Outcome, sr.Error = Failed, capText(errText(res.err), maxMessage)
	}
}
