package report

import (
	"encoding/json"
	"io"

	"github.com/arazzo-go/arazzo/engine"
)

// JSONLines is an engine.Observer that writes every event as one JSON
// object on a line of its own (JSON Lines), for log pipelines and tools
// such as jq. Each line decodes into a JSONEvent.
type JSONLines struct {
	batcher // lines are written in batches, at most FlushDelay late
	enc     *json.Encoder
}

// NewJSONLines returns an event log that writes to w.
func NewJSONLines(w io.Writer) *JSONLines {
	l := &JSONLines{}
	l.init(w)
	l.enc = json.NewEncoder(l.buf)
	// Bodies and conditions are read by people too: keep <, > and & as
	// they are.
	l.enc.SetEscapeHTML(false)
	return l
}

// JSONEvent is the schema of a JSONLines line. Field names are stable;
// fields an event does not have are left out. Times are RFC 3339 in UTC
// with all nine digits of nanoseconds (TimeLayout), so that they sort as
// text; durations are milliseconds; bodies are text.
type JSONEvent struct {
	Kind       string        `json:"kind"` // an engine.EventKind: run.started, request.sent…
	Time       string        `json:"time,omitempty"`
	WorkflowID string        `json:"workflowId,omitempty"`
	StepID     string        `json:"stepId,omitempty"`
	Visit      int           `json:"visit,omitempty"`
	Attempt    int           `json:"attempt,omitempty"`
	Request    *JSONRequest  `json:"request,omitempty"`
	Response   *JSONResponse `json:"response,omitempty"`
	// Msg is an AsyncAPI message, on message.sent and message.received.
	Msg        *JSONMessage   `json:"asyncMessage,omitempty"`
	DurationMs float64        `json:"durationMs,omitempty"`
	Error      string         `json:"error,omitempty"`
	Criterion  string         `json:"criterion,omitempty"`
	Passed     *bool          `json:"passed,omitempty"` // on criterion.evaluated only
	Action     string         `json:"action,omitempty"`
	Transition string         `json:"transition,omitempty"`
	Target     string         `json:"target,omitempty"`
	WaitMs     float64        `json:"waitMs,omitempty"`
	Status     string         `json:"status,omitempty"`
	Outputs    map[string]any `json:"outputs,omitempty"`
	Message    string         `json:"message,omitempty"`
	// Violation is a contract check's finding, on check.violated.
	Violation *engine.Violation `json:"violation,omitempty"`
}

// JSONRequest is a request as sent.
type JSONRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    string              `json:"body,omitempty"`
}

// JSONResponse is a response as received; Truncated says the engine cut
// the body short.
type JSONResponse struct {
	StatusCode int                 `json:"statusCode"`
	Headers    map[string][]string `json:"headers,omitempty"`
	Body       string              `json:"body,omitempty"`
	Truncated  bool                `json:"truncated,omitempty"`
}

// JSONMessage is an AsyncAPI message sent or received.
type JSONMessage struct {
	Protocol string            `json:"protocol"`
	Server   string            `json:"server,omitempty"`
	Channel  string            `json:"channel"`
	Headers  map[string]string `json:"headers,omitempty"`
	Payload  string            `json:"payload,omitempty"`
}

// TimeLayout is the layout of JSONEvent.Time: RFC 3339 with a fixed
// nanosecond fraction. time.RFC3339Nano parses it too.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func newJSONEvent(e engine.Event) JSONEvent {
	j := JSONEvent{
		Kind: string(e.Kind), WorkflowID: e.WorkflowID, StepID: e.StepID, Visit: e.Visit, Attempt: e.Attempt,
		DurationMs: millis(e.Duration), Error: e.Err, Criterion: e.Criterion,
		Action: e.Action, Transition: string(e.Transition), Target: e.Target, WaitMs: millis(e.Wait),
		Status: string(e.Status), Outputs: e.Outputs, Message: e.Message, Violation: e.Violation,
	}
	if !e.Time.IsZero() {
		j.Time = e.Time.UTC().Format(TimeLayout)
	}
	if r := e.Request; r != nil {
		j.Request = &JSONRequest{Method: r.Method, URL: r.URL, Headers: r.Header, Body: string(r.Body)}
	}
	if r := e.Response; r != nil {
		j.Response = &JSONResponse{StatusCode: r.StatusCode, Headers: r.Header, Body: string(r.Body), Truncated: r.Truncated}
	}
	if m := e.Msg; m != nil {
		j.Msg = &JSONMessage{Protocol: m.Protocol, Server: m.Server, Channel: m.Channel, Headers: m.Header, Payload: string(m.Payload)}
	}
	if e.Kind == engine.CriterionEvaluated {
		// false is an answer here, not an absent field.
		passed := e.Passed
		j.Passed = &passed
	}
	return j
}

// OnEvent implements engine.Observer.
func (l *JSONLines) OnEvent(e engine.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.err != nil {
		return
	}
	if err := l.enc.Encode(newJSONEvent(e)); err != nil && l.w.err == nil {
		l.w.err = err // a value JSON cannot hold, in the outputs
	}
	l.logged(e.Kind == engine.WorkflowFinished)
}
