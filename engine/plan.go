// Package engine compiles Arazzo documents into immutable plans and runs
// them.
//
// The layers, and where a new capability goes:
//
//	document (parse, positions) ─► compile.go, resolve.go, references.go ─► Plan
//	                                   │ (validate = compile that stops here)
//	Plan ─► machine.go: the state machine. It decides the next step from a
//	        step's outcome (criteria, actions, goto, retry, end); it does no
//	        I/O and imports no net/http. It asks a step kind to perform:
//	          operation.go  an HTTP operation (request.go lays it out;
//	                        check.go checks request and response against
//	                        the description, per Options.Checks)
//	          call.go       a workflow call
//	          messaging.go  an AsyncAPI message sent or received, through
//	                        the message.Transport of the source's
//	                        protocol (chosen at compile time, see
//	                        WithTransports; message/kafka is one)
//	     ─► protocol.Protocol, chosen per source at compile time: reshapes a
//	        request for its wire protocol and reads its errors (package
//	        protocol; awsjson, restjson, restxml and awsquery are the AWS
//	        families). A new protocol is a Detector passed
//	        with WithProtocols.
//	     ─► Middleware, per source and run: credentials (package
//	        auth/security: every OpenAPI security scheme), signing (package
//	        auth/sigv4), recording, rate limits; a new auth scheme is a
//	        Middleware. middleware.go has its hooks: CallOf (the step a
//	        request is for), AddSecret (mask what it mints), Preparer (check
//	        a run before anything is sent), WithTLS (a source's own TLS).
//	     ─► Caller: the one interface that touches the network.
//	     ─► Events to Observers; package report turns them into text, JSON
//	        lines, HAR and JUnit on any io.Writer. redact.go masks secrets
//	        once, where events and errors are made.
//	     ─► Options.Journal, when set: durable.go records the run's state at
//	        every step boundary and around every request, and Plan.Resume
//	        continues it after a crash (package store/boltstore keeps it).
//	     ─► package temporal runs the same state machine as a Temporal
//	        workflow through these seams (Caller: an activity per request;
//	        Sleep, Now: durable timers, the workflow's clock; Journal:
//	        ContinueAsNew), and applies Middleware in the activity
//	        (CallContext). This package does not import it.
//
// A Plan is immutable and may be run from many goroutines at once; each Run
// keeps its own state. Errors a run returns are *RunError values whose
// causes (see errors.go) work with errors.Is and errors.As.
package engine

import (
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	rfcjsonpath "github.com/theory/jsonpath"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
)

// Plan is a compiled Arazzo document.
type Plan struct {
	Doc *document.Document
	// Version is the Arazzo version the document declares; its rules
	// and expression grammar compiled the plan.
	Version document.Version
	// Self is the document's base URI: its 1.1 $self resolved against
	// where it was read from, else that location.
	Self      string
	Workflows []*Workflow
	byID      map[string]*Workflow
	sources   map[string]*SourceRef
	// errors are the compile errors of a partial plan, each confined to
	// some workflows (see PartialPlans); Run refuses the workflows they reach.
	errors diag.List
	// transports are the broker transports the plan was compiled with.
	transports []message.Transport
}

// SourceRef is a source description as loaded.
type SourceRef struct {
	Name, URL string
	Type      source.Type
	Location  string
	Source    *source.Source // nil when it could not be loaded
	Plan      *Plan          // for arazzo sources: the nested document's plan
	// Protocol is the wire protocol of an OpenAPI source, chosen at
	// compile time (protocol.HTTP unless a Detector claimed it).
	Protocol protocol.Protocol
	// async is an AsyncAPI source's server and transport.
	async *asyncServer
}

// Workflow returns the workflow with the given id, or nil.
func (p *Plan) Workflow(id string) *Workflow { return p.byID[id] }

// Source returns the named source description, or nil.
func (p *Plan) Source(name string) *SourceRef { return p.sources[name] }

// Sources returns the source descriptions in document order.
func (p *Plan) Sources() []*SourceRef {
	var out []*SourceRef
	if p.Doc == nil {
		return out
	}
	for _, sd := range p.Doc.SourceDescriptions {
		if ref := p.sources[sd.Name]; ref != nil {
			out = append(out, ref)
		}
	}
	return out
}

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
	// order is the execution order of the steps: the document's, or with
	// 1.1 step dependencies a stable topological order of them.
	order []*Step
	// unsupported is what the workflow's own actions ask for that cannot
	// be performed (see Step.Unsupported).
	unsupported []string
	// refusal is why a run of this workflow is refused (what it can
	// reach but this tool cannot perform), or nil.
	refusal error
	// secretInputs says, for each declared input, whether it is masked.
	secretInputs map[string]bool
}

// Order returns the steps in the order a run takes them when no action
// jumps: document order, or with 1.1 step dependencies a topological order
// that keeps document order where it can.
func (w *Workflow) Order() []*Step { return w.order }

// Step returns the step with the given id, or nil.
func (w *Workflow) Step(id string) *Step {
	if i, ok := w.stepIndex[id]; ok {
		return w.Steps[i]
	}
	return nil
}

// StepKind says what a step does.
type StepKind uint8

const (
	// Unresolved: the step's target could not be resolved (the plan has
	// errors then, and is not run).
	Unresolved StepKind = iota
	// OperationStep calls an API operation (operationId or operationPath).
	OperationStep
	// WorkflowStep calls a workflow (workflowId).
	WorkflowStep
	// MessageStep sends or receives an AsyncAPI message (1.1) through
	// the transport of its source's protocol (see WithTransports).
	MessageStep
)

func (k StepKind) String() string {
	switch k {
	case OperationStep:
		return "operation"
	case WorkflowStep:
		return "workflow"
	case MessageStep:
		return "message"
	}
	return "unresolved"
}

// Step is a compiled step. Exactly one of Operation and Callee is set.
type Step struct {
	ID        string
	Index     int
	Kind      StepKind
	Doc       *document.Step
	Workflow  *Workflow
	Operation *source.Operation
	Source    *SourceRef // the source description the operation is in
	Callee    *Workflow
	// Message is what an AsyncAPI step sends or receives.
	Message *MessageTarget
	// background: a receive that waits while later steps run, joined by
	// the first step that depends on it (background.go).
	background bool
	Params     []*Param // effective: workflow parameters overridden by step ones
	Body       *Body
	Success    []*Criterion
	OnSuccess  []*Action // effective: step actions, then workflow ones not redefined
	OnFailure  []*Action
	Outputs    []Output
	// Timeout is the 1.1 step timeout (0 for none).
	Timeout time.Duration
	// After are the steps this one depends on (1.1 dependsOn and $steps
	// references), possibly in other workflows or documents; AfterText
	// names each as written.
	After     []*Step
	AfterText []string
	// Unsupported says what of this step cannot be performed here (an
	// AsyncAPI step, an XPath 3.1 criterion); a run that could reach the
	// step is refused before anything is sent.
	Unsupported []string
	// pos is the step's place in its workflow's execution order.
	pos int
	// perform is the step kind's implementation, set at compile time.
	perform performer
	// route is the operation for the contract checks (check.go).
	route *routers.Route
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
	// TargetType is how Target is read: "" (by content type: a JSON
	// pointer for JSON, XPath for XML), "jsonpointer", "jsonpath" (RFC
	// 9535, compiled in jp) or "xpath".
	TargetType string
	jp         *rfcjsonpath.Path
}

// Criterion is a compiled criterion with its source position for reports.
type Criterion struct {
	*expr.Criterion
	File string
	Pos  document.Pos
}

// ActionType is a success or failure action's type.
type ActionType string

// Action types, as the specification spells them.
const (
	End   ActionType = "end"
	Goto  ActionType = "goto"
	Retry ActionType = "retry"
)

func (t ActionType) String() string { return string(t) }

// Action is a compiled success or failure action.
type Action struct {
	Name           string
	Type           ActionType
	StepID         string    // goto/retry target step id ("" if none)
	Step           *Step     // resolved target step
	TargetWorkflow *Workflow // resolved target workflow
	RetryAfter     float64
	RetryLimit     int
	Criteria       []*Criterion
	// Params are the 1.1 parameters passed as inputs to TargetWorkflow.
	Params []*Param
}

// Output is a named output: a runtime expression or template, or in 1.1
// a Selector Object.
type Output struct {
	Name  string
	Value *expr.Value
}
