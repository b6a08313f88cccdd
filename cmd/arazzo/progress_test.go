package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// The live view, frame by frame, as the seed polls: rendered from the same
// events a real run emits, with a fake clock.
func TestProgressFrames(t *testing.T) {
	plan, diags := engine.LoadFile(context.Background(), seedDoc, &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	wf := plan.Workflows[0]
	clock := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var buf bytes.Buffer
	p := newProgress(&buf, wf, now)
	ev := func(e engine.Event) {
		e.WorkflowID, e.Time = wf.ID, clock
		p.OnEvent(e)
	}
	var frames []string
	snap := func(label string) { frames = append(frames, "--- "+label+"\n"+p.frame(clock, false)) }
	resp := func(code int) *engine.ResponseInfo {
		return &engine.ResponseInfo{StatusCode: code, Header: http.Header{}}
	}

	snap("before the first step")
	ev(engine.Event{Kind: engine.StepStarted, StepID: "startExportJob", Visit: 1, Attempt: 1})
	clock = clock.Add(300 * time.Millisecond)
	snap("starting the job")
	ev(engine.Event{Kind: engine.ResponseReceived, StepID: "startExportJob", Response: resp(200)})
	ev(engine.Event{Kind: engine.StepFinished, StepID: "startExportJob", Status: engine.Succeeded, Duration: 312 * time.Millisecond})
	for visit := 1; visit <= 3; visit++ {
		ev(engine.Event{Kind: engine.StepStarted, StepID: "pollExportJob", Visit: visit, Attempt: 1})
		p.tick++
		clock = clock.Add(40 * time.Millisecond)
		ev(engine.Event{Kind: engine.ResponseReceived, StepID: "pollExportJob", Response: resp(200)})
		ev(engine.Event{Kind: engine.StepFinished, StepID: "pollExportJob", Status: engine.Succeeded, Duration: 41 * time.Millisecond})
		if visit == 3 {
			ev(engine.Event{Kind: engine.Notice, StepID: "pollExportJob", Message: `no onSuccess action matched ($.ExportJobProperties.JobStatus = "FAILED"); going on to the next step`})
			snap("a poll that falls through")
		}
		if visit < 3 {
			ev(engine.Event{Kind: engine.Waiting, StepID: "pollExportJob", Wait: 5 * time.Second, Message: "poll"})
			clock = clock.Add(2 * time.Second)
			snap("waiting between polls")
		}
	}
	ev(engine.Event{Kind: engine.StepStarted, StepID: "listExportJobs", Visit: 1, Attempt: 1})
	ev(engine.Event{Kind: engine.CallerRetry, StepID: "listExportJobs", Message: "AWS ThrottlingException: Rate exceeded; retrying (attempt 2 of 3) in 1.2s"})
	snap("a throttled list call")
	ev(engine.Event{Kind: engine.StepFinished, StepID: "listExportJobs", Status: engine.Failed, Duration: 1500 * time.Millisecond, Err: "status 500 InternalServerException: boom"})
	frames = append(frames, "--- final\n"+p.frame(clock, true))
	checkGolden(t, filepath.Join("testdata", "progress.frames"), strings.Join(frames, ""))
	if !strings.Contains(buf.String(), "pollExportJob") {
		t.Fatal("the view is written to the terminal as it changes")
	}
}

func TestProgressColorsAndNoColor(t *testing.T) {
	plan, _ := engine.LoadFile(context.Background(), seedDoc, &source.Loader{})
	var buf bytes.Buffer
	p := newProgress(&buf, plan.Workflows[0], time.Now, termenv.WithProfile(termenv.ANSI))
	p.OnEvent(engine.Event{Kind: engine.StepFinished, WorkflowID: plan.Workflows[0].ID, StepID: "startExportJob", Status: engine.Succeeded})
	if !strings.Contains(p.frame(time.Now(), false), "\x1b[") {
		t.Fatal("a color terminal gets colors")
	}
	t.Setenv("NO_COLOR", "1")
	p = newProgress(&buf, plan.Workflows[0], time.Now, termenv.WithProfile(termenv.ANSI))
	p.OnEvent(engine.Event{Kind: engine.StepFinished, WorkflowID: plan.Workflows[0].ID, StepID: "startExportJob", Status: engine.Succeeded})
	if strings.Contains(p.frame(time.Now(), false), "\x1b[") {
		t.Fatal("NO_COLOR turns colors off")
	}
}

// Contract violations show under their step in the live view: the latest
// one, and how many there were.
func TestProgressViolations(t *testing.T) {
	plan, _ := engine.LoadFile(context.Background(), seedDoc, &source.Loader{})
	wf := plan.Workflows[0]
	var buf bytes.Buffer
	p := newProgress(&buf, wf, time.Now)
	for _, ptr := range []string{"/JobId", "/JobStatus"} {
		v := &engine.Violation{Check: engine.CheckSchema, Severity: engine.CheckWarn, Pointer: ptr, Rule: "type", Message: "value must be a string"}
		p.OnEvent(engine.Event{Kind: engine.CheckViolated, WorkflowID: wf.ID, StepID: "startExportJob", Violation: v, Message: v.String()})
	}
	frame := p.frame(time.Now(), false)
	if !strings.Contains(frame, "warn: schema /JobStatus: value must be a string (type) (2 violations)") {
		t.Fatalf("frame:\n%s", frame)
	}
}

// The live view shows what an AsyncAPI step sent or received.
func TestProgressMessages(t *testing.T) {
	plan, diags := engine.LoadFile(context.Background(), "../../examples/pet-purchase/pet-purchase.arazzo.yaml", &source.Loader{}, protocols()...)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	wf := plan.Workflows[0]
	var buf bytes.Buffer
	p := newProgress(&buf, wf, time.Now)
	p.OnEvent(engine.Event{Kind: engine.MessageSent, WorkflowID: wf.ID, StepID: "purchasePetStep", Msg: &engine.MessageInfo{Protocol: "kafka", Channel: "place-order"}})
	p.OnEvent(engine.Event{Kind: engine.MessageReceived, WorkflowID: wf.ID, StepID: "confirmPetPurchaseStep", Msg: &engine.MessageInfo{Protocol: "kafka", Channel: "confirm-order"}})
	frame := p.frame(time.Now(), false)
	if !strings.Contains(frame, "sent place-order") || !strings.Contains(frame, "received confirm-order") {
		t.Fatalf("frame:\n%s", frame)
	}
}
