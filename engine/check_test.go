package engine

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/arazzo-go/arazzo/engine/protocol"
)

const checkAPI = `openapi: %s
info: {title: t, version: "1"}
paths:
  /jobs/{id}:
    get:
      operationId: getJob
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: a job
          content:
            application/json:
              schema:
                type: object
                required: [id, status]
                properties:
                  id: {type: integer}
                  status: {type: string, enum: [RUNNING, DONE]}
                  level: {type: integer, enum: [1, 2]}
                  note: %s
        "404":
          description: none
`

const checkFlow = `  - workflowId: get
    inputs: {type: object, properties: {id: {type: string}}}
    steps:
      - stepId: job
        operationId: getJob
        parameters:
          - {name: id, in: path, value: $inputs.id}
        successCriteria:
          - condition: $statusCode == 200
`

func runChecked(t *testing.T, version, note string, body string, status int, checks Checks, id string) (*Result, []Event, *testServer, error) {
	t.Helper()
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /jobs/7": func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(body))
		},
		"GET /jobs/8": func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("ok"))
		},
	})
	plan := loadString(t, strings.Replace(strings.Replace(checkAPI, "%s", version, 1), "%s", note, 1), checkFlow)
	var events []Event
	res, err := plan.Run(context.Background(), "get", map[string]any{"id": id}, &Options{
		Servers: map[string]string{"api": ts.URL}, Checks: checks,
		Observers: []Observer{ObserverFunc(func(e Event) { events = append(events, e) })},
	})
	return res, events, ts, err
}

func violations(events []Event) []string {
	var out []string
	for _, e := range events {
		if e.Kind == CheckViolated {
			out = append(out, e.Violation.String())
		}
	}
	return out
}

func TestChecksWarn(t *testing.T) {
	warn, _ := ParseChecks(nil, "all=warn")
	res, events, _, err := runChecked(t, "3.0.3", "{type: string, nullable: true}", `{"id":"7","status":"LOST","level":2,"note":null}`, 200, warn, "7")
	if err != nil {
		t.Fatalf("a warning failed the run: %v", err)
	}
	got := strings.Join(violations(events), "\n")
	for _, want := range []string{`schema /id: value must be an integer (type)`, `schema /status: value is not one of the allowed values ["RUNNING","DONE"] (enum)`} {
		if !strings.Contains(got, want) {
			t.Errorf("violations lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "/note") || strings.Contains(got, "/level") {
		t.Errorf("nullable null or an exact integer enum value reported:\n%s", got)
	}
	if n := len(res.Steps[0].Checks); n != 2 || res.Steps[0].Checks[0].Attempt != 1 || res.Steps[0].Checks[0].Severity != CheckWarn {
		t.Errorf("step result checks: %+v", res.Steps[0].Checks)
	}
}

// The 3.1 dialect: type arrays allow null; 3.0's nullable is not read.
func TestChecksOpenAPI31(t *testing.T) {
	warn, _ := ParseChecks(nil, "all=warn")
	_, events, _, _ := runChecked(t, "3.1.0", `{type: [string, "null"]}`, `{"id":7,"status":"DONE","level":2,"note":null}`, 200, warn, "7")
	if v := violations(events); len(v) > 0 {
		t.Errorf("3.1 null reported: %v", v)
	}
	_, events, _, _ = runChecked(t, "3.1.0", `{type: [string, "null"]}`, `{"id":7,"status":"DONE","note":5}`, 200, warn, "7")
	if v := strings.Join(violations(events), "\n"); !strings.Contains(v, "schema /note:") {
		t.Errorf("3.1 type array not checked: %s", v)
	}
}

func TestChecksError(t *testing.T) {
	errs, _ := ParseChecks(Checks{CheckSchema: CheckWarn}, "status=error,content-type=error")
	// An undeclared status fails the step with a ContractError.
	res, _, _, err := runChecked(t, "3.0.3", "{type: string}", `{"id":7,"status":"DONE"}`, 201, errs, "7")
	var ce *ContractError
	if !errors.As(err, &ce) || !errors.Is(err, ErrContract) || res.Status != Failed {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "status 201 is not one operation GET /jobs/{id} (getJob) declares (200, 404)") {
		t.Errorf("message: %v", err)
	}
	// A content type the response does not declare.
	_, _, _, err = runChecked(t, "3.0.3", "{type: string}", ``, 200, errs, "8")
	if !errors.As(err, &ce) || ce.Violations[0].Check != CheckContentType {
		t.Fatalf("err = %v", err)
	}
	// Checks off: the same response passes.
	if _, _, _, err := runChecked(t, "3.0.3", "{type: string}", `{"id":7,"status":"DONE"}`, 201, nil, "7"); err == nil || errors.Is(err, ErrContract) {
		t.Fatalf("with checks off: %v (want the criterion to fail, not a check)", err)
	}
}

// An invalid request is not sent when the request check is an error.
func TestChecksRequest(t *testing.T) {
	errs, _ := ParseChecks(nil, "request=error")
	_, events, ts, err := runChecked(t, "3.0.3", "{type: string}", `{}`, 200, errs, "seven")
	var ce *ContractError
	if !errors.As(err, &ce) || ce.Violations[0].Check != CheckRequest || ce.Violations[0].Pointer != "path parameter id" {
		t.Fatalf("err = %v", err)
	}
	if n := ts.count("GET /jobs/seven"); n != 0 {
		t.Errorf("the invalid request was sent %d times", n)
	}
	if len(violations(events)) != 1 {
		t.Errorf("events: %v", violations(events))
	}
}

func TestParseChecks(t *testing.T) {
	c, err := ParseChecks(Checks{CheckStatus: CheckWarn}, "all=off,schema=error")
	if err != nil || c[CheckStatus] != CheckOff || c[CheckSchema] != CheckError {
		t.Fatalf("%v %v", c, err)
	}
	for _, bad := range []string{"schema", "schema=loud", "body=warn"} {
		if _, err := ParseChecks(nil, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A plan is shared by concurrent runs; the validators must not race (run
// with -race), in either dialect.
func TestChecksConcurrent(t *testing.T) {
	for _, v := range []struct{ version, note string }{{"3.0.3", "{type: string}"}, {"3.1.0", `{type: [string, "null"]}`}} {
		ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
			"GET /jobs/7": jsonHandler(200, `{"id":"x","status":"DONE","note":null}`),
		})
		plan := loadString(t, strings.Replace(strings.Replace(checkAPI, "%s", v.version, 1), "%s", v.note, 1), checkFlow)
		warn, _ := ParseChecks(nil, "all=warn")
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := plan.Run(context.Background(), "get", map[string]any{"id": "7"}, &Options{Servers: map[string]string{"api": ts.URL}, Checks: warn})
				if err != nil || len(res.Steps[0].Checks) == 0 {
					t.Errorf("%s: %v %+v", v.version, err, res)
				}
			}()
		}
		wg.Wait()
	}
}

// A body the validator cannot decode (XML) is not a violation.
func TestChecksUndecodableBody(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /notes": func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte("<note><id>1</id></note>"))
		},
	})
	plan := loadString(t, `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /notes:
    post:
      operationId: addNote
      requestBody:
        content:
          application/xml:
            schema: {type: object, properties: {text: {type: string}}}
      responses:
        "200":
          description: ok
          content:
            application/xml:
              schema: {type: object, properties: {id: {type: integer}}}
`, `  - workflowId: note
    steps:
      - stepId: add
        operationId: addNote
        requestBody:
          contentType: application/xml
          payload: "<note><text>hi</text></note>"
`)
	all, _ := ParseChecks(nil, "all=error")
	res, err := plan.Run(context.Background(), "note", nil, &Options{Servers: map[string]string{"api": ts.URL}, Checks: all})
	if err != nil || len(res.Steps[0].Checks) > 0 {
		t.Fatalf("err = %v, checks = %+v", err, res.Steps[0].Checks)
	}
}

// A step's request check is remembered for the next identical request (a
// poll sends one request thousands of times) and redone for any other.
func TestChecksRequestMemo(t *testing.T) {
	plan := loadString(t, strings.Replace(strings.Replace(checkAPI, "%s", "3.0.3", 1), "%s", "{type: string}", 1), checkFlow)
	w := plan.Workflows[0]
	s := w.Steps[0]
	checks, _ := ParseChecks(nil, "request=warn")
	r := newRun(plan, &Options{Checks: checks}, w, nil)
	request := func(id string) *builtRequest {
		return &builtRequest{Request: protocol.Request{Method: "GET", URL: "http://x/jobs/" + id, Header: http.Header{"Accept": {"application/json"}}},
			path: map[string]string{"id": id}}
	}
	check := func(br *builtRequest) []Violation {
		c := newChecker(r, s)
		c.request(context.Background(), br)
		return c.out
	}
	if v := check(request("seven")); len(v) != 1 || v[0].Pointer != "path parameter id" {
		t.Fatalf("first check: %+v", v)
	}
	// The same request again: the memo answers (a marker proves it).
	r.requestMemo(s).out[0].Message = "from the memo"
	if v := check(request("seven")); len(v) != 1 || v[0].Message != "from the memo" {
		t.Fatalf("the same request was checked again: %+v", v)
	}
	// Any difference is checked afresh: the URL, a header, the body.
	if v := check(request("7")); len(v) != 0 {
		t.Fatalf("a valid request: %+v", v)
	}
	br := request("seven")
	br.Header.Set("X-Other", "1")
	if v := check(br); len(v) != 1 || v[0].Message == "from the memo" {
		t.Fatalf("another header: %+v", v)
	}
	r.requestMemo(s).out[0].Message = "from the memo"
	br = request("seven")
	br.Header.Set("X-Other", "1")
	br.Body, br.HasBody = []byte(`{}`), true
	if v := check(br); len(v) == 0 || v[0].Message == "from the memo" {
		t.Fatalf("another body: %+v", v)
	}
	// Runs do not share memos.
	if other := newRun(plan, &Options{}, w, nil); other.requestMemo(s) == r.requestMemo(s) {
		t.Fatal("two runs share a memo")
	}
}
