package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/muesli/termenv"

	"github.com/arazzo-go/arazzo/engine"
)

// progress is the live view of a run on a terminal: every step of the
// workflow with the current one animated, poll counts, status codes,
// durations, retries and waits. It redraws a block of lines in place; the
// frame itself is a pure function of the state (frame), which the tests
// check as golden text.
type progress struct {
	mu     sync.Mutex
	out    *termenv.Output
	now    func() time.Time
	start  time.Time
	title  string
	steps  []*pstep
	index  map[string]*pstep
	tick   int
	lines  int
	waitTo time.Time
	stop   chan struct{}
	done   chan struct{}
}

type pstep struct {
	wf, id   string
	state    string // pending, running, ok, failed
	visits   int
	attempts int
	retries  int
	status   int
	msg      string // an AsyncAPI step's message: "sent place-order"
	started  time.Time
	took     time.Duration
	note     string
	warn     string // the latest notice about the step
	// violations counts the step's contract violations; lastViolation is
	// the latest, shown under it.
	violations    int
	lastViolation string
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newProgress(w io.Writer, wf *engine.Workflow, now func() time.Time, opts ...termenv.OutputOption) *progress {
	if os.Getenv("NO_COLOR") != "" {
		opts = append(opts, termenv.WithProfile(termenv.Ascii))
	}
	p := &progress{out: termenv.NewOutput(w, opts...), now: now, start: now(), title: wf.ID, index: map[string]*pstep{}}
	for _, s := range wf.Steps {
		p.step(wf.ID, s.ID)
	}
	return p
}

func (p *progress) step(wf, id string) *pstep {
	k := wf + "/" + id
	if s, ok := p.index[k]; ok {
		return s
	}
	s := &pstep{wf: wf, id: id, state: "pending"}
	p.index[k] = s
	p.steps = append(p.steps, s)
	return s
}

func (p *progress) OnEvent(e engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case engine.StepStarted:
		s := p.step(e.WorkflowID, e.StepID)
		s.state, s.visits, s.attempts, s.started, s.note = "running", e.Visit, e.Attempt, e.Time, ""
	case engine.ResponseReceived:
		p.step(e.WorkflowID, e.StepID).status = e.Response.StatusCode
	case engine.MessageSent:
		p.step(e.WorkflowID, e.StepID).msg = "sent " + e.Msg.Channel
	case engine.MessageReceived:
		p.step(e.WorkflowID, e.StepID).msg = "received " + e.Msg.Channel
	case engine.StepFinished:
		s := p.step(e.WorkflowID, e.StepID)
		s.took = e.Duration
		s.state = "ok"
		if e.Status == engine.Failed {
			s.state, s.note = "failed", e.Err
		}
	case engine.ActionTaken:
		if e.Transition == engine.RetryStep {
			p.step(e.WorkflowID, e.StepID).retries++
		}
	case engine.Notice:
		p.step(e.WorkflowID, e.StepID).warn = e.Message
	case engine.CallerRetry:
		s := p.step(e.WorkflowID, e.StepID)
		s.retries++
		s.note = e.Message
	case engine.CheckViolated:
		s := p.step(e.WorkflowID, e.StepID)
		s.violations++
		s.lastViolation = e.Violation.Severity.String() + ": " + e.Message
	case engine.Waiting:
		p.waitTo = e.Time.Add(e.Wait)
		// The step about to be re-entered looks alive while it waits.
		p.step(e.WorkflowID, e.StepID).state = "waiting"
	}
	p.draw()
}

// frame renders the current state as text lines.
func (p *progress) frame(now time.Time, final bool) string {
	style := func(s, color string) string { return p.out.String(s).Foreground(p.out.Color(color)).String() }
	faint := func(s string) string { return p.out.String(s).Faint().String() }
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", p.out.String(p.title).Bold(), faint(now.Sub(p.start).Round(100*time.Millisecond).String()))
	for _, s := range p.steps {
		var icon string
		switch s.state {
		case "pending":
			icon = faint("·")
		case "running", "waiting":
			icon = style(spinner[p.tick%len(spinner)], "6")
			if final {
				icon = faint("-")
			}
		case "ok":
			icon = style("✓", "2")
		case "failed":
			icon = style("✗", "1")
		}
		name := s.id
		if s.wf != p.title {
			name = s.wf + "/" + s.id
		}
		var info []string
		if s.visits > 1 {
			info = append(info, fmt.Sprintf("poll #%d", s.visits))
		}
		if s.attempts > 1 || s.retries > 0 {
			info = append(info, fmt.Sprintf("retries %d", max(s.attempts-1, s.retries)))
		}
		if s.msg != "" {
			info = append(info, s.msg)
		}
		if s.status != 0 {
			info = append(info, fmt.Sprint(s.status))
		}
		switch {
		case s.state == "running" && !final:
			info = append(info, now.Sub(s.started).Round(100*time.Millisecond).String())
		case s.took > 0:
			info = append(info, s.took.Round(time.Millisecond).String())
		}
		if s.state == "waiting" && !final && now.Before(p.waitTo) {
			info = append(info, "next poll in "+p.waitTo.Sub(now).Round(100*time.Millisecond).String())
		}
		line := fmt.Sprintf("  %s %-28s %s", icon, name, faint(strings.Join(info, "  ")))
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
		// Notes (a retry, an error) show under the step; in the final
		// frame an error is left to the result printed next.
		if s.note != "" && ((s.state == "failed" && !final) || s.state == "running") {
			fmt.Fprintf(&b, "      %s\n", faint(truncate(s.note, 100)))
		}
		if s.warn != "" {
			fmt.Fprintf(&b, "      %s\n", style("! "+truncate(s.warn, 160), "3"))
		}
		if s.violations > 0 {
			// The latest contract violation, and how many there were.
			more := ""
			if s.violations > 1 {
				more = fmt.Sprintf(" (%d violations)", s.violations)
			}
			fmt.Fprintf(&b, "      %s\n", style(truncate(s.lastViolation, 100)+more, "3"))
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// draw replaces the previous frame; callers hold the lock.
func (p *progress) draw() {
	p.render(false)
}

func (p *progress) render(final bool) {
	f := p.frame(p.now(), final)
	if p.lines > 0 {
		p.out.ClearLines(p.lines)
	}
	io.WriteString(p.out, f)
	p.lines = strings.Count(f, "\n")
}

// Start animates the view until Stop.
func (p *progress) Start() {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	p.out.HideCursor()
	go func() {
		defer close(p.done)
		t := time.NewTicker(120 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.tick++
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
}

// Stop draws the final frame and gives the terminal back.
func (p *progress) Stop() {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	p.render(true)
	p.out.ShowCursor()
}
