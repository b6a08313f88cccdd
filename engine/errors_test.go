package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine/source"
)

// Every way a run can stop is a cause that errors.Is and errors.As find
// through the *RunError, with no look at the message text.
func TestRunErrorsWrapTheirCauses(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/status":   jsonHandler(200, `{"status":"running"}`),
		"GET /v1/items/1":  jsonHandler(503, `{"code":"Unavailable","message":"try later"}`),
		"GET /v1/items/2":  jsonHandler(200, `{"ok":false}`),
		"GET /v1/items/3":  jsonHandler(500, `{"message":"boom"}`),
		"POST /v1/token":   jsonHandler(401, `{"error":"invalid_client"}`),
		"GET /v1/items/99": jsonHandler(200, `{}`),
	})
	plan := compileDoc(t, `
  - workflowId: poll
    steps:
      - stepId: check
        operationId: getStatus
        onSuccess:
          - {name: again, type: goto, stepId: check}
  - workflowId: status
    inputs: {type: object, properties: {id: {type: integer}}}
    steps:
      - stepId: get
        operationId: getItem
        parameters: [{name: id, in: path, value: $inputs.id}]
  - workflowId: criterion
    inputs: {type: object, properties: {id: {type: integer}}}
    steps:
      - stepId: get
        operationId: getItem
        parameters: [{name: id, in: path, value: $inputs.id}]
        successCriteria:
          - condition: $response.body#/ok == true
  - workflowId: caller
    steps:
      - stepId: call
        workflowId: token
  - workflowId: token
    steps:
      - stepId: fetch
        operationId: refreshToken
  - workflowId: needs
    dependsOn: [token]
    steps:
      - stepId: s
        operationId: getStatus
  - workflowId: self
    steps:
      - stepId: s
        operationId: getStatus
        onSuccess:
          - {name: again, type: goto, workflowId: self, criteria: [{condition: $statusCode == 200}]}
`, "")
	run := func(id string, in map[string]any, o *Options) *RunError {
		t.Helper()
		if o == nil {
			o = testOptions(ts, nil)
		}
		res, err := plan.Run(context.Background(), id, in, o)
		var re *RunError
		if !errors.As(err, &re) || res.Error != re {
			t.Fatalf("%s: want a *RunError that is also the result's error, got %v", id, err)
		}
		return re
	}

	o := testOptions(ts, nil)
	o.Timeout = 50 * time.Millisecond
	o.PollInterval = 5 * time.Millisecond
	if err := run("poll", nil, o); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v is not context.DeadlineExceeded", err)
	} else if var_ := (*StoppedError)(nil); !errors.As(err, &var_) || var_.StepID != "check" {
		t.Errorf("timeout: the StoppedError names the step: %#v", var_)
	}

	o = testOptions(ts, nil)
	o.MaxSteps = 3
	if err := run("poll", nil, o); !errors.Is(err, ErrStepLimit) {
		t.Errorf("step limit: %v", err)
	} else if sl := (*StepLimitError)(nil); !errors.As(err, &sl) || sl.Limit != 3 || sl.StepID != "check" {
		t.Errorf("step limit: %#v", sl)
	}

	err := run("status", map[string]any{"id": 1}, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || se.Code != "Unavailable" || se.Message != "try later" {
		t.Errorf("status failure: %#v from %v", se, err)
	}
	if err.StatusCode != 503 || err.Message != "Unavailable: try later" || err.Attempt != 1 {
		t.Errorf("the run error shows the status once: %+v", err)
	}

	err = run("criterion", map[string]any{"id": 2}, nil)
	var ce *CriterionError
	if !errors.As(err, &ce) || ce.Condition != "$response.body#/ok == true" || ce.Line == 0 || ce.File == "" || ce.Response != nil {
		t.Errorf("criterion failure: %#v", ce)
	}
	err = run("criterion", map[string]any{"id": 3}, nil)
	if !errors.As(err, &ce) || ce.Response == nil || !errors.As(err, &se) || se.StatusCode != 500 || se.Message != "boom" {
		t.Errorf("a criterion that failed on an error response carries the response: %#v", ce)
	}

	err = run("caller", nil, nil)
	var call *CallError
	if !errors.As(err, &call) || call.WorkflowID != "token" || !errors.As(err, &se) || se.Code != "invalid_client" {
		t.Errorf("a called workflow's failure: %#v", err)
	}

	err = run("needs", nil, nil)
	var dep *DependencyError
	if !errors.As(err, &dep) || dep.WorkflowID != "token" || !errors.As(err, &se) || se.StatusCode != 401 {
		t.Errorf("a dependency's failure: %#v", err)
	}

	o = testOptions(ts, nil)
	o.MaxDepth = 5
	if err := run("self", nil, o); !errors.Is(err, ErrDepthLimit) {
		t.Errorf("depth: %v", err)
	}

	rel := loadString(t, `openapi: 3.1.0
info: {title: relative, version: '1'}
servers: [{url: /v1}]
paths:
  /status:
    get:
      operationId: getStatus
      responses: {'200': {description: ok}}
`, `
  - workflowId: w
    steps:
      - {stepId: s, operationId: getStatus}
`)
	_, rerr := rel.Run(context.Background(), "w", nil, &Options{PollInterval: -1})
	var ns *NoServerError
	if !errors.Is(rerr, ErrNoServer) || !errors.As(rerr, &ns) || ns.Source != "api" {
		t.Errorf("no server: %v", rerr)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	o = testOptions(ts, nil)
	o.Servers = map[string]string{"api": "http://" + addr}
	err = run("status", map[string]any{"id": 1}, o)
	var te *TransportError
	var ne *net.OpError
	if !errors.As(err, &te) || te.Method != "GET" || !errors.As(err, &ne) {
		t.Errorf("a refused connection is a TransportError over the net error: %#v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, perr := plan.Run(ctx, "poll", nil, testOptions(ts, nil))
	if !errors.Is(perr, context.Canceled) {
		t.Errorf("cancelled: %v", perr)
	}
}

func TestRunErrorTextIsCapped(t *testing.T) {
	long := make([]byte, 3*maxMessage)
	for i := range long {
		long[i] = 'x'
	}
	e := &RunError{WorkflowID: "w", Message: string(long)}
	if n := len(e.Error()); n > maxMessage+32 {
		t.Fatalf("error text is %d bytes", n)
	}
}

// loadString compiles a document over the given OpenAPI description.
func loadString(t *testing.T, openapi, workflows string, opts ...CompileOption) *Plan {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(openapi), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := "arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions:\n  - {name: api, url: ./api.yaml, type: openapi}\nworkflows:\n" + workflows
	plan, diags := LoadBytes(context.Background(), filepath.Join(dir, "doc.arazzo.yaml"), []byte(doc), &source.Loader{}, opts...)
	if plan == nil {
		t.Fatalf("%s\n%s", diags.Error(), doc)
	}
	return plan
}
