package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arazzo-go/arazzo/engine"
)

// TextLog is an engine.Observer that writes the plain human log of a run:
// one line per event worth reading (requests, responses, failures, jumps,
// waits, notes). Verbose adds each request's and response's headers and
// bodies (cut at 2 KiB) and every criterion with its outcome. Lines are
// written in batches, at most FlushDelay late (Flush writes at once).
type TextLog struct {
	batcher
	verbose bool
}

// NewTextLog returns a text log that writes to w.
func NewTextLog(w io.Writer, verbose bool) *TextLog {
	l := &TextLog{verbose: verbose}
	l.init(w)
	return l
}

// verboseBody is how much of a body verbose mode shows: enough to read an
// error, not a whole payload.
const verboseBody = 2048

// OnEvent implements engine.Observer.
func (l *TextLog) OnEvent(e engine.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log(e)
	l.logged(e.Kind == engine.WorkflowFinished)
}

func (l *TextLog) log(e engine.Event) {
	w := &printer{l.buf}
	switch e.Kind {
	case engine.WorkflowStarted:
		w.printf("workflow %s started\n", e.WorkflowID)
	case engine.RequestSent:
		w.printf("  %s → %s %s\n", stepLabel(e), e.Request.Method, e.Request.URL)
		if l.verbose {
			writeHeaders(w, "    > ", e.Request.Header)
			l.body("    > ", e.Request.Body)
		}
	case engine.ResponseReceived:
		w.printf("  %s ← %d (%s)\n", stepLabel(e), e.Response.StatusCode, e.Duration.Round(time.Millisecond))
		if l.verbose {
			writeHeaders(w, "    < ", e.Response.Header)
			l.body("    < ", e.Response.Body)
		}
	case engine.MessageSent, engine.MessageReceived:
		arrow, verb := "→", "send"
		if e.Kind == engine.MessageReceived {
			arrow, verb = "←", "received"
		}
		w.printf("  %s %s %s %s (%s %s)\n", stepLabel(e), arrow, verb, e.Msg.Channel, e.Msg.Protocol, e.Msg.Server)
		if l.verbose {
			for _, k := range slices.Sorted(maps.Keys(e.Msg.Header)) {
				w.printf("    %s %s: %s\n", arrow, k, e.Msg.Header[k])
			}
			l.body("    "+arrow+" ", e.Msg.Payload)
		}
	case engine.StepFinished:
		if e.Status == engine.Failed {
			w.printf("  %s failed: %s\n", stepLabel(e), e.Err)
		}
	case engine.ActionTaken:
		// Moving on to the next step is the default and says nothing.
		switch e.Transition {
		case engine.GotoStep, engine.GotoWorkflow, engine.RetryStep, engine.EndWorkflow:
			w.printf("  %s → %s %s%s\n", stepLabel(e), e.Transition, e.Target, named(e.Action))
		}
	case engine.CriterionEvaluated:
		if l.verbose {
			w.printf("    %s criterion %q: %v %s\n", e.Message, e.Criterion, e.Passed, e.Err)
		}
	case engine.Waiting:
		w.printf("  waiting %s before %s (%s)\n", e.Wait, e.StepID, e.Message)
	case engine.Notice:
		w.printf("  %s note: %s\n", stepLabel(e), e.Message)
	case engine.CallerRetry:
		w.printf("  %s %s\n", stepLabel(e), e.Message)
	case engine.CheckViolated:
		w.printf("  %s %s: %s\n", stepLabel(e), e.Violation.Severity, e.Message)
	case engine.WorkflowFinished:
		w.printf("workflow %s %s\n", e.WorkflowID, e.Status)
	}
}

// printer formats lines into the log's buffer.
type printer struct{ w *bufio.Writer }

func (p *printer) printf(format string, args ...any) { fmt.Fprintf(p.w, format, args...) }

// lineWriter is where writeHeaders prints: a text log's buffer or a
// stickyWriter.
type lineWriter interface {
	printf(format string, args ...any)
}

func writeHeaders(w lineWriter, prefix string, h map[string][]string) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		w.printf("%s%s: %s\n", prefix, k, strings.Join(h[k], ", "))
	}
}

func (l *TextLog) body(prefix string, b []byte) {
	if len(b) == 0 {
		return
	}
	s := string(b)
	if len(s) > verboseBody {
		s = s[:verboseBody] + fmt.Sprintf("… (%d bytes)", len(b))
	}
	(&printer{l.buf}).printf("%s%s\n", prefix, strings.ReplaceAll(s, "\n", "\n"+prefix))
}

// stepLabel names a step with its visit and attempt when they are not the
// first, so the lines of a poll can be told apart.
func stepLabel(e engine.Event) string {
	s := e.StepID
	if e.Visit > 1 {
		s += fmt.Sprintf(" #%d", e.Visit)
	}
	if e.Attempt > 1 {
		s += fmt.Sprintf(" (attempt %d)", e.Attempt)
	}
	return s
}

func named(a string) string {
	if a == "" {
		return ""
	}
	return " [" + a + "]"
}

// WriteResult writes a run's result as text: the status, the error, each
// step's runs, last status code and outcome, and the outputs as JSON.
// Leave steps false when a live view has already shown them.
func WriteResult(w io.Writer, res *engine.Result, steps bool) error {
	sw := &stickyWriter{w: w}
	sw.printf("\n%s: %s\n", res.WorkflowID, res.Status)
	if res.Error != nil {
		sw.printf("  error: %s\n", res.Error)
	}
	if steps {
		for _, s := range res.Steps {
			status := strconv.Itoa(s.StatusCode)
			if s.StatusCode == 0 {
				status = "-" // no HTTP response: a message step, a workflow call, or none came
			}
			sw.printf("  %-24s runs=%-4d status=%-4s %s\n", s.WorkflowID+"/"+s.StepID, s.Runs, status, s.Outcome)
			for _, v := range s.Checks {
				sw.printf("    %s (attempt %d): %s\n", v.Severity, v.Attempt, v)
			}
		}
	}
	if len(res.Outputs) > 0 {
		sw.printf("outputs:\n")
		for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
			b, _ := json.Marshal(res.Outputs[k])
			sw.printf("  %s: %s\n", k, b)
		}
	}
	return sw.err
}

// WriteSummary writes a table of runs: document, workflow, status and
// time, one run a line.
func WriteSummary(w io.Writer, runs []RunRecord) error {
	sw := &stickyWriter{w: w}
	sw.printf("\n%-40s %-32s %-10s %s\n", "FILE", "WORKFLOW", "STATUS", "TIME")
	for _, rec := range runs {
		status, wf := "not run", "-"
		if rec.Result != nil {
			status, wf = fmt.Sprint(rec.Result.Status), rec.Result.WorkflowID
		}
		sw.printf("%-40s %-32s %-10s %s\n", rec.File, wf, status, rec.Duration.Round(time.Millisecond))
	}
	return sw.err
}

// WriteDryRun writes the requests a dry run of workflowID would send
// (engine.Plan.DryRun), each with its method, URL, headers, body and
// notes, or why it cannot be built before a response arrives.
func WriteDryRun(w io.Writer, workflowID string, reqs []engine.DryRequest) error {
	sw := &stickyWriter{w: w}
	sw.printf("workflow %s (dry run: nothing is sent)\n", workflowID)
	for _, r := range reqs {
		switch {
		case r.Error != "":
			sw.printf("\n%s: cannot be built yet: %s\n", r.StepID, r.Error)
		case r.Calls != "":
			b, _ := json.Marshal(r.Inputs)
			sw.printf("\n%s: calls workflow %s with inputs %s\n", r.StepID, r.Calls, b)
		default:
			if r.Message != "" {
				sw.printf("\n%s:\n  %s\n", r.StepID, r.Message) // an AsyncAPI step: send CHANNEL, receive CHANNEL
			} else {
				sw.printf("\n%s:\n  %s %s\n", r.StepID, r.Method, r.URL)
			}
			writeHeaders(sw, "  ", r.Header)
			if r.Body != "" {
				sw.printf("  %s\n", r.Body)
			}
			for _, n := range r.Notes {
				sw.printf("  note: %s\n", n)
			}
		}
	}
	return sw.err
}
