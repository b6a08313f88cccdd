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
