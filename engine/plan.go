// Package engine compiles Arazzo documents into immutable plans and runs
// them.
//
// Compile is the validator: `arazzo validate` is compilation that stops
// before running, so every check is written once. A Plan is immutable and
// may be run from many goroutines at once; each Run keeps its own state.
//
// The executor is a deterministic state machine (see run.go): it decides the
// next step from the current state and the outcome of a step, and every
// side effect goes through the Caller interface. It never prints; it emits
// Events to observers.
package engine

import (
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
)

// Plan is a compiled Arazzo document.
type Plan struct {
	Doc       *document.Document
	Workflows []*Workflow
	byID      map[string]*Workflow
	sources   map[string]*SourceRef
}

// SourceRef is a source description as loaded.
type SourceRef struct {
	Name, URL, Type string
	Location        string
	Source          *source.Source // nil when it could not be loaded
	Plan            *Plan          // for arazzo sources: the nested document's plan
}

// Workflow returns the workflow with the given id, or nil.
func (p *Plan) Workflow(id string) *Workflow { return p.byID[id] }

// Source returns the named source description, or nil.
func (p *Plan) Source(name string) *SourceRef { return p.sources[name] }

// Workflow is a compiled workflow.
type Workflow struct {
	ID        string
	Doc       *document.Workflow
	Plan      *Plan
	Inputs    *schema.Inputs
	DependsOn []*Workflow
	Steps     []*Step
	stepIndex map[string]int
	Outputs   []Output
	// Parameters, SuccessActions and FailureActions are the workflow-level
	// lists, with reusable references resolved; they are already merged
	// into each step's effective lists.
	Parameters     []*Param
	SuccessActions []*Action
	FailureActions []*Action
	// secretInputs says, for each declared input, whether it is masked.
	secretInputs map[string]bool
}

// Step returns the step with the given id, or nil.
func (w *Workflow) Step(id string) *Step {
	if i, ok := w.stepIndex[id]; ok {
		return w.Steps[i]
	}
	return nil
}

// Step is a compiled step. Exactly one of Operation and Callee is set.
type Step struct {
	ID        string
	Index     int
	Doc       *document.Step
	Workflow  *Workflow
	Operation *source.Operation
	Source    *SourceRef // the source description the operation is in
	// ProtocolContentType is the Content-Type the source's declared wire
	// protocol requires (info.x-aws-protocol), or "".
	ProtocolContentType string
	Callee              *Workflow
	Params              []*Param // effective: workflow parameters overridden by step ones
	Body                *Body
	Success             []*Criterion
	OnSuccess           []*Action // effective: step actions, then workflow ones not redefined
	OnFailure           []*Action
	Outputs             []Output
}

// Param is an effective parameter.
type Param struct {
	Name, In string
	Value    *expr.Value
	Decl     *openapi3.Parameter // the OpenAPI declaration, when there is one
}

// Body is a compiled request body.
type Body struct {
	ContentType  string // as written, or from the operation
	Payload      *expr.Value
	HasPayload   bool
	Replacements []Replacement
}

// Replacement is a compiled payload replacement.
type Replacement struct {
	Target string
	Value  *expr.Value
}

// Criterion is a compiled criterion with its source position for reports.
type Criterion struct {
	*expr.Criterion
	Pos document.Pos
}

// Action is a compiled success or failure action.
type Action struct {
	Name, Type     string
	StepID         string    // goto/retry target step id ("" if none)
	Step           *Step     // resolved target step
	TargetWorkflow *Workflow // resolved target workflow
	RetryAfter     float64
	RetryLimit     int
	Criteria       []*Criterion
}

// Output is a named output expression.
type Output struct {
	Name  string
	Value *expr.Template
}
