package engine

import (
	"context"
	"time"
)

// Steps that wait in the background (1.1 dependsOn as a join point): a
// receive step that a later step names in its dependsOn starts where the
// execution order reaches it, waits while the steps after it run (one of
// them typically triggers its message), and is joined, its criteria
// checked and outputs recorded, just before the first step that depends
// on it. Only the waiting happens off the run's goroutine: everything
// that reads or writes the frame, and every event, stays on it.

// backgrounder is a step kind that can wait in the background. begin
// does, on the run's goroutine, all that reads the frame, and returns a
// wait that may run on another goroutine and must not touch the frame.
type backgrounder interface {
	begin(ctx context.Context, f *frame, s *Step, attempt int) (wait func() *stepOutcome)
}

type bgStep struct {
	done   chan struct{}
	res    *stepOutcome
	cancel context.CancelFunc
	start  time.Time
}

func (f *frame) startBackground(ctx context.Context, s *Step) {
	r := f.run
	r.emit(Event{Kind: StepStarted, WorkflowID: f.w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: 1, Message: "waiting in the background"})
	bctx, cancel := context.WithCancel(ctx)
	b := &bgStep{done: make(chan struct{}), cancel: cancel, start: r.opts.Now()}
	wait := s.perform.(backgrounder).begin(bctx, f, s, 1)
	go func() {
		defer close(b.done)
		b.res = wait()
	}()
	if f.bg == nil {
		f.bg = map[*Step]*bgStep{}
	}
	f.bg[s] = b
}

// join waits for background step s and decides what follows it, as the
// state machine does for any step; ok is false when the workflow ends
// there.
func (f *frame) join(ctx context.Context, s *Step) (wfOutcome, bool) {
	b := f.bg[s]
	delete(f.bg, s)
	<-b.done
	b.cancel()
	res := f.finish(s, 1, b.start, b.res)
	if err := ctx.Err(); err != nil && res.interrupted {
		return f.fail(s, 1, res.ex, &StoppedError{StepID: s.ID, Err: err}), false
	}
	var retries map[*Action]int
	t, a, _ := f.decide(s, res, &retries)
	f.run.emit(Event{Kind: ActionTaken, WorkflowID: f.w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: 1,
		Action: actionName(a), Transition: t, Target: actionTarget(a)})
	switch {
	case t == Next:
		return wfOutcome{}, true
	case t == EndWorkflow && res.ok:
		return wfOutcome{status: Succeeded}, false
	}
	return f.fail(s, 1, res.ex, res.err), false
}

// dropBackground stops the background steps nothing joined (the workflow
// ended early) and waits for them, so none outlives its workflow.
func (f *frame) dropBackground() {
	for s, b := range f.bg {
		b.cancel()
		<-b.done
		delete(f.bg, s)
	}
}

// markBackground makes a receive step that a later step of its workflow
// names in dependsOn wait in the background. A step with success or
// failure actions of its own or its workflow's stays in line: a goto or
// retry from a background step would have no place to go.
func markBackground(w *Workflow) {
	for _, t := range w.Steps {
		for i, d := range t.After {
			if i >= len(t.Doc.DependsOn) || d.Workflow != w || d.pos > t.pos {
				continue
			}
			if _, ok := d.perform.(backgrounder); !ok || d.Message == nil || d.Message.Action != "receive" {
				continue
			}
			if len(d.OnSuccess) == 0 && len(d.OnFailure) == 0 {
				d.background = true
			}
		}
	}
}
