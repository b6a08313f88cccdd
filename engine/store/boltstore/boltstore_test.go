package boltstore

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/arazzo-go/arazzo/engine"
)

func TestRecordLoadList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.Begin(Meta{Document: "/d.yaml", Hash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	st := &engine.RunState{WorkflowID: "w", Inputs: map[string]any{"n": json.Number("12345678901234567890")},
		Frames: []engine.FrameState{{WorkflowID: "w", StepID: "poll", PC: 1, Attempt: 2}}}
	if err := j.Record(st); err != nil {
		t.Fatal(err)
	}
	st.Frames[0].Attempt = 3
	if err := j.Record(st); err != nil {
		t.Fatal(err)
	}
	// Another process cannot open it while this one has it.
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second open: %v", err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.List()
	if err != nil || len(runs) != 1 {
		t.Fatalf("%v %v", runs, err)
	}
	run, err := s.Load(j.ID())
	if err != nil {
		t.Fatal(err)
	}
	if run.Document != "/d.yaml" || run.State.Frames[0].Attempt != 3 || run.State.Inputs["n"] != json.Number("12345678901234567890") {
		t.Fatalf("the last record, numbers exact: %+v", run)
	}
	if _, err := s.Load("nope"); err == nil {
		t.Fatal("an unknown run is an error")
	}
}

// BenchmarkRecord is the cost a durable run adds per record (three per
// request: the step boundary, before, after), an fsynced write.
func BenchmarkRecord(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "runs.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	j, _ := s.Begin(Meta{Document: "/d.yaml"})
	st := &engine.RunState{WorkflowID: "w", Inputs: map[string]any{"DatastoreId": "4f8a2d1c9e7b4a6f8d3c2b1a0e9f8d7c"},
		Frames: []engine.FrameState{{WorkflowID: "w", StepID: "poll", PC: 1, Attempt: 1,
			Steps:    map[string]map[string]any{"start": {"jobId": "3afd6a73e78d6c90843239f90d4bafb1"}},
			Requests: []engine.RequestRecord{{StepID: "poll", Method: "POST", URL: "http://127.0.0.1/", Response: &engine.ResponseRecord{Status: 200, Body: `{"ExportJobProperties":{"JobStatus":"IN_PROGRESS"}}`}}}}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := j.Record(st); err != nil {
			b.Fatal(err)
		}
	}
}
