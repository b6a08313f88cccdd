// Package e2e runs the arazzo CLI against a real Temporal server built
// from Go modules (go.temporal.io/server/temporaltest, in this process):
// `arazzo worker` and `arazzo run --temporal-address` as processes, a
// loopback API that counts calls. It is a module of its own so that the
// main module does not require the server.
//
//	cd engine/temporal/e2e && go test -count=1 ./...
//
// With -update it also records the histories of its runs into
// ../testdata/histories, which engine/temporal replays in its own tests.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/arazzo-go/arazzo/engine/temporal"
	"github.com/arazzo-go/arazzo/examples/emulators/jobs"
)

var update = flag.Bool("update", false, "record the runs' histories into ../testdata/histories")

const (
	authToken  = "bearer-credential-7f3a"
	ownerToken = "owner-secret-input-91c2"
	passphrase = "e2e passphrase"
)

var arazzo string // the binary under test

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "arazzo-e2e")
	if err != nil {
		panic(err)
	}
	arazzo = filepath.Join(dir, "arazzo")
	// Built in the main module, with its own dependencies: the binary users
	// of Temporal build (-tags temporal).
	build := exec.Command("go", "build", "-tags", "temporal", "-o", arazzo, "./cmd/arazzo")
	build.Dir = filepath.Join("..", "..", "..")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli is an arazzo command run from engine/temporal, where the test
// document's relative path is what the replay tests load too.
func cli(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, arazzo, args...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), temporal.KeyEnv+"="+passphrase, "NO_COLOR=1")
	return cmd
}

type env struct {
	ts     *temporaltest.TestServer
	addr   string
	ns     string
	queue  string
	api    *jobs.Server
	apiURL string
}

// start starts the server, the API and one `arazzo worker` process.
func start(t *testing.T, polls, flaky int, workerFlags ...string) *env {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	api := &jobs.Server{Token: authToken, Owner: ownerToken, Polls: polls, Flaky: flaky}
	hs := httptest.NewServer(api)
	t.Cleanup(hs.Close)
	e := &env{ts: ts, addr: ts.GetFrontendHostPort(), ns: ts.GetDefaultNamespace(), queue: "arazzo-e2e", api: api, apiURL: hs.URL + "/v1"}
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"worker", "--temporal-address", e.addr, "--namespace", e.ns, "--task-queue", e.queue,
		"--auth", "jobs.bearer=" + authToken, "--server", "jobs=" + e.apiURL, "--continue-after", "8"}, workerFlags...)
	w := cli(ctx, args...)
	w.Cancel = func() error { return w.Process.Signal(syscall.SIGINT) }
	stderr, err := w.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); w.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "polling task queue") {
				ready <- line
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not start")
	}
	return e
}

func (e *env) run(t *testing.T, ctx context.Context, id string, extra ...string) (stdout, stderr string, code int) {
	args := append([]string{"run", "testdata/jobs.arazzo.yaml", "--temporal-address", e.addr, "--namespace", e.ns,
		"--task-queue", e.queue, "--workflow-id", id, "--input", "name=patients", "--input", "ownerToken=" + ownerToken,
		"--poll-interval", "1s"}, extra...)
	cmd := cli(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestRunOnTemporal(t *testing.T) {
	e := start(t, 3, 1)
	ctx := context.Background()
	stdout, stderr, code := e.run(t, ctx, "e2e-poll")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"submitted as Temporal workflow e2e-poll", "poll", "COMPLETED", "job-patients"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, stdout, stderr)
		}
	}
	if strings.Contains(stdout+stderr, ownerToken) || strings.Contains(stdout+stderr, authToken) {
		t.Errorf("a secret is in the output")
	}
	if n := e.api.Count("POST /v1/jobs"); n != 1 {
		t.Errorf("%d start calls, want 1", n)
	}
	if n := e.api.Count("GET /v1/jobs/{id}"); n != 3 {
		t.Errorf("%d polls, want 3", n)
	}
	if n := e.api.Count("GET /v1/flaky"); n != 2 {
		t.Errorf("%d flaky calls, want 2", n)
	}
	// A local run of the same document against the same API prints the
	// same, timings and ports aside.
	local := &jobs.Server{Token: authToken, Owner: ownerToken, Polls: 3, Flaky: 1}
	ls := httptest.NewServer(local)
	defer ls.Close()
	cmd := cli(ctx, "run", "testdata/jobs.arazzo.yaml", "--input", "name=patients", "--input", "ownerToken="+ownerToken,
		"--poll-interval", "1s", "--server", "jobs="+ls.URL+"/v1", "--auth", "jobs.bearer="+authToken)
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("the local run: %v\n%s", err, want)
	}
	if got, want := normalize(stdout), normalize(string(want)); got != want {
		t.Errorf("on Temporal the output is\n%s\nlocally\n%s", got, want)
	}
	// The same run as JSON: the engine's result.
	stdout, _, code = e.run(t, ctx, "e2e-json", "--output", "json")
	var res struct {
		Status  string
		Outputs map[string]any
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Status != "succeeded" || res.Outputs["jobId"] != "job-patients" || res.Outputs["status"] != "COMPLETED" {
		t.Fatalf("exit %d, result %s", code, stdout)
	}
	e.checkHistory(t, "e2e-poll")
	e.record(t, "e2e-poll", "poll")
}

// The seed: the HealthLake export, signed with SigV4 on the worker, which
// runs the emulator that verifies every signature (--emulate healthlake).
func TestSeedOnTemporal(t *testing.T) {
	e := start(t, 1, 0, "--emulate", "healthlake")
	cmd := cli(context.Background(), "run", "../../workflows/amazon-healthlake-export.arazzo.yaml", "--inputs", "../../examples/healthlake-export.inputs.json",
		"--temporal-address", e.addr, "--namespace", e.ns, "--task-queue", e.queue, "--workflow-id", "e2e-seed", "--poll-interval", "1s", "--output", "json")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errb.String())
	}
	var res struct {
		Status  string
		Outputs map[string]any
	}
	if json.Unmarshal(out, &res) != nil || res.Status != "succeeded" || res.Outputs["jobStatus"] != "COMPLETED" {
		t.Fatalf("result %s", out)
	}
	text := payloadText(t, e.history(t, "e2e-seed", ""))
	for _, secret := range []string{"AWS4-HMAC-SHA256", "Signature=", "emulator/secret/key"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q is in the history", secret)
		}
	}
}

func TestLongPollContinuesAsNew(t *testing.T) {
	e := start(t, 12, 0)
	stdout, stderr, code := e.run(t, context.Background(), "e2e-long", "--poll-interval", "0.2s", "--output", "json")
	if code != 0 || !strings.Contains(stdout, `"COMPLETED"`) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := e.api.Count("POST /v1/jobs"); n != 1 {
		t.Errorf("%d start calls, want 1", n)
	}
	if n := e.api.Count("GET /v1/jobs/{id}"); n != 12 {
		t.Errorf("%d polls, want 12", n)
	}
	// --continue-after 8: the run went on in later Temporal runs.
	c := e.ts.GetDefaultClient()
	d, err := c.DescribeWorkflowExecution(context.Background(), "e2e-long", "")
	if err != nil {
		t.Fatal(err)
	}
	first := e.firstRun(t, "e2e-long")
	if first == d.GetWorkflowExecutionInfo().GetExecution().GetRunId() {
		t.Error("the long poll was not continued as new")
	}
	e.checkHistory(t, "e2e-long")
	e.record(t, "e2e-long", "long")
}

func TestFailingRunExitsOne(t *testing.T) {
	e := start(t, 1, 100)
	stdout, stderr, code := e.run(t, context.Background(), "e2e-fail")
	if code != 1 || !strings.Contains(stdout+stderr, "503") || !strings.Contains(stdout+stderr, "flaky") {
		t.Fatalf("exit %d (want 1)\n%s\n%s", code, stdout, stderr)
	}
	if n := e.api.Count("GET /v1/flaky"); n != 4 {
		t.Errorf("%d flaky calls, want 4 (retryLimit 3)", n)
	}
	e.record(t, "e2e-fail", "fail")
}

// A 1.1 step timeout that expires: the step fails as a StepTimeoutError
// and its onFailure decides (here: list instead). Its history is
// replayed by engine/temporal, where the failure comes back at once, with
// no wall-clock timer expired: the decision must come from the workflow's
// clock.
func TestStepTimeoutOnTemporal(t *testing.T) {
	e := start(t, 1, 0)
	e.api.SlowRoute, e.api.Slow = "POST /v1/jobs", 2*time.Second
	cmd := cli(context.Background(), "run", "testdata/steptimeout.arazzo.yaml", "--temporal-address", e.addr, "--namespace", e.ns,
		"--task-queue", e.queue, "--workflow-id", "e2e-steptimeout", "--input", "name=patients", "--input", "ownerToken="+ownerToken)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "timed out after 300ms") {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := e.api.Count("POST /v1/jobs"); n != 1 {
		t.Errorf("%d start calls, want 1 (a POST is not retried)", n)
	}
	if n := e.api.Count("GET /v1/jobs"); n != 1 {
		t.Errorf("%d list calls, want 1 (onFailure went on to list)", n)
	}
	e.record(t, "e2e-steptimeout", "steptimeout")
}

func TestDetach(t *testing.T) {
	e := start(t, 2, 0)
	stdout, stderr, code := e.run(t, context.Background(), "e2e-detach", "--detach")
	if code != 0 || strings.TrimSpace(stdout) != "e2e-detach" {
		t.Fatalf("exit %d, stdout %q (want the workflow id)\n%s", code, stdout, stderr)
	}
	// The run goes on without the submitter.
	var res struct{ Outputs map[string]any }
	if err := e.ts.GetDefaultClient().GetWorkflow(context.Background(), "e2e-detach", "").Get(context.Background(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Outputs["status"] != "COMPLETED" || e.api.Count("POST /v1/jobs") != 1 {
		t.Errorf("outputs %v, %d starts", res.Outputs, e.api.Count("POST /v1/jobs"))
	}
}

// A worker whose copy of the document differs from the submitter's
// refuses the run, and run says so with exit 2, nothing sent.
func TestChangedDocumentRefused(t *testing.T) {
	e := start(t, 2, 0)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("..")); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "testdata", "jobs.arazzo.yaml")
	data, _ := os.ReadFile(doc)
	if err := os.WriteFile(doc, append(data, "# changed by the submitter\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := cli(context.Background(), "run", "testdata/jobs.arazzo.yaml", "--temporal-address", e.addr, "--namespace", e.ns,
		"--task-queue", e.queue, "--input", "name=patients", "--input", "ownerToken="+ownerToken)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "the worker refused the run") ||
		!strings.Contains(string(out), "not the document the run was submitted with") {
		t.Fatalf("want exit 2 and the refusal, got %v\n%s", err, out)
	}
	if n := e.api.Count("POST /v1/jobs"); n != 0 {
		t.Errorf("%d start calls", n)
	}
}

// With no worker on the queue, run says so; Ctrl-C then cancels the
// workflow and exits 130 without waiting for a worker.
func TestNoWorker(t *testing.T) {
	e := start(t, 2, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := cli(ctx, "run", "testdata/jobs.arazzo.yaml", "--temporal-address", e.addr, "--namespace", e.ns,
		"--task-queue", "nobody-polls-this", "--input", "name=patients", "--input", "ownerToken="+ownerToken)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "no worker has taken the run up yet: is arazzo worker running on task queue nobody-polls-this") {
			break
		}
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	go io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v", err)
	}
	if d := time.Since(start); d > 30*time.Second { // CancelWait is 10 s: not forever
		t.Errorf("took %v to give up", d)
	}
}

func TestInterruptCancels(t *testing.T) {
	e := start(t, 1_000_000, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := []string{"run", "testdata/jobs.arazzo.yaml", "--temporal-address", e.addr, "--namespace", e.ns, "--task-queue", e.queue,
		"--workflow-id", "e2e-cancel", "--input", "name=patients", "--input", "ownerToken=" + ownerToken, "--poll-interval", "0.2s"}
	cmd := cli(ctx, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for e.api.Count("GET /v1/jobs/{id}") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no polls:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v\n%s", err, out.String())
	}
	d, err := e.ts.GetDefaultClient().DescribeWorkflowExecution(context.Background(), "e2e-cancel", "")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Errorf("the Temporal workflow is %v, want cancelled", s)
	}
	n := e.api.Count("GET /v1/jobs/{id}")
	time.Sleep(time.Second)
	if m := e.api.Count("GET /v1/jobs/{id}"); m != n {
		t.Errorf("polls went on after the cancel (%d → %d)", n, m)
	}
	e.record(t, "e2e-cancel", "cancel")
}

var timing = regexp.MustCompile(`\d+(\.\d+)?(ns|µs|ms|s)\b|127\.0\.0\.1:\d+`)

func normalize(out string) string { return timing.ReplaceAllString(out, "…") }

// history is the whole history of an execution chain's run.
func (e *env) history(t *testing.T, id, runID string) *historypb.History {
	it := e.ts.GetDefaultClient().GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}

func (e *env) firstRun(t *testing.T, id string) string {
	h := e.history(t, id, "")
	for {
		attrs := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
		prev := attrs.GetContinuedExecutionRunId()
		if prev == "" {
			return attrs.GetOriginalExecutionRunId()
		}
		h = e.history(t, id, prev)
	}
}

// checkHistory fails when a secret is anywhere in the histories of the
// execution's runs, as the server stores them.
func (e *env) checkHistory(t *testing.T, id string) {
	runID := ""
	for {
		h := e.history(t, id, runID)
		text := payloadText(t, h)
		if !strings.Contains(text, "job-patients") {
			t.Fatalf("history of %s/%s does not show the run: the check would prove nothing", id, runID)
		}
		for _, secret := range []string{authToken, ownerToken, "Bearer"} {
			if strings.Contains(text, secret) {
				t.Errorf("%q is in the history of %s", secret, id)
			}
		}
		prev := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			return
		}
		runID = prev
	}
}

// payloadText is the history as protojson, with every payload's data
// (base64 there) decoded after it: the check reads what is stored.
func payloadText(t *testing.T, h *historypb.History) string {
	data, err := protojson.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, m := range dataField.FindAllStringSubmatch(text, -1) {
		if b, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			text += "\n" + string(b)
		}
	}
	return text
}

var dataField = regexp.MustCompile(`"data":\s*"([A-Za-z0-9+/=]+)"`)

// record writes the histories of the execution's runs (first to last,
// name-1.json on) for the replay tests, with -update.
func (e *env) record(t *testing.T, id, name string) {
	if !*update {
		return
	}
	var runs []*historypb.History
	for runID := ""; ; {
		h := e.history(t, id, runID)
		runs = append([]*historypb.History{h}, runs...)
		if runID = h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId(); runID == "" {
			break
		}
	}
	dir := filepath.Join("..", "testdata", "histories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, h := range runs {
		data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.json", name, i+1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
