package engine

import (
	"context"
	"net/http"
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
	Notice             EventKind = "notice"           // something worth a warning: an undefined parameter, a body that is not JSON
	CallerRetry        EventKind = "caller.retry"     // a Caller decorator retries a request (throttling, transient errors)
	CheckViolated      EventKind = "check.violated"   // a request or response broke the operation's description (Options.Checks)
	MessageSent        EventKind = "message.sent"     // an AsyncAPI step sent a message (Event.Msg)
	MessageReceived    EventKind = "message.received" // an AsyncAPI step received the message it waited for
)

func (k EventKind) String() string { return string(k) }

// Status is how a run, a workflow or a step ended.
type Status string

// Status values.
const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

func (s Status) String() string { return string(s) }

// Transition is the state machine's decision after a step.
type Transition string

const (
	// Next: on to the following step (no action matched a success).
	Next Transition = "next"
	// EndWorkflow: an end action; the workflow ends with the step's status.
	EndWorkflow Transition = "end"
	// GotoStep: a goto action to a step of the same workflow.
	GotoStep Transition = "goto-step"
	// GotoWorkflow: a goto action to a workflow, which replaces this one.
	GotoWorkflow Transition = "goto-workflow"
	// RetryStep: a retry action; the step runs again after a wait.
	RetryStep Transition = "retry"
	// Fail: the step failed and no failure action matched.
	Fail Transition = "fail"
)

func (t Transition) String() string { return string(t) }

// Event is one thing the engine did. Which fields are set depends on Kind.
// Secret values and credential headers are already masked.
type Event struct {
	Kind       EventKind
	Time       time.Time
	WorkflowID string
	StepID     string
	Visit      int // how many times this step has been entered in this workflow run
	Attempt    int // 1 + retries within this visit

	Request  *RequestInfo
	Response *ResponseInfo
	Msg      *MessageInfo // on MessageSent and MessageReceived
	Duration time.Duration
	Err      string

	Criterion string // the condition text
	Passed    bool

	Action     string     // action name
	Transition Transition // on ActionTaken: what the state machine does next
	Target     string     // goto/retry target step or workflow
	Wait       time.Duration

	Status  Status // on *.finished events
	Outputs map[string]any
	Message string

	Violation *Violation // on CheckViolated
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

type reporterKey struct{}

// WithReporter returns a context whose Report calls go to f. The engine
// sets it on every request; tests of middleware use it directly.
func WithReporter(ctx context.Context, f func(Event)) context.Context {
	return context.WithValue(ctx, reporterKey{}, f)
}

// Report lets a Caller middleware add an event to the run that sent the
// request (ctx is the request's context). The run fills in the workflow
// and step. Outside a run it does nothing.
func Report(ctx context.Context, e Event) {
	if f, ok := ctx.Value(reporterKey{}).(func(Event)); ok {
		f(e)
	}
}
