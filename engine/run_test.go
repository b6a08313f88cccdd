package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Run scenarios (a document, canned answers, the Result they give) are
// archives in testdata/run, run by scenario_test.go. What stays here is
// what an archive cannot say: a run timed out or cancelled mid-way (its
// step count depends on the clock), the error types of invalid inputs and
// unknown workflows, and runs sharing one plan concurrently. The helpers
// also serve faults_test.go and hostile_test.go.

// testServer is a loopback API whose handlers each test sets, keyed by
// "METHOD /path". It records every request.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	log  []recorded
	hits map[string]int
}

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

func newTestServer(t *testing.T, handlers map[string]func(w http.ResponseWriter, r *http.Request, n int)) *testServer {
	t.Helper()
	ts := &testServer{hits: map[string]int{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body))) // handlers may read it too
		key := r.Method + " " + r.URL.Path
		ts.mu.Lock()
		ts.hits[key]++
		n := ts.hits[key]
		ts.log = append(ts.log, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
		ts.mu.Unlock()
		h, ok := handlers[key]
		if !ok {
			http.Error(w, `{"message":"no handler for `+key+`"}`, http.StatusNotFound)
			return
		}
		h(w, r, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// count is how many requests "METHOD /path" has received.
func (ts *testServer) count(key string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.hits[key]
}

func (ts *testServer) requests() []recorded {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]recorded(nil), ts.log...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonHandler(status int, body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// compileDoc writes an Arazzo document around the given workflows (and
// optional components) next to the test API description and compiles it.
func compileDoc(t *testing.T, workflows, components string) *Plan {
	t.Helper()
	dir := t.TempDir()
	api, err := os.ReadFile("testdata/testapi.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "testapi.openapi.yaml"), api, 0o644); err != nil {
		t.Fatal(err)
	}
	doc := "arazzo: 1.0.1\ninfo: {title: test, version: '1'}\nsourceDescriptions:\n  - name: api\n    url: ./testapi.openapi.yaml\n    type: openapi\nworkflows:\n" + workflows
	if components != "" {
		doc += "\ncomponents:\n" + components
	}
	path := filepath.Join(dir, "test.arazzo.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, diags := LoadFile(context.Background(), path, &source.Loader{})
	if plan == nil {
		t.Fatalf("document does not compile:\n%s\n%s", diags.Error(), doc)
	}
	return plan
}

// sleeps records the waits a run asks for instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func testOptions(ts *testServer, sl *sleeps) *Options {
	o := &Options{Servers: map[string]string{"api": ts.URL + "/v1"}, PollInterval: -1}
	if sl != nil {
		o.Sleep = sl.sleep
	}
	return o
}

func TestTimeoutAndCancellation(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/status": jsonHandler(200, `{"status":"running"}`),
	})
	plan := compileDoc(t, `
  - workflowId: poll
    steps:
      - stepId: check
        operationId: getStatus
        onSuccess:
          - name: again
            type: goto
            stepId: check
`, "")
	o := testOptions(ts, nil)
	o.PollInterval = 10 * time.Millisecond
	o.Timeout = 100 * time.Millisecond
	start := time.Now()
	res, err := plan.Run(context.Background(), "poll", nil, o)
	if err == nil || !strings.Contains(res.Error.Message, "timed out in step check") {
		t.Fatalf("want a timeout naming the step, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the timeout must stop the run promptly")
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.Timeout = 0
	o.Observers = []Observer{ObserverFunc(func(e Event) {
		if e.Kind == StepFinished && e.Visit == 3 {
			cancel()
		}
	})}
	res, err = plan.Run(ctx, "poll", nil, o)
	if err == nil || !strings.Contains(res.Error.Message, "cancelled") || res.Steps[0].Runs != 3 {
		t.Fatalf("cancellation stops the run: %v %+v", err, res.Steps)
	}
}

func TestInputsValidatedBeforeAnyRequest(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"GET /v1/status": jsonHandler(200, `{}`)})
	plan := compileDoc(t, `
  - workflowId: flow
    inputs:
      $ref: '#/components/inputs/outer'
    steps:
      - stepId: s
        operationId: getStatus
`, `  inputs:
    outer:
      $ref: '#/components/inputs/inner'
    inner:
      type: object
      required: [name]
      properties:
        name: {type: string, description: who}
        count: {type: integer, minimum: 1}
`)
	_, err := plan.Run(context.Background(), "flow", map[string]any{"count": json.Number("0")}, testOptions(ts, nil))
	var ie *schema.InputError
	if !errors.As(err, &ie) || len(ie.Problems) != 2 {
		t.Fatalf("want both violations, got %v", err)
	}
	if !strings.Contains(err.Error(), "input name is required (string: who)") || !strings.Contains(err.Error(), "input count") {
		t.Fatalf("the error names each input and rule: %v", err)
	}
	if len(ts.requests()) != 0 {
		t.Fatal("nothing may be sent when inputs are invalid")
	}
	// A secret input that breaks its schema is not quoted back.
	secretPlan := compileDoc(t, `
  - workflowId: flow
    inputs:
      type: object
      properties:
        apiKey: {type: string, pattern: '^sk-'}
    steps:
      - stepId: s
        operationId: getStatus
`, "")
	_, err = secretPlan.Run(context.Background(), "flow", map[string]any{"apiKey": "CANARY-PATTERN-9a7"}, testOptions(ts, nil))
	if !errors.As(err, &ie) || strings.Contains(err.Error(), "CANARY-PATTERN-9a7") || !strings.Contains(err.Error(), "****") {
		t.Fatalf("the error shows the secret: %v", err)
	}
	if _, err := plan.Run(context.Background(), "nope", nil, testOptions(ts, nil)); !errors.Is(err, ErrUnknownWorkflow) || !strings.Contains(err.Error(), "flow") {
		t.Fatalf("an unknown workflow lists the valid ones: %v", err)
	}
}

func TestConcurrentRunsShareOnePlan(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/items/1": jsonHandler(200, `{"v":1}`),
		"GET /v1/items/2": jsonHandler(200, `{"v":2}`),
	})
	plan := compileDoc(t, `
  - workflowId: flow
    inputs:
      type: object
      properties:
        id: {type: integer}
    steps:
      - stepId: get
        operationId: getItem
        parameters:
          - {name: id, in: path, value: $inputs.id}
        outputs:
          v: $response.body#/v
    outputs:
      v: $steps.get.outputs.v
`, "")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			res, err := plan.Run(context.Background(), "flow", map[string]any{"id": json.Number(fmt.Sprint(id))}, testOptions(ts, nil))
			if err != nil {
				errs <- err
				return
			}
			if res.Outputs["v"] != json.Number(fmt.Sprint(id)) {
				errs <- fmt.Errorf("run %d got %v", id, res.Outputs)
			}
		}(i%2 + 1)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// An output that echoes a secret input is masked in the Result and in
// every event that carries outputs, while later steps still read the real
// value.
func TestSecretOutputsMasked(t *testing.T) {
	const key = "CANARY-OUT-5e1c7a"
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/items/1": func(w http.ResponseWriter, r *http.Request, _ int) {
			writeJSON(w, 200, map[string]any{"id": 1, "echo": r.Header.Get("X-Key"), "nested": []any{"k=" + r.Header.Get("X-Key")}})
		},
		"GET /v1/items/2": func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.Header.Get("X-Key") != key {
				writeJSON(w, 401, map[string]any{"message": "the step got a masked value"})
				return
			}
			writeJSON(w, 200, map[string]any{"id": 2})
		},
	})
	plan := compileDoc(t, `
  - workflowId: echo
    inputs:
      type: object
      properties:
        apiKey: {type: string}
    steps:
      - stepId: first
        operationId: getItem
        parameters:
          - {name: id, in: path, value: 1}
          - {name: X-Key, in: header, value: $inputs.apiKey}
        outputs:
          echo: $response.body#/echo
          body: $response.body
      - stepId: second
        operationId: getItem
        parameters:
          - {name: id, in: path, value: 2}
          - {name: X-Key, in: header, value: $steps.first.outputs.echo}
    outputs:
      direct: $inputs.apiKey
      echo: $steps.first.outputs.echo
      body: $steps.first.outputs.body
`, "")
	o := testOptions(ts, nil)
	var events []string
	o.Observers = []Observer{ObserverFunc(func(e Event) {
		if e.Outputs != nil {
			b, _ := json.Marshal(e.Outputs)
			events = append(events, string(e.Kind)+" "+string(b))
		}
	})}
	res, err := plan.Run(context.Background(), "echo", map[string]any{"apiKey": key}, o)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res.Outputs)
	if strings.Contains(string(out), key) || !strings.Contains(string(out), `"k=****"`) || res.Outputs["direct"] != Mask {
		t.Errorf("result outputs %s", out)
	}
	if len(events) == 0 {
		t.Fatal("no event carried outputs")
	}
	for _, e := range events {
		if strings.Contains(e, key) {
			t.Errorf("event shows the secret: %s", e)
		}
	}
}
