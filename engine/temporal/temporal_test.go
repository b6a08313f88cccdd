package temporal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/jobs"
)

const (
	authToken  = "bearer-credential-7f3a"  // the worker's --auth value
	ownerToken = "owner-secret-input-91c2" // a secret input
)

// jobServer is examples/emulators/jobs on loopback.
type jobServer struct {
	*jobs.Server
	URL string
}

func newJobServer(t *testing.T, polls, flaky int) *jobServer {
	api := &jobs.Server{Token: authToken, Owner: ownerToken, Polls: polls, Flaky: flaky}
	hs := httptest.NewServer(api)
	t.Cleanup(hs.Close)
	return &jobServer{api, hs.URL}
}

const doc = "testdata/jobs.arazzo.yaml"

var key = Key("test passphrase")

// newWorker is a worker whose credentials are a bearer token, sending to
// the server.
func newWorker(srv *jobServer) *Worker {
	creds := security.Values{"jobs": {"bearer": {"": authToken}}}
	return &Worker{
		Key: key,
		Load: func(ctx context.Context, document string) (*engine.Plan, string, error) {
			plan, diags := engine.LoadFile(ctx, document, &source.Loader{})
			if plan == nil {
				return nil, "", errors.New(diags.Error())
			}
			hash, err := engine.DocumentHash(document, plan)
			return plan, hash, err
		},
		Options: func(*engine.Plan) (*engine.Options, error) {
			return &engine.Options{
				Middleware: []engine.Middleware{security.New(security.Config{Layers: []security.Layer{creds.Layer("--auth")}})},
				Secrets:    creds.All(),
				Servers:    map[string]string{"jobs": srv.URL + "/v1"},
			}, nil
		},
	}
}

func input(t *testing.T, w *Worker, inputs map[string]any) Input {
	t.Helper()
	plan, hash, err := w.Load(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInput(doc, hash, plan, "export", inputs, key)
	if err != nil {
		t.Fatal(err)
	}
	in.Settings = Settings{PollInterval: 5 * time.Second, RequestTimeout: 5 * time.Second}
	return in
}

var quiet = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

var defaultInputs = map[string]any{"name": "patients", "ownerToken": ownerToken}

// recorder is a data converter that keeps every payload it encodes: what
// the history of the run records (workflow input, activity inputs and
// results, the workflow's result, a continued run's input).
type recorder struct {
	converter.DataConverter
	mu       sync.Mutex
	payloads []string
}

func newRecorder() *recorder { return &recorder{DataConverter: converter.GetDefaultDataConverter()} }

func (r *recorder) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	p, err := r.DataConverter.ToPayloads(values...)
	if err == nil {
		r.mu.Lock()
		for _, x := range p.GetPayloads() {
			r.payloads = append(r.payloads, string(x.GetData()))
		}
		r.mu.Unlock()
	}
	return p, err
}

func (r *recorder) ToPayload(value any) (*commonpb.Payload, error) {
	p, err := r.DataConverter.ToPayload(value)
	if err == nil {
		r.mu.Lock()
		r.payloads = append(r.payloads, string(p.GetData()))
		r.mu.Unlock()
	}
	return p, err
}

// WithSerializationContext keeps the recorder (the embedded converter's
// would return itself, unrecorded).
func (r *recorder) WithSerializationContext(converter.SerializationContext) converter.DataConverter {
	return r
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.payloads, "\n")
}

type harness struct {
	env    *testsuite.TestWorkflowEnvironment
	rec    *recorder
	events []engine.Event
	mu     sync.Mutex
}

func newHarness(t *testing.T, w *Worker) *harness {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quiet)
	h := &harness{env: suite.NewTestWorkflowEnvironment(), rec: newRecorder()}
	h.env.SetDataConverter(h.rec)
	h.env.SetTestTimeout(30 * time.Second)
	w.Register(h.env)
	return h
}

func (h *harness) run(t *testing.T, in Input) (*engine.Result, error) {
	t.Helper()
	h.env.ExecuteWorkflow(WorkflowName, in)
	if !h.env.IsWorkflowCompleted() {
		t.Fatal("the workflow did not complete")
	}
	var res engine.Result
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
	}
	return resultOf(&res, err)
}

func TestPollWorkflow(t *testing.T) {
	srv := newJobServer(t, 4, 2)
	w := newWorker(srv)
	h := newHarness(t, w)
	var timers []time.Duration
	h.env.SetOnTimerScheduledListener(func(_ string, d time.Duration) { timers = append(timers, d) })
	start := h.env.Now()
	res, err := h.run(t, input(t, w, defaultInputs))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Status != engine.Succeeded {
		t.Fatalf("status %s", res.Status)
	}
	want := map[string]any{"jobId": "job-patients", "status": "COMPLETED", "count": float64(1)}
	for k, v := range want {
		if fmt.Sprint(res.Outputs[k]) != fmt.Sprint(v) {
			t.Errorf("output %s = %v, want %v", k, res.Outputs[k], v)
		}
	}
	if n := srv.Count("POST /v1/jobs"); n != 1 {
		t.Errorf("%d start calls, want exactly 1", n)
	}
	if n := srv.Count("GET /v1/jobs/{id}"); n != 4 {
		t.Errorf("%d polls, want 4", n)
	}
	if n := srv.Count("GET /v1/flaky"); n != 3 {
		t.Errorf("%d calls of the flaky step, want 3 (2 retries)", n)
	}
	// Three poll waits of 5 s, then two retries after the 3 s Retry-After:
	// durable timers, skipped by the test environment.
	wantTimers := []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 3 * time.Second, 3 * time.Second}
	if fmt.Sprint(timers) != fmt.Sprint(wantTimers) {
		t.Errorf("timers %v, want %v", timers, wantTimers)
	}
	if d := h.env.Now().Sub(start); d < 21*time.Second {
		t.Errorf("workflow time moved %v, want the 21 s of waits", d)
	}
	steps := map[string]int{}
	for _, s := range res.Steps {
		steps[s.StepID] = s.Runs
	}
	if fmt.Sprint(steps) != "map[flaky:3 list:1 poll:4 start:1]" {
		t.Errorf("step runs %v", steps)
	}
}

func TestEventsQuery(t *testing.T) {
	srv := newJobServer(t, 2, 0)
	w := newWorker(srv)
	h := newHarness(t, w)
	var mid Events
	// Between the polls, the query answers with the events so far.
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(EventsQuery, 0)
		if err != nil {
			t.Error(err)
			return
		}
		v.Get(&mid)
	}, 2*time.Second)
	if _, err := h.run(t, input(t, w, defaultInputs)); err != nil {
		t.Fatal(err)
	}
	if len(mid.Events) == 0 || mid.Events[0].Kind != engine.RunStarted {
		t.Fatalf("mid-run events: %+v", mid.Events)
	}
	for _, e := range mid.Events {
		if e.Kind == engine.RunFinished {
			t.Fatal("the run had finished at the first poll wait")
		}
	}
	v, err := h.env.QueryWorkflow(EventsQuery, mid.Next)
	if err != nil {
		t.Fatal(err)
	}
	var rest Events
	if err := v.Get(&rest); err != nil {
		t.Fatal(err)
	}
	if rest.From != mid.Next || len(rest.Events) == 0 || rest.Events[len(rest.Events)-1].Kind != engine.RunFinished {
		t.Fatalf("the rest: from %d (want %d), %d events", rest.From, mid.Next, len(rest.Events))
	}
}

func TestFailingStep(t *testing.T) {
	srv := newJobServer(t, 1, 10) // /flaky never recovers within the retry limit
	w := newWorker(srv)
	h := newHarness(t, w)
	res, err := h.run(t, input(t, w, defaultInputs))
	var re *engine.RunError
	if !errors.As(err, &re) || res == nil || res.Status != engine.Failed {
		t.Fatalf("want a failed run, got %v, %v", res, err)
	}
	if re.StepID != "flaky" || re.StatusCode != 503 || re.Attempt != 4 {
		t.Errorf("error %+v, want step flaky, status 503, attempt 4", re)
	}
	if n := srv.Count("GET /v1/flaky"); n != 4 {
		t.Errorf("%d calls, want 4 (retryLimit 3)", n)
	}
	if n := srv.Count("GET /v1/jobs"); n != 0 {
		t.Errorf("the step after the failing one ran")
	}
}

func TestCancel(t *testing.T) {
	srv := newJobServer(t, 1000, 0)
	w := newWorker(srv)
	h := newHarness(t, w)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 12*time.Second)
	res, err := h.run(t, input(t, w, defaultInputs))
	if res == nil || res.Status != engine.Failed || !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancelled run, got %v, %v", res, err)
	}
	var ce *temporal.CanceledError
	if !errors.As(h.env.GetWorkflowError(), &ce) {
		t.Errorf("the Temporal workflow ended with %v, want it cancelled", h.env.GetWorkflowError())
	}
	if n := srv.Count("GET /v1/jobs/{id}"); n < 2 || n > 4 {
		t.Errorf("%d polls before the cancel at 12 s with 5 s waits", n)
	}
	if res.Error.StepID != "poll" {
		t.Errorf("stopped at %q", res.Error.StepID)
	}
}

func TestTimeout(t *testing.T) {
	srv := newJobServer(t, 1000, 0)
	w := newWorker(srv)
	h := newHarness(t, w)
	in := input(t, w, defaultInputs)
	in.Timeout = 30 * time.Second
	res, err := h.run(t, in)
	if res == nil || res.Status != engine.Failed || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("want a run stopped by its timeout, got %v, %v", res, err)
	}
	if n := srv.Count("GET /v1/jobs/{id}"); n < 6 || n > 8 {
		t.Errorf("%d polls in 30 s with 5 s waits", n)
	}
}

func TestTransportErrorRetriedByTemporal(t *testing.T) {
	srv := newJobServer(t, 1, 0)
	w := newWorker(srv)
	h := newHarness(t, w)
	// A closed port: connections are refused, so Temporal retries the
	// activity (5 attempts), then the step fails with the transport error.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	in := input(t, w, defaultInputs)
	in.Settings.Servers = map[string]string{"jobs": dead.URL + "/v1"}
	attempts := 0
	h.env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { attempts++ })
	res, err := h.run(t, in)
	var re *engine.RunError
	if !errors.As(err, &re) || res == nil || re.StepID != "start" {
		t.Fatalf("want the start step to fail, got %v", err)
	}
	if !strings.Contains(re.Message, "refused") {
		t.Errorf("message %q does not say the connection was refused", re.Message)
	}
	if attempts != 5 {
		t.Errorf("%d activity attempts, want 5 (the retry policy)", attempts)
	}
}

// A request that timed out may have taken effect: Temporal sends a GET
// again, never a POST (a second job would start).
func TestRequestTimeouts(t *testing.T) {
	for _, tc := range []struct {
		route, step string
		calls       int
	}{
		{"GET /v1/jobs/{id}", "poll", 5},
		{"POST /v1/jobs", "start", 1},
	} {
		t.Run(tc.step, func(t *testing.T) {
			srv := newJobServer(t, 1, 0)
			srv.SlowRoute, srv.Slow = tc.route, 600*time.Millisecond
			w := newWorker(srv)
			h := newHarness(t, w)
			in := input(t, w, defaultInputs)
			in.Settings.RequestTimeout = 150 * time.Millisecond
			res, err := h.run(t, in)
			var re *engine.RunError
			if !errors.As(err, &re) || res == nil || re.StepID != tc.step || !strings.Contains(re.Message, "no response within 150ms (the request timeout)") {
				t.Fatalf("want step %s to fail with a timeout, got %v", tc.step, err)
			}
			if n := srv.Count(tc.route); n != tc.calls {
				t.Errorf("%d calls of %s, want %d", n, tc.route, tc.calls)
			}
		})
	}
}

// A 1.1 step timeout bounds the step's request in the activity.
func TestStepTimeout(t *testing.T) {
	srv := newJobServer(t, 1, 0)
	srv.SlowRoute, srv.Slow = "GET /v1/jobs/{id}", 600*time.Millisecond
	w := newWorker(srv)
	h := newHarness(t, w)
	plan, hash, err := w.Load(context.Background(), "testdata/jobs11.arazzo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInput("testdata/jobs11.arazzo.yaml", hash, plan, "export", defaultInputs, key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.run(t, in)
	var re *engine.RunError
	if !errors.As(err, &re) || re.StepID != "poll" || !strings.Contains(re.Message, "timed out after 100ms") {
		t.Fatalf("want the poll step to time out after 100ms, got %v", err)
	}
	// Each attempt was cut at 100ms, not at the run's 5 s request timeout.
	if n := srv.Count("GET /v1/jobs/{id}"); n != 5 {
		t.Errorf("%d attempts, want 5 (a GET that timed out is retried)", n)
	}
}

func TestSecretsNotInHistory(t *testing.T) {
	srv := newJobServer(t, 2, 1)
	w := newWorker(srv)
	h := newHarness(t, w)
	res, err := h.run(t, input(t, w, defaultInputs))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["jobId"] != "job-patients" {
		t.Fatalf("outputs %v", res.Outputs)
	}
	history := h.rec.all()
	if !strings.Contains(history, "job-patients") || !strings.Contains(history, "IN_PROGRESS") {
		t.Fatal("the recorder saw no payloads: the test would prove nothing")
	}
	for _, secret := range []string{authToken, ownerToken, "Bearer", jsonForm(ownerToken),
		base64.StdEncoding.EncodeToString([]byte(ownerToken)), base64.StdEncoding.EncodeToString([]byte(authToken))} {
		if strings.Contains(history, secret) {
			t.Errorf("%q is in the history", secret)
		}
	}
}

func jsonForm(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestSecretInputsNeedAKey(t *testing.T) {
	srv := newJobServer(t, 1, 0)
	w := newWorker(srv)
	plan, hash, _ := w.Load(context.Background(), doc)
	_, err := NewInput(doc, hash, plan, "export", defaultInputs, nil)
	if err == nil || !strings.Contains(err.Error(), "ownerToken") || !strings.Contains(err.Error(), KeyEnv) {
		t.Fatalf("want a refusal naming the input and %s, got %v", KeyEnv, err)
	}
	// A worker without the key refuses the run, sending nothing.
	w.Key = nil
	h := newHarness(t, w)
	in := input(t, w, defaultInputs)
	h.refused(t, in, srv, "no key")
}

func TestDocumentChangedRefused(t *testing.T) {
	srv := newJobServer(t, 1, 0)
	w := newWorker(srv)
	h := newHarness(t, w)
	in := input(t, w, defaultInputs)
	in.Hash = strings.Repeat("0", 64)
	h.refused(t, in, srv, "not the document the run was submitted with")
}

// refused runs in and wants it refused with a message saying why, and
// nothing sent.
func (h *harness) refused(t *testing.T, in Input, srv *jobServer, why string) {
	t.Helper()
	_, err := h.run(t, in)
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), why) {
		t.Fatalf("want the run refused (%s), got %v", why, err)
	}
	if n := srv.Count("POST /v1/jobs"); n != 0 {
		t.Errorf("%d starts", n)
	}
}

func TestContinueAsNew(t *testing.T) {
	srv := newJobServer(t, 12, 0)
	w := newWorker(srv)
	w.MaxActions = 5
	h := newHarness(t, w)
	in := input(t, w, defaultInputs)
	h.env.ExecuteWorkflow(WorkflowName, in)
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want the run continued as new, got %v", err)
	}
	// Run the continuations as the server would, each a new run.
	runs := 1
	for errors.As(h.env.GetWorkflowError(), &can) {
		var next Input
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
			t.Fatal(err)
		}
		if next.State == "" || strings.Contains(next.State, ownerToken) {
			t.Fatalf("continued input: state %q", next.State)
		}
		h = newHarness(t, w)
		h.env.ExecuteWorkflow(WorkflowName, next)
		runs++
		if runs > 10 {
			t.Fatal("too many continuations")
		}
	}
	var res engine.Result
	if err := h.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.Succeeded || res.Outputs["status"] != "COMPLETED" || res.Outputs["jobId"] != "job-patients" {
		t.Fatalf("result %+v", res)
	}
	if runs < 3 {
		t.Errorf("%d runs, want the poll continued as new at least twice", runs)
	}
	if n := srv.Count("POST /v1/jobs"); n != 1 {
		t.Errorf("%d start calls across %d runs, want exactly 1", n, runs)
	}
	if n := srv.Count("GET /v1/jobs/{id}"); n != 12 {
		t.Errorf("%d polls, want 12", n)
	}
	for _, s := range res.Steps {
		if s.StepID == "poll" && s.Runs != 12 {
			t.Errorf("poll counted %d runs across continuations, want 12", s.Runs)
		}
	}
}

func TestAsyncAPIRefused(t *testing.T) {
	plan, diags := engine.LoadFile(context.Background(), filepath.Join("..", "..", "examples", "pet-purchase", "pet-purchase.arazzo.yaml"), &source.Loader{})
	if plan == nil {
		t.Skip(diags.Error())
	}
	if err := Supported(plan); err == nil || !strings.Contains(err.Error(), "AsyncAPI") {
		t.Fatalf("want a refusal, got %v", err)
	}
}
