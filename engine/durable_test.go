package engine

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// memJournal keeps every recorded state, with the server's hit counts
// when it was recorded: the world as it was at that point.
type memJournal struct {
	mu     sync.Mutex
	ts     *testServer
	states [][]byte
	hits   []map[string]int
}

func (j *memJournal) Record(st *RunState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	j.ts.mu.Lock()
	hits := maps.Clone(j.ts.hits)
	j.ts.mu.Unlock()
	j.mu.Lock()
	j.states = append(j.states, data)
	j.hits = append(j.hits, hits)
	j.mu.Unlock()
	return nil
}

func (j *memJournal) state(t *testing.T, i int) *RunState {
	var st RunState
	d := json.NewDecoder(strings.NewReader(string(j.states[i])))
	d.UseNumber()
	if err := d.Decode(&st); err != nil {
		t.Fatal(err)
	}
	return &st
}

const durableFlow = `
  - workflowId: main
    inputs:
      type: object
      properties:
        apiKey: {type: string}
    steps:
      - stepId: create
        operationId: createItem
        requestBody:
          contentType: application/json
          payload: {name: widget, owner: "key {$inputs.apiKey}"}
        successCriteria:
          - condition: $statusCode == 201
        outputs:
          id: $response.body#/id
      - stepId: wait
        workflowId: poller
        parameters:
          - name: id
            value: $steps.create.outputs.id
        outputs:
          polls: $outputs.polls
      - stepId: get
        operationId: getItem
        parameters:
          - name: id
            in: path
            value: $steps.create.outputs.id
          - name: X-Api-Key
            in: header
            value: $inputs.apiKey
        successCriteria:
          - condition: $statusCode == 200
        onSuccess:
          - name: done
            type: end
        onFailure:
          - name: again
            type: retry
            retryLimit: 2
            stepId: ping
          - name: giveUp
            type: goto
            stepId: fallback
      - stepId: fallback
        operationId: getItem
        parameters:
          - name: id
            in: path
            value: $steps.create.outputs.id
        onSuccess:
          - name: done
            type: end
        outputs:
          name: $response.body#/name
      - stepId: ping
        operationId: listItems
    outputs:
      id: $steps.create.outputs.id
      polls: $steps.wait.outputs.polls
      name: $steps.fallback.outputs.name
  - workflowId: handoff
    inputs:
      type: object
      properties:
        apiKey: {type: string}
    steps:
      - stepId: create
        operationId: createItem
        requestBody:
          contentType: application/json
          payload: {name: widget, owner: "key {$inputs.apiKey}"}
        successCriteria:
          - condition: $statusCode == 201
        onSuccess:
          - name: poll
            type: goto
            workflowId: poller
        outputs:
          id: $response.body#/id
    outputs:
      id: $steps.create.outputs.id
  - workflowId: poller
    inputs:
      type: object
      properties:
        id: {type: integer}
    steps:
      - stepId: check
        operationId: getStatus
        onSuccess:
          - name: again
            type: goto
            stepId: check
            criteria:
              - condition: $response.body#/status != 'done'
        outputs:
          polls: $response.body#/n
    outputs:
      polls: $steps.check.outputs.polls
`

// durableServer answers by hit count, so that a server started with the
// counts of a moment answers as the first one did from then on.
func durableServer(t *testing.T, hits map[string]int) *testServer {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/items": jsonHandler(201, `{"id": 7}`),
		"GET /v1/items":  jsonHandler(200, `[]`),
		"GET /v1/status": func(w http.ResponseWriter, _ *http.Request, n int) {
			status := "running"
			if n >= 4 {
				status = "done"
			}
			writeJSON(w, 200, map[string]any{"status": status, "n": n})
		},
		"GET /v1/items/7": func(w http.ResponseWriter, _ *http.Request, n int) {
			if n <= 3 { // more than the step's retries: its fallback gets the item
				writeJSON(w, 503, map[string]any{"message": "busy"})
				return
			}
			writeJSON(w, 200, map[string]any{"name": "widget"})
		},
	})
	maps.Copy(ts.hits, hits)
	return ts
}

// A run resumed from any state it recorded (a crash at that point) ends
// as the uninterrupted run did, recording the same final state, when the
// world answers as it did: frames (a nested workflow, a goto to another
// workflow), visits of a poll, retry counters (and a retry's target step)
// and outputs are rebuilt exactly. The POST that started it is never sent
// twice, unless its response was never recorded and Resend says so.
func TestResumeFromEveryRecordedState(t *testing.T) {
	plan := compileDoc(t, durableFlow, "")
	for _, wf := range []string{"main", "handoff"} {
		t.Run(wf, func(t *testing.T) { resumeEverywhere(t, plan, wf) })
	}
}

func resumeEverywhere(t *testing.T, plan *Plan, wf string) {
	const key = "k3y-s3cret"
	ts := durableServer(t, nil)
	j := &memJournal{ts: ts}
	opts := testOptions(ts, nil)
	opts.Journal = j
	res, err := plan.Run(context.Background(), wf, map[string]any{"apiKey": key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["id"] != json.Number("7") {
		t.Fatalf("outputs %v", res.Outputs)
	}
	final := string(j.states[len(j.states)-1])
	if !strings.Contains(final, `"status":"succeeded"`) {
		t.Fatalf("the last state records the end: %s", final)
	}
	for i, s := range j.states {
		if strings.Contains(string(s), key) {
			t.Fatalf("state %d holds the secret input: %s", i, s)
		}
	}
	if _, err := plan.Resume(context.Background(), j.state(t, 3), nil, opts); !errors.Is(err, ErrNotResumable) || !strings.Contains(err.Error(), "apiKey") {
		t.Fatalf("a resume without the secret input asks for it: %v", err)
	}
	unsafe := 0
	for i := range len(j.states) - 1 {
		st := j.state(t, i)
		ts2 := durableServer(t, j.hits[i])
		j2 := &memJournal{ts: ts2}
		o := testOptions(ts2, nil)
		o.Journal = j2
		secrets := map[string]any{"apiKey": key}
		res, err := plan.Resume(context.Background(), st, secrets, o)
		if errors.Is(err, ErrUnsafeResend) {
			// Only the POST, sent with no response recorded.
			var ue *UnsafeResendError
			if !errors.As(err, &ue) || ue.StepID != "create" || ts2.count("POST /v1/items") != j.hits[i]["POST /v1/items"] {
				t.Fatalf("state %d: %v", i, err)
			}
			unsafe++
			if n := len(j2.states); n > 0 && strings.Contains(string(j2.states[n-1]), `"status":"failed"`) {
				t.Fatalf("state %d: a refused resend leaves the run resumable", i)
			}
			o.Resend = true
			res, err = plan.Resume(context.Background(), st, secrets, o)
		}
		if err != nil || res.Status != Succeeded {
			t.Fatalf("state %d: %v\n%s", i, err, j.states[i])
		}
		if got := string(j2.states[len(j2.states)-1]); got != final {
			t.Fatalf("resumed from state %d:\n%s\nthe uninterrupted run:\n%s", i, got, final)
		}
		// ts2 counts from the hits of the moment: its count is the total.
		if creates := ts2.count("POST /v1/items"); creates != 1 {
			t.Fatalf("state %d: the item was created %d times", i, creates)
		}
	}
	if unsafe != 1 {
		t.Fatalf("want one state between sending the POST and its response, got %d", unsafe)
	}
	t.Logf("%d recorded states, each resumed", len(j.states))
}

func TestResendSafety(t *testing.T) {
	for _, c := range []struct {
		method string
		header map[string]string
		body   string
		want   string
	}{
		{"GET", nil, "", "idempotent method GET"},
		{"DELETE", nil, "", "idempotent method DELETE"},
		{"POST", nil, `{"name":"x"}`, ""},
		{"POST", map[string]string{"Idempotency-Key": "k"}, "", "client token header Idempotency-Key"},
		{"POST", nil, `{"ClientToken":"t-1","name":"x"}`, "client token ClientToken"},
		{"POST", nil, `{"clientRequestToken":""}`, ""},
		{"PATCH", nil, `{"IdempotencyToken":"t"}`, "client token IdempotencyToken"},
	} {
		br := &builtRequest{}
		br.Method, br.Header = c.method, http.Header{}
		for k, v := range c.header {
			br.Header.Set(k, v)
		}
		if c.body != "" {
			br.HasBody, br.Body = true, []byte(c.body)
		}
		if got := resendSafety(br); got != c.want {
			t.Errorf("%s %v %s: got %q, want %q", c.method, c.header, c.body, got, c.want)
		}
	}
}

// Sealing touches only string values: a secret as short as a digit or a
// letter leaves names and numbers alone, and comes back exactly.
func TestSealShortSecrets(t *testing.T) {
	st := &RunState{WorkflowID: "w", Executions: 11, Inputs: map[string]any{"n": json.Number("1")},
		Frames: []FrameState{{WorkflowID: "w", StepID: "a", PC: 1, Steps: map[string]map[string]any{"a": {"v": "a1", "w": "k1 and k1x"}}}}}
	seal := map[string]string{"1": placeholder("one"), "a": placeholder("letter"), "k1x": placeholder("long")}
	var sealed, back RunState
	if err := remarshal(st, &sealed, seal); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(sealed)
	if sealed.Executions != 11 || sealed.Frames[0].PC != 1 || strings.Contains(data2s(data), `"a1"`) || strings.Contains(data2s(data), "k1x") {
		t.Fatalf("sealed: %s", data)
	}
	unseal := map[string]string{}
	for k, v := range seal {
		unseal[v] = k
	}
	if err := remarshal(&sealed, &back, unseal); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(st)
	got, _ := json.Marshal(back)
	if string(got) != string(want) {
		t.Fatalf("round trip:\n%s\nwant\n%s", got, want)
	}
}

func data2s(b []byte) string { return string(b) }
