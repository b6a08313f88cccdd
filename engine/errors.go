package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RunError says where and why a run failed. Its cause (Err) is one of the
// error types below, a context error, or a transport error; errors.Is and
// errors.As see through it:
//
//	errors.Is(err, context.DeadlineExceeded) // stopped by Options.Timeout
//	errors.Is(err, context.Canceled)         // the caller's context was cancelled
//	errors.Is(err, ErrStepLimit)             // Options.MaxSteps was reached
//	errors.Is(err, ErrNoServer)              // a source has no base URL
//	var se *StatusError; errors.As(err, &se) // an HTTP status failed the step
//	var ce *CriterionError; errors.As(err, &ce)
//
// Message and BodyExcerpt are what reports show; secret values are already
// masked in them (the cause's own text is built from masked values too).
type RunError struct {
	WorkflowID  string `json:"workflowId"`
	StepID      string `json:"stepId,omitempty"`
	Attempt     int    `json:"attempt,omitempty"`
	StatusCode  int    `json:"statusCode,omitempty"`
	Message     string `json:"message"`
	BodyExcerpt string `json:"body,omitempty"`
	Err         error  `json:"-"`
}

// maxMessage caps the text of any error a run reports: a deeply nested
// failure must not produce a megabyte message.
const maxMessage = 4 << 10

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
	return capText(b.String(), maxMessage)
}

func (e *RunError) Unwrap() error { return e.Err }

func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "… (truncated)"
}

// Sentinels for errors.Is.
var (
	// ErrUnknownWorkflow: the requested workflow is not in the plan.
	ErrUnknownWorkflow = errors.New("unknown workflow")
	// ErrStepLimit: the run reached Options.MaxSteps step executions.
	ErrStepLimit = errors.New("step limit reached")
	// ErrNoServer: a source has no absolute server URL and none was given.
	ErrNoServer = errors.New("no server URL")
	// ErrResponseTooLarge: a response body exceeded Options.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response body too large")
	// ErrDepthLimit: workflow calls nested deeper than the run allows.
	ErrDepthLimit = errors.New("workflow nesting too deep")
)

// StepLimitError is ErrStepLimit with the step that kept running.
type StepLimitError struct {
	Limit  int
	StepID string
}

func (e *StepLimitError) Error() string {
	return fmt.Sprintf("stopped after %d step executions: step %s keeps running", e.Limit, e.StepID)
}

func (e *StepLimitError) Is(target error) bool { return target == ErrStepLimit }

// NoServerError is ErrNoServer for a named source.
type NoServerError struct{ Source string }

func (e *NoServerError) Error() string {
	return fmt.Sprintf("source %q has no absolute server URL and none was given for it", e.Source)
}

func (e *NoServerError) Is(target error) bool { return target == ErrNoServer }

// StatusError is an HTTP response that failed a step: a status outside
// 2xx where the step has no success criteria, or any status of 400 and
// above alongside a criterion that failed. Code and Message are the API's
// own error code and text, as the source's protocol reads them.
type StatusError struct {
	StatusCode    int
	Code, Message string
	Excerpt       string // the start of the body
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("status %d", e.StatusCode)
	if d := e.summary(); d != "" {
		s += " (" + d + ")"
	}
	return s
}

// summary is the API's error code and message, without the status.
func (e *StatusError) summary() string {
	switch {
	case e.Code != "" && e.Message != "":
		return e.Code + ": " + e.Message
	case e.Code != "" || e.Message != "":
		return e.Code + e.Message
	}
	return ""
}

// CriterionError is a success criterion that did not hold. Line and Column
// point at the criterion in File.
type CriterionError struct {
	Condition    string
	File         string
	Line, Column int
	// Err is why the criterion could not be evaluated, if it could not.
	Err error
	// Response is the error response the step got, if its status was 400
	// or above: usually the real reason the criterion failed.
	Response *StatusError
}

func (e *CriterionError) Error() string {
	if e.Response != nil {
		return e.Response.Error() + "; " + e.criterion()
	}
	return e.criterion()
}

func (e *CriterionError) criterion() string {
	s := "success criterion not met: " + e.Condition
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// messageBesideStatus is cause's text for a RunError that shows the
// status itself: the status is not said twice.
func messageBesideStatus(cause error) string {
	switch c := cause.(type) {
	case *StatusError:
		if d := c.summary(); d != "" {
			return d
		}
		return "unexpected status"
	case *CriterionError:
		if c.Response != nil {
			if d := c.Response.summary(); d != "" {
				return d + "; " + c.criterion()
			}
		}
		return c.criterion()
	}
	return cause.Error()
}

func (e *CriterionError) Unwrap() []error {
	var out []error
	if e.Err != nil {
		out = append(out, e.Err)
	}
	if e.Response != nil {
		out = append(out, e.Response)
	}
	return out
}

// TransportError is a request that got no complete response: a refused
// connection, a timeout, a body cut short or too large. URL is masked.
type TransportError struct {
	Method, URL string
	Err         error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// CallError is a workflow called by a step (or a goto or retry action)
// that failed; Err is that workflow's own error.
type CallError struct {
	WorkflowID string
	Err        *RunError
}

func (e *CallError) Error() string { return "called workflow failed: " + e.Err.Error() }
func (e *CallError) Unwrap() error { return e.Err }

// DependencyError is a dependsOn workflow that failed, so the workflow
// that depends on it did not run.
type DependencyError struct {
	WorkflowID string // the dependency
	Err        *RunError
}

func (e *DependencyError) Error() string {
	return fmt.Sprintf("dependency %s failed", e.WorkflowID)
}

func (e *DependencyError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// RequestError is a request that could not be built from the step: a path
// parameter with no value, a body that cannot be encoded.
type RequestError struct{ Err error }

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// StoppedError is a run stopped by its context: Options.Timeout or the
// caller's deadline (Err is context.DeadlineExceeded), or a cancellation
// (context.Canceled).
type StoppedError struct {
	StepID string
	Err    error
}

func (e *StoppedError) Error() string {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return "the run timed out in step " + e.StepID
	}
	return "the run was cancelled in step " + e.StepID
}

func (e *StoppedError) Unwrap() error { return e.Err }

// ErrUnsupported: the document asks for something this tool cannot honestly
// perform (an AsyncAPI step, an XPath 3.1 expression); nothing was sent.
var ErrUnsupported = errors.New("unsupported")

// UnsupportedError lists what a run would reach but cannot perform.
type UnsupportedError struct {
	Reasons []string // "workflow w, step s: ..."
}

func (e *UnsupportedError) Error() string {
	return "cannot run: " + strings.Join(e.Reasons, "; ")
}

func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// StepTimeoutError is a step that ran longer than its 1.1 `timeout`; the
// step failed, and its onFailure actions decide what follows.
type StepTimeoutError struct {
	StepID  string
	Timeout time.Duration
	Err     error // what the step was doing when the deadline passed
}

func (e *StepTimeoutError) Error() string {
	return fmt.Sprintf("step %s timed out after %s", e.StepID, e.Timeout)
}

func (e *StepTimeoutError) Unwrap() error { return e.Err }

// StepDependencyError is a step whose dependsOn step (explicit, or implied
// by a $steps expression) has not completed in this run.
type StepDependencyError struct {
	StepID     string // the step that could not start
	Dependency string // the step it waits for, as written
}

func (e *StepDependencyError) Error() string {
	return fmt.Sprintf("step %s depends on %s, which has not completed in this run", e.StepID, e.Dependency)
}
