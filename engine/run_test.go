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
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
)

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

func TestSequentialStepsOutputsAndTypes(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/items":                 jsonHandler(201, `{"id": 9007199254740993, "name": "first"}`),
		"GET /v1/items/9007199254740993": jsonHandler(200, `{"id": 9007199254740993, "tags": ["a","b"]}`),
	})
	plan := compileDoc(t, `
  - workflowId: flow
    inputs:
      type: object
      properties:
        name: {type: string}
        count: {type: integer, default: 3}
        nothing: {type: string}
    steps:
      - stepId: create
        operationId: createItem
        requestBody:
          contentType: application/json
          payload:
            name: $inputs.name
            count: $inputs.count
            label: "item-{$inputs.name}"
            missing: $inputs.nothing
            status: placed
        successCriteria:
          - condition: $statusCode == 201
        outputs:
          id: $response.body#/id
          whole: $response.body
          sentCount: $request.body#/count
      - stepId: get
        operationId: getItem
        parameters:
          - name: id
            in: path
            value: $steps.create.outputs.id
        outputs:
          second: $response.body#/tags/1
          url: $url
    outputs:
      id: $steps.create.outputs.id
      tag: $steps.get.outputs.second
      name: $steps.create.outputs.whole#/name
      url: $steps.get.outputs.url
      sentCount: $steps.create.outputs.sentCount
`, "")
	res, err := plan.Run(context.Background(), "flow", map[string]any{"name": "pen"}, testOptions(ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": json.Number("9007199254740993"), "tag": "b", "name": "first", "url": ts.URL + "/v1/items/9007199254740993", "sentCount": json.Number("3")}
	if !reflect.DeepEqual(res.Outputs, want) {
		t.Fatalf("outputs %#v, want %#v", res.Outputs, want)
	}
	body := ts.requests()[0].Body
	if body != `{"count":3,"label":"item-pen","name":"pen","status":"placed"}` {
		t.Fatalf("request body %s", body)
	}
	if ct := ts.requests()[0].Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	if len(res.Steps) != 2 || res.Steps[1].StatusCode != 200 || res.Steps[1].Runs != 1 {
		t.Fatalf("steps %+v", res.Steps)
	}
}

func TestDefaultSuccessIs2xxAndFailureReportsStepStatusBody(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/status": jsonHandler(404, `{"message":"no such thing"}`),
	})
	plan := compileDoc(t, `
  - workflowId: flow
    steps:
      - stepId: check
        operationId: getStatus
      - stepId: never
        operationId: getStatus
`, "")
	res, err := plan.Run(context.Background(), "flow", nil, testOptions(ts, nil))
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("want a RunError, got %v", err)
	}
	if res.Status != Failed || re.StepID != "check" || re.StatusCode != 404 || re.Attempt != 1 || !strings.Contains(re.BodyExcerpt, "no such thing") {
		t.Fatalf("result %+v error %+v", res, re)
	}
	if len(res.Steps) != 1 || res.Steps[0].Outcome != Failed {
		t.Fatalf("the failed step must be reported, got %+v", res.Steps)
	}
	if ts.count("GET /v1/status") != 1 {
		t.Fatal("the workflow must stop at the failed step")
	}
}

func TestTransportErrorReachesOnFailure(t *testing.T) {
	ts := newTestServer(t, nil)
	url := ts.URL
	ts.Close() // connection refused from now on
	plan := compileDoc(t, `
  - workflowId: flow
    steps:
      - stepId: call
        operationId: getStatus
        onFailure:
          - name: noStatus
            type: end
            criteria:
              - condition: $statusCode == null
          - name: onlyIfUndefined
            type: goto
            stepId: fallback
            criteria:
              - condition: $statusCode != 200
      - stepId: fallback
        operationId: getStatus
`, "")
	o := &Options{Servers: map[string]string{"api": url}, PollInterval: -1}
	res, err := plan.Run(context.Background(), "flow", nil, o)
	if err == nil || res.Status != Failed {
		t.Fatal("a refused connection fails the workflow")
	}
	// $statusCode is undefined, not null: the first action does not match,
	// the second (undefined != 200) does, and fallback is attempted.
	if len(res.Steps) != 2 || res.Steps[1].StepID != "fallback" {
		t.Fatalf("steps %+v", res.Steps)
	}
	if !strings.Contains(res.Error.Message, "connect") && !strings.Contains(res.Error.Message, "refused") {
		t.Fatalf("error should say the connection failed: %s", res.Error.Message)
	}
}

func retryDoc(limit string) string {
	return fmt.Sprintf(`
  - workflowId: flow
    steps:
      - stepId: call
        operationId: getStatus
        successCriteria:
          - condition: $statusCode == 200
        onFailure:
          - name: again
            type: retry
            retryAfter: 5
%s
          - name: giveUp
            type: goto
            stepId: after
      - stepId: done
        operationId: getStatus
        onSuccess:
          - name: stop
            type: end
      - stepId: after
        operationId: refreshToken
`, limit)
}

func TestRetryLimits(t *testing.T) {
	tests := []struct {
		name      string
		limit     string
		failUntil int // the status endpoint fails this many times
		calls     int // calls to GET /status in the first step
		fellBack  bool
	}{
		{"missing limit means one retry", "", 99, 2, true},
		{"limit 0 means no retry, next action runs", "            retryLimit: 0", 99, 1, true},
		{"limit 3 means four attempts", "            retryLimit: 3", 99, 4, true},
		{"success on attempt 2 stops retrying", "            retryLimit: 3", 1, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
				"GET /v1/status": func(w http.ResponseWriter, _ *http.Request, n int) {
					if n <= tt.failUntil {
						writeJSON(w, 503, map[string]any{"message": "busy"})
						return
					}
					writeJSON(w, 200, map[string]any{})
				},
				"POST /v1/token": jsonHandler(200, `{}`),
			})
			plan := compileDoc(t, retryDoc(tt.limit), "")
			sl := &sleeps{}
			res, _ := plan.Run(context.Background(), "flow", nil, testOptions(ts, sl))
			first := res.Steps[0]
			if first.Runs != tt.calls {
				t.Fatalf("step ran %d times, want %d", first.Runs, tt.calls)
			}
			fell := ts.count("POST /v1/token") == 1
			if fell != tt.fellBack {
				t.Fatalf("fell back = %v, want %v (steps %+v)", fell, tt.fellBack, res.Steps)
			}
			for _, d := range sl.d {
				if d != 5*time.Second {
					t.Fatalf("retryAfter 5 must wait 5s, waited %v", d)
				}
			}
			if len(sl.d) != tt.calls-1 {
				t.Fatalf("%d waits for %d attempts", len(sl.d), tt.calls)
			}
		})
	}
}

func TestRetryAfterHeaderBeatsRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{{"0", 0}, {"2", 2 * time.Second}, {"date", 30 * time.Second}} {
		t.Run(tc.header, func(t *testing.T) {
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
				"GET /v1/status": func(w http.ResponseWriter, _ *http.Request, n int) {
					if n == 1 {
						v := tc.header
						if v == "date" {
							v = now.Add(30 * time.Second).Format(http.TimeFormat)
						}
						w.Header().Set("Retry-After", v)
						writeJSON(w, 429, map[string]any{})
						return
					}
					writeJSON(w, 200, map[string]any{})
				},
				"POST /v1/token": jsonHandler(200, `{}`),
			})
			plan := compileDoc(t, retryDoc(""), "")
			sl := &sleeps{}
			o := testOptions(ts, sl)
			o.Now = func() time.Time { return now }
			res, _ := plan.Run(context.Background(), "flow", nil, o)
			waits := 1
			if tc.want == 0 {
				waits = 0 // Retry-After: 0 means no wait at all
			}
			if res.Steps[0].Runs != 2 || len(sl.d) != waits || (waits == 1 && sl.d[0] != tc.want) {
				t.Fatalf("runs %d waits %v, want one wait of %v", res.Steps[0].Runs, sl.d, tc.want)
			}
		})
	}
}

func TestRetryWithWorkflowRefreshesToken(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/protected": func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.Header.Get("Authorization") != "Bearer fresh" {
				writeJSON(w, 401, map[string]any{"message": "expired"})
				return
			}
			writeJSON(w, 200, map[string]any{"secret": "data"})
		},
		"POST /v1/token": jsonHandler(200, `{"token":"fresh"}`),
		"GET /v1/status": jsonHandler(200, `{}`),
	})
	plan := compileDoc(t, `
  - workflowId: main
    steps:
      - stepId: read
        operationId: getProtected
        parameters:
          - name: Authorization
            in: header
            value: "Bearer {$workflows.refresh.outputs.token}"
        successCriteria:
          - condition: $statusCode == 200
        onFailure:
          - name: refreshAndRetry
            type: retry
            workflowId: refresh
            criteria:
              - condition: $statusCode == 401
        outputs:
          secret: $response.body#/secret
      - stepId: next
        operationId: getStatus
    outputs:
      secret: $steps.read.outputs.secret
  - workflowId: refresh
    steps:
      - stepId: token
        operationId: refreshToken
        outputs:
          token: $response.body#/token
    outputs:
      token: $steps.token.outputs.token
`, "")
	res, err := plan.Run(context.Background(), "main", nil, testOptions(ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["secret"] != "data" || ts.count("GET /v1/protected") != 2 || ts.count("GET /v1/status") != 1 {
		t.Fatalf("outputs %v hits %v", res.Outputs, ts.hits)
	}
	reqs := ts.requests()
	if reqs[0].Header.Get("Authorization") != "Bearer" {
		t.Fatalf("first attempt sends the undefined token as empty: %q", reqs[0].Header.Get("Authorization"))
	}
}

func TestRetryWithStepRunsOnlyThatStep(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/protected": func(w http.ResponseWriter, _ *http.Request, n int) {
			if n == 1 {
				writeJSON(w, 401, map[string]any{})
				return
			}
			writeJSON(w, 200, map[string]any{})
		},
		"POST /v1/token": jsonHandler(200, `{"token":"t"}`),
		"GET /v1/status": jsonHandler(200, `{}`),
	})
	plan := compileDoc(t, `
  - workflowId: main
    steps:
      - stepId: read
        operationId: getProtected
        onFailure:
          - name: refresh
            type: retry
            stepId: login
      - stepId: login
        operationId: refreshToken
      - stepId: last
        operationId: getStatus
`, "")
	if _, err := plan.Run(context.Background(), "main", nil, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range ts.requests() {
		order = append(order, r.Method+" "+r.Path)
	}
	want := []string{"GET /v1/protected", "POST /v1/token", "GET /v1/protected", "POST /v1/token", "GET /v1/status"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

func TestActionSelectionAndWorkflowLevelActions(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/status":    jsonHandler(500, `{"kind":"boom"}`),
		"GET /v1/protected": jsonHandler(401, `{}`),
		"POST /v1/token":    jsonHandler(200, `{}`),
		"GET /v1/items/1":   jsonHandler(200, `{"status":"x"}`),
	})
	plan := compileDoc(t, `
  - workflowId: flow
    failureActions:
      - name: retry401
        type: goto
        stepId: never
        criteria:
          - condition: $statusCode == 401
      - name: endOn500
        type: end
        criteria:
          - condition: $statusCode == 500
    steps:
      - stepId: ok
        operationId: getItem
        parameters:
          - {name: id, in: path, value: 1}
        onSuccess:
          - name: noMatch
            type: end
            criteria:
              - condition: $response.body#/status == 'y'
      - stepId: auth
        operationId: getProtected
        onFailure:
          - name: retry401
            type: goto
            stepId: token
            criteria:
              - condition: $statusCode == 401
      - stepId: token
        operationId: refreshToken
        onSuccess:
          - name: first
            type: goto
            stepId: boom
          - name: second
            type: end
      - stepId: never
        operationId: refreshToken
      - stepId: boom
        operationId: getStatus
`, "")
	res, err := plan.Run(context.Background(), "flow", nil, testOptions(ts, nil))
	if err == nil || res.Error.StepID != "boom" || res.Error.StatusCode != 500 {
		t.Fatalf("the workflow-level endOn500 ends the run as failed at boom, got %v", err)
	}
	var ids []string
	for _, s := range res.Steps {
		ids = append(ids, s.StepID)
	}
	if !reflect.DeepEqual(ids, []string{"ok", "auth", "token", "boom"}) {
		t.Fatalf("steps %v", ids)
	}
}

func TestGotoLoopPollsAndGuard(t *testing.T) {
	statusHandler := func(doneAt int) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, _ *http.Request, n int) {
			st := "running"
			if n >= doneAt {
				st = "done"
			}
			writeJSON(w, 200, map[string]any{"status": st, "n": n})
		}
	}
	doc := `
  - workflowId: poll
    steps:
      - stepId: check
        operationId: getStatus
        outputs:
          n: $response.body#/n
        onSuccess:
          - name: again
            type: goto
            stepId: check
            criteria:
              - condition: $response.body#/status != 'done'
    outputs:
      n: $steps.check.outputs.n
`
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"GET /v1/status": statusHandler(5)})
	plan := compileDoc(t, doc, "")
	sl := &sleeps{}
	o := testOptions(ts, sl)
	o.PollInterval = 3 * time.Second
	res, err := plan.Run(context.Background(), "poll", nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["n"] != json.Number("5") || res.Steps[0].Runs != 5 || len(sl.d) != 4 || sl.d[0] != 3*time.Second {
		t.Fatalf("outputs %v steps %+v waits %v", res.Outputs, res.Steps[0], sl.d)
	}

	ts2 := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"GET /v1/status": statusHandler(1 << 30)})
	o2 := testOptions(ts2, nil)
	o2.MaxSteps = 20
	res, err = plan.Run(context.Background(), "poll", nil, o2)
	if err == nil || !strings.Contains(res.Error.Message, "step check keeps running") || res.Steps[0].Runs != 20 {
		t.Fatalf("the loop guard must stop the run naming the step: %v %+v", err, res.Steps)
	}
	if res.Outputs["n"] != json.Number("20") {
		t.Fatalf("outputs are still evaluated after a failure: %v", res.Outputs)
	}
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

func TestGotoWorkflowIsOneWay(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/status": jsonHandler(200, `{"v":"s"}`),
		"POST /v1/token": jsonHandler(500, `{}`),
	})
	plan := compileDoc(t, `
  - workflowId: main
    steps:
      - stepId: first
        operationId: getStatus
        outputs:
          v: $response.body#/v
        onSuccess:
          - name: leave
            type: goto
            workflowId: other
      - stepId: skipped
        operationId: getStatus
        outputs:
          v: $response.body#/v
    outputs:
      first: $steps.first.outputs.v
      skipped: $steps.skipped.outputs.v
  - workflowId: other
    steps:
      - stepId: failing
        operationId: refreshToken
`, "")
	res, err := plan.Run(context.Background(), "main", nil, testOptions(ts, nil))
	if err == nil || res.Status != Failed {
		t.Fatal("the run takes the target workflow's status (failed)")
	}
	if ts.count("GET /v1/status") != 1 {
		t.Fatal("steps after a goto to a workflow never run")
	}
	if !reflect.DeepEqual(res.Outputs, map[string]any{"first": "s"}) {
		t.Fatalf("outputs of skipped steps are omitted: %v", res.Outputs)
	}
}

func TestNestedWorkflows(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/items/7": jsonHandler(200, `{"name":"seven"}`),
		"GET /v1/items/8": jsonHandler(404, `{}`),
		"POST /v1/token":  jsonHandler(200, `{}`),
	})
	plan := compileDoc(t, `
  - workflowId: top
    steps:
      - stepId: step
        workflowId: middle
        parameters:
          - name: id
            value: 7
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          got: $outputs.name
      - stepId: again
        workflowId: middle
        parameters:
          - name: id
            value: 8
        onFailure:
          - name: recover
            type: goto
            stepId: recovered
      - stepId: recovered
        operationId: refreshToken
    outputs:
      got: $steps.step.outputs.got
      viaWorkflows: $workflows.middle.outputs.name
  - workflowId: middle
    inputs:
      type: object
      required: [id]
      properties:
        id: {type: integer}
    steps:
      - stepId: step
        workflowId: leaf
        parameters:
          - name: id
            value: $inputs.id
        outputs:
          name: $outputs.name
    outputs:
      name: $steps.step.outputs.name
  - workflowId: leaf
    inputs:
      type: object
      properties:
        id: {type: integer}
    steps:
      - stepId: step
        operationId: getItem
        parameters:
          - name: id
            in: path
            value: $inputs.id
        outputs:
          name: $response.body#/name
    outputs:
      name: $steps.step.outputs.name
`, "")
	res, err := plan.Run(context.Background(), "top", nil, testOptions(ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["got"] != "seven" {
		t.Fatalf("outputs %v", res.Outputs)
	}
	if _, has := res.Outputs["viaWorkflows"]; has {
		t.Fatalf("the second call failed, so middle's latest outputs have no name: %v", res.Outputs)
	}
	if ts.count("POST /v1/token") != 1 {
		t.Fatal("a failed callee makes the parent step fail and its onFailure run")
	}
}

func TestDependsOn(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/token": jsonHandler(200, `{"token":"abc"}`),
		"GET /v1/status": jsonHandler(200, `{}`),
		"GET /v1/protected": func(w http.ResponseWriter, r *http.Request, _ int) {
			writeJSON(w, 200, map[string]any{"auth": r.Header.Get("Authorization")})
		},
	})
	plan := compileDoc(t, `
  - workflowId: login
    steps:
      - stepId: token
        operationId: refreshToken
        outputs:
          token: $response.body#/token
    outputs:
      token: $steps.token.outputs.token
  - workflowId: use
    dependsOn: [login, both]
    steps:
      - stepId: read
        operationId: getProtected
        parameters:
          - name: Authorization
            in: header
            value: $workflows.login.outputs.token
        outputs:
          auth: $response.body#/auth
    outputs:
      auth: $steps.read.outputs.auth
  - workflowId: both
    dependsOn: [login]
    steps:
      - stepId: s
        operationId: getStatus
`, "")
	res, err := plan.Run(context.Background(), "use", nil, testOptions(ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["auth"] != "abc" || ts.count("POST /v1/token") != 1 {
		t.Fatalf("a dependency runs once per run: outputs %v hits %v", res.Outputs, ts.hits)
	}
	ts2 := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"POST /v1/token": jsonHandler(500, `{}`)})
	res, err = plan.Run(context.Background(), "use", nil, testOptions(ts2, nil))
	if err == nil || !strings.Contains(res.Error.Message, "dependency login failed") {
		t.Fatalf("a failed dependency fails the dependent: %v", err)
	}
}

func TestParametersMergeAndSerialization(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/items/5": jsonHandler(200, `{}`),
		"GET /v1/items":   jsonHandler(200, `{}`),
	})
	plan := compileDoc(t, `
  - workflowId: flow
    inputs:
      type: object
      properties:
        nothing: {type: string}
    parameters:
      - name: X-Api-Key
        in: header
        value: workflow-key
      - name: id
        in: query
        value: q
      - reference: $components.parameters.page
    steps:
      - stepId: one
        operationId: getItem
        parameters:
          - name: x-api-key
            in: header
            value: step-key
          - name: id
            in: path
            value: 5
          - name: Cookie-Free
            in: cookie
            value: c1
      - stepId: two
        operationId: listItems
        parameters:
          - reference: $components.parameters.page
            value: 2
          - name: tags
            in: query
            value: [a, b]
          - name: filter
            in: query
            value: {color: red}
          - name: optional
            in: query
            value: $inputs.nothing
`, `  parameters:
    page:
      name: page
      in: query
      value: 1
`)
	if _, err := plan.Run(context.Background(), "flow", nil, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
	reqs := ts.requests()
	if got := reqs[0].Header.Values("X-Api-Key"); !reflect.DeepEqual(got, []string{"step-key"}) {
		t.Fatalf("one header with the step's value, got %v", got)
	}
	if reqs[0].Query != "id=q&page=1" {
		t.Fatalf("workflow query id and step path id are different parameters: %q", reqs[0].Query)
	}
	if reqs[0].Header.Get("Cookie") != "Cookie-Free=c1" {
		t.Fatalf("cookie %q", reqs[0].Header.Get("Cookie"))
	}
	if reqs[1].Query != "id=q&page=2&tags=a&tags=b&filter%5Bcolor%5D=red" {
		t.Fatalf("query %q", reqs[1].Query)
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
	if _, err := plan.Run(context.Background(), "nope", nil, testOptions(ts, nil)); !errors.Is(err, ErrUnknownWorkflow) || !strings.Contains(err.Error(), "flow") {
		t.Fatalf("an unknown workflow lists the valid ones: %v", err)
	}
}

func TestBodiesByContentTypeAndReplacements(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/form":  jsonHandler(200, `{}`),
		"POST /v1/xml":   jsonHandler(200, `{}`),
		"POST /v1/items": jsonHandler(201, `{}`),
	})
	plan := compileDoc(t, `
  - workflowId: flow
    inputs:
      type: object
      properties:
        qty: {type: integer}
    steps:
      - stepId: form
        operationId: submitForm
        requestBody:
          contentType: application/x-www-form-urlencoded
          payload:
            grant_type: client_credentials
            scope: "a b"
      - stepId: xml
        operationId: postXML
        requestBody:
          contentType: application/xml
          payload: "<order><qty>1</qty><id>{$inputs.qty}</id></order>"
          replacements:
            - target: /order/qty
              value: $inputs.qty
      - stepId: json
        operationId: createItem
        requestBody:
          contentType: application/json
          payload: '{"items": [{"qty": 1}], "a/b": 0}'
          replacements:
            - target: /items/0/qty
              value: $inputs.qty
            - target: /new
              value: 10
            - target: /a~1b
              value: x
`, "")
	if _, err := plan.Run(context.Background(), "flow", map[string]any{"qty": json.Number("4")}, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
	reqs := ts.requests()
	if reqs[0].Body != "grant_type=client_credentials&scope=a+b" || reqs[0].Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("form body %q", reqs[0].Body)
	}
	if reqs[1].Body != "<order><qty>4</qty><id>4</id></order>" {
		t.Fatalf("xml body %q", reqs[1].Body)
	}
	if reqs[2].Body != `{"a/b":"x","items":[{"qty":4}],"new":10}` {
		t.Fatalf("json body %q", reqs[2].Body)
	}
}

func TestResponseSizeCap(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/status": jsonHandler(200, `{"pad":"`+strings.Repeat("x", 4096)+`"}`),
	})
	plan := compileDoc(t, `
  - workflowId: flow
    steps:
      - stepId: big
        operationId: getStatus
`, "")
	o := testOptions(ts, nil)
	o.MaxResponseBytes = 1024
	res, err := plan.Run(context.Background(), "flow", nil, o)
	if err == nil || !strings.Contains(res.Error.Message, "larger than the 1024-byte limit") {
		t.Fatalf("want a size-cap error, got %v", err)
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
