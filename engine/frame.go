package engine

import (
	"github.com/arazzo-go/arazzo/expr"
)

// frame is one running workflow: what its expressions can see. It keeps
// only what later expressions can reference (each step's latest outputs,
// the current exchange), so a long poll does not grow it.
type frame struct {
	run    *run
	w      *Workflow
	inputs map[string]any
	steps  map[string]map[string]any // latest outputs of each step
	visits map[*Step]int
	// current is the exchange of the step being evaluated; last is the
	// most recent one, which a parent step sees after a nested workflow.
	current, last *exchange
	// calleeOutputs is what $outputs means inside a workflowId step.
	calleeOutputs map[string]any
	// memo caches derived views of the current exchange for the criteria
	// evaluated against it (see expr.Memoizer); cleared on each execution.
	memo map[any]any
	// What a durable run records (durable.go): the position, the
	// requests sent at it, and those recorded before a resume.
	pc, attempt int
	retries     map[*Action]int
	resumed     bool
	sent        []RequestRecord
	savedSteps  map[string]map[string]any
	savedVisits map[string]int
	// recorded counts step results recorded at the position;
	// skipRecords those a resume must not count again.
	recorded, skipRecords int
	replay                []RequestRecord
	// bg are the steps waiting in the background (background.go).
	bg map[*Step]*bgStep
}

// newFrame starts a workflow run's frame; Run and DryRun share it.
func newFrame(r *run, w *Workflow, inputs map[string]any) *frame {
	return &frame{run: r, w: w, inputs: inputs, steps: map[string]map[string]any{}, visits: map[*Step]int{}}
}

// Memo implements expr.Memoizer.
func (f *frame) Memo(key any, compute func() any) any {
	if v, ok := f.memo[key]; ok {
		return v
	}
	v := compute()
	if f.memo == nil {
		f.memo = map[any]any{}
	}
	f.memo[key] = v
	return v
}

func (f *frame) evalOutputs(outs []Output) map[string]any {
	m := make(map[string]any, len(outs))
	for _, o := range outs {
		if v, ok := o.Value.Eval(f); ok {
			m[o.Name] = v
		}
	}
	return m
}

// The expr.Context implementation.

func (f *frame) URL() (string, bool) {
	if f.current == nil || f.current.req == nil {
		return "", false
	}
	return f.current.req.URL, true
}

func (f *frame) Method() (string, bool) {
	if f.current == nil || f.current.req == nil {
		return "", false
	}
	return f.current.req.Method, true
}

func (f *frame) StatusCode() (int, bool) {
	if f.current == nil || !f.current.hasStatus {
		return 0, false
	}
	return f.current.status, true
}

func (f *frame) Message(response bool) expr.Message {
	if f.current == nil {
		return nil
	}
	if response {
		if !f.current.hasStatus {
			return nil
		}
		return responseMessage{f.current}
	}
	if f.current.req == nil {
		return nil
	}
	return requestMessage{f.current.req}
}

func (f *frame) Inputs() map[string]any { return f.inputs }

func (f *frame) Outputs() map[string]any {
	if f.calleeOutputs != nil {
		return f.calleeOutputs
	}
	return f.run.wfOutputs[f.w.ID]
}

func (f *frame) StepOutputs(id string) (map[string]any, bool) {
	m, ok := f.steps[id]
	return m, ok
}

func (f *frame) WorkflowValues(id string, outputs bool) (map[string]any, bool) {
	var m map[string]any
	var ok bool
	if outputs {
		m, ok = f.run.wfOutputs[id]
	} else {
		m, ok = f.run.wfInputs[id]
	}
	return m, ok
}

// SourceDescription resolves `$sourceDescriptions.<name>.<ref>`: an
// operationId or workflowId wins over the fields url, type and name.
func (f *frame) SourceDescription(name, ref string) (any, bool) {
	src := f.w.Plan.sources[name]
	if src == nil {
		return nil, false
	}
	if src.Source != nil && src.Source.OpenAPI != nil {
		if op := src.Source.ByID(ref); op != nil {
			return op.ID, true
		}
	}
	if src.Plan != nil && src.Plan.Workflow(ref) != nil {
		return ref, true
	}
	switch ref {
	case "url":
		return src.URL, true
	case "type":
		return src.Type, true
	case "name":
		return src.Name, true
	}
	return nil, false
}

func (f *frame) Component(kind, key string) (any, bool) {
	comp := f.w.Plan.Doc.Components
	if comp == nil {
		return nil, false
	}
	switch kind {
	case "parameters":
		if p, ok := comp.Parameters[key]; ok {
			return p.Value, true
		}
	case "inputs":
		v, ok := comp.Inputs[key]
		return v, ok
	}
	return nil, false
}
