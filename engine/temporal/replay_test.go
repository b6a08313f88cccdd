package temporal

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// The histories in testdata/histories were recorded from a real Temporal
// server by the e2e module (cd e2e && go test -count=1 -update ./...):
// runs of testdata/jobs.arazzo.yaml that poll, retry, fail, are cancelled
// and continue as new. Replaying them with today's code must issue the
// same commands in the same order; a change to the interpreter that does
// not (another order of requests, a timer more or less, a wall-clock read
// that decides something) fails here, before it breaks runs in flight.

// replayWorker loads documents as the e2e worker did, from this
// directory, with the e2e key; load may substitute another document.
func replayWorker(load func(doc string) string) *Worker {
	return &Worker{
		Key: Key("e2e passphrase"),
		Load: func(ctx context.Context, doc string) (*engine.Plan, string, error) {
			plan, diags := engine.LoadFile(ctx, load(doc), &source.Loader{})
			if plan == nil {
				return nil, "", errors.New(diags.Error())
			}
			hash, err := engine.DocumentHash(doc, plan) // the recorded document's
			return plan, hash, err
		},
	}
}

func replay(w *Worker, file string) error {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(w.Run, workflow.RegisterOptions{Name: WorkflowName})
	return r.ReplayWorkflowHistoryFromJSONFile(quiet, file)
}

func histories(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("%d recorded histories: record them with cd e2e && go test -count=1 -update ./...", len(files))
	}
	return files
}

func TestReplayHistories(t *testing.T) {
	for _, file := range histories(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if err := replay(replayWorker(func(doc string) string { return doc }), file); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The replay test can fail: the same histories replayed against a plan
// without the flaky step (as a change to the interpreter that skipped a
// request would) are refused as nondeterministic.
func TestReplayDetectsChange(t *testing.T) {
	changed := replayWorker(func(string) string { return filepath.Join("testdata", "changed", "jobs.arazzo.yaml") })
	for _, name := range []string{"poll-2.json", "fail-2.json"} {
		err := replay(changed, filepath.Join("testdata", "histories", name))
		// TMPRL1100 is the SDK's code for a nondeterministic replay.
		if err == nil || !strings.Contains(err.Error(), "TMPRL1100") {
			t.Errorf("%s: want a nondeterminism error, got %v", name, err)
		}
	}
}
