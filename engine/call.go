package engine

import (
	"context"
	"fmt"
)

// The workflow step kind: a step with a workflowId runs that workflow with
// the step's parameters as its inputs.
type workflowCall struct{}

func (workflowCall) perform(ctx context.Context, f *frame, s *Step, attempt int) *stepOutcome {
	in := map[string]any{}
	for _, p := range s.Params {
		if v, ok := p.Value.Eval(f); ok {
			in[p.Name] = v
		}
	}
	callee := s.Callee
	in, notes, err := callee.checkInputs(in)
	for _, n := range notes {
		f.run.notice(f, s, attempt, n)
	}
	if err != nil {
		return &stepOutcome{err: &RequestError{fmt.Errorf("inputs for workflow %s: %w", callee.ID, err)}}
	}
	out := f.run.workflow(ctx, callee, in)
	f.calleeOutputs = out.outputs
	res := &stepOutcome{ex: out.last}
	if out.err != nil && stops(out.err) {
		res.stop = out.err
		return res
	}
	if out.status != Succeeded {
		cerr := out.err
		if cerr == nil {
			cerr = &RunError{WorkflowID: callee.ID, Message: "failed"}
		}
		res.err = &CallError{WorkflowID: callee.ID, Err: cerr}
	}
	return res
}
