package report_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/report"
	"github.com/arazzo-go/arazzo/engine/source"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// The writers are checked against golden files made from the events of
// real runs: the engine, an HTTP server, a fake clock so that times and
// durations are the same on every machine.

const testURL = "http://api.test"

// checkGolden compares got with testdata/name, the server's address
// replaced by testURL.
func checkGolden(t *testing.T, name, got, serverURL string) {
	t.Helper()
	if serverURL != "" {
		got = strings.ReplaceAll(got, serverURL, testURL)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

// orderAPI serves testdata/api.openapi.yaml: an order is "packing" twice,
// then "shipped"; the stock answers 503 once; unknown stock is a 404.
// cancel, when set, is called by /hang, which then waits for the client
// to give up.
func orderAPI(t *testing.T, cancel func()) *httptest.Server {
	var mu sync.Mutex
	tracks, stocks := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header()["Date"] = nil // the server's clock is not the run's
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/orders":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id": "o-17", "state": "new"}`)
		case r.URL.Path == "/orders/o-17":
			tracks++
			state := "packing"
			if tracks == 3 {
				state = "shipped"
			}
			fmt.Fprintf(w, `{"id": "o-17", "state": %q}`, state)
		case r.URL.Path == "/stock/pen":
			stocks++
			if stocks == 1 {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, "busy, try again\n")
				return
			}
			fmt.Fprint(w, `{"sku": "pen", "count": 3}`)
		case r.URL.Path == "/hang" && cancel != nil:
			cancel()
			mu.Unlock()
			<-r.Context().Done()
			mu.Lock()
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"message": "no such thing: %s"}`, r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func loadFlow(t *testing.T) *engine.Plan {
	t.Helper()
	plan, diags := engine.LoadFile(context.Background(), "testdata/flow.arazzo.yaml", &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	return plan
}

// fakeClock moves 1.5ms each time it is read: durations are then made of
// how many times the engine looked at the clock, the same on every run.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(1500 * time.Microsecond)
		return t
	}
}

func options(srv *httptest.Server, clock func() time.Time, observers ...engine.Observer) *engine.Options {
	return &engine.Options{
		Servers:      map[string]string{"api": srv.URL + "/"},
		PollInterval: time.Second,
		Now:          clock,
		Sleep:        func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		Observers:    observers,
	}
}

var orderInputs = map[string]any{"apiKey": "k-secret-123", "sku": "pen"}

// outputs of one pass of the two runs through every writer.
type outputs struct {
	text, verbose, events, har bytes.Buffer
	records                    []report.RunRecord
}

// runAll runs order (which succeeds after polls and a retry) and missing
// (which fails), as `arazzo run --all` would, through every observer.
func runAll(t *testing.T, srv *httptest.Server) *outputs {
	t.Helper()
	plan := loadFlow(t)
	var o outputs
	har := report.NewHAR(&o.har, report.Tool{Name: "arazzo", Version: "test"})
	text, verbose, events := report.NewTextLog(&o.text, false), report.NewTextLog(&o.verbose, true), report.NewJSONLines(&o.events)
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := fakeClock()
	for i, wf := range []string{"order", "missing"} {
		res, err := plan.Run(context.Background(), wf, orderInputs, options(srv, clock, text, verbose, events, har))
		if res == nil {
			t.Fatalf("%s did not run: %v", wf, err)
		}
		o.records = append(o.records, report.RunRecord{File: "testdata/flow.arazzo.yaml", Result: res, Err: err,
			Started: started.Add(time.Duration(i) * time.Second), Duration: time.Duration(1234+i) * time.Millisecond})
	}
	if o.records[0].Result.Status != engine.Succeeded || o.records[1].Result.Status != engine.Failed {
		t.Fatalf("the runs did not go as planned: %+v %+v", o.records[0].Result, o.records[1].Result)
	}
	// Invalid inputs: nothing runs, and the reports still say so.
	_, err := plan.Run(context.Background(), "order", nil, options(srv, clock))
	if err == nil {
		t.Fatal("order without inputs ran")
	}
	o.records = append(o.records, report.RunRecord{File: "testdata/other.arazzo.yaml", Err: err, Started: started, Duration: time.Millisecond})
	for _, l := range []interface{ Err() error }{text, verbose, events} {
		if err := l.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := har.Close(); err != nil {
		t.Fatal(err)
	}
	return &o
}

func TestObserversGolden(t *testing.T) {
	srv := orderAPI(t, nil)
	o := runAll(t, srv)
	checkGolden(t, "runs.log", o.text.String(), srv.URL)
	checkGolden(t, "runs-verbose.log", o.verbose.String(), srv.URL)
	checkGolden(t, "runs.jsonl", o.events.String(), srv.URL)
	checkGolden(t, "runs.har", o.har.String(), srv.URL)
	if !json.Valid(o.har.Bytes()) {
		t.Error("the HAR log is not JSON")
	}
	for name, out := range map[string]string{"text": o.text.String(), "verbose": o.verbose.String(), "events": o.events.String(), "har": o.har.String()} {
		if strings.Contains(out, "k-secret-123") {
			t.Errorf("the %s output shows a secret input", name)
		}
	}
}

func TestResultsGolden(t *testing.T) {
	srv := orderAPI(t, nil)
	o := runAll(t, srv)
	var text bytes.Buffer
	for _, rec := range o.records[:2] {
		if err := report.WriteResult(&text, rec.Result, true); err != nil {
			t.Fatal(err)
		}
	}
	report.WriteResult(&text, o.records[0].Result, false)
	if err := report.WriteSummary(&text, o.records); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "results.txt", text.String(), srv.URL)

	var junit bytes.Buffer
	if err := report.WriteJUnit(&junit, o.records); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "results.junit.xml", junit.String(), srv.URL)
}

func TestDryRunGolden(t *testing.T) {
	plan := loadFlow(t)
	var out bytes.Buffer
	for _, wf := range []string{"order", "missing"} {
		reqs, err := plan.DryRun(context.Background(), wf, orderInputs, &engine.Options{Servers: map[string]string{"api": testURL}})
		if err != nil {
			t.Fatal(err)
		}
		if err := report.WriteDryRun(&out, wf, reqs); err != nil {
			t.Fatal(err)
		}
	}
	checkGolden(t, "dryrun.txt", out.String(), "")
}

func TestDiagnosticsGolden(t *testing.T) {
	_, diags := engine.LoadFile(context.Background(), "testdata/invalid.arazzo.yaml", &source.Loader{})
	if !diags.HasErrors() || len(diags) == len(diags.Errors()) {
		t.Fatalf("the invalid document should give errors and warnings: %v", diags)
	}
	var gh, sarif bytes.Buffer
	if err := report.WriteGitHubAnnotations(&gh, diags); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "invalid.github.txt", gh.String(), "")
	if err := report.WriteSARIF(&sarif, diags, report.Tool{Name: "arazzo", Version: "test", InformationURI: "https://github.com/arazzo-go/arazzo"}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "invalid.sarif", sarif.String(), "")
}

// Every line of the event log is one JSON object that decodes back into a
// JSONEvent, with lowerCamelCase names, RFC 3339 times with nanoseconds
// and durations as numbers of milliseconds.
func TestJSONLinesParseBack(t *testing.T) {
	srv := orderAPI(t, nil)
	o := runAll(t, srv)
	sc := bufio.NewScanner(&o.events)
	sc.Buffer(nil, 1<<20)
	kinds := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		var raw map[string]any
		if err := json.Unmarshal(line, &raw); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", n, err, line)
		}
		checkNames(t, n, raw)
		var e report.JSONEvent
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d does not decode into JSONEvent: %v\n%s", n, err, line)
		}
		kinds[e.Kind]++
		ts, ok := raw["time"].(string)
		if !ok {
			t.Fatalf("line %d has no time: %s", n, line)
		}
		if p, err := time.Parse(report.TimeLayout, ts); err != nil || p.Location() != time.UTC || len(ts) != len("2006-01-02T15:04:05.000000000Z") {
			t.Fatalf("line %d: time %q is not RFC 3339 in UTC: %v", n, ts, err)
		}
		for _, k := range []string{"durationMs", "waitMs"} {
			if v, ok := raw[k]; ok {
				if _, isNum := v.(float64); !isNum {
					t.Fatalf("line %d: %s is not a number: %v", n, k, v)
				}
			}
		}
		if e.Kind == string(engine.CriterionEvaluated) && e.Passed == nil {
			t.Fatalf("line %d: a criterion without its outcome", n)
		}
		if e.Kind == string(engine.ResponseReceived) && (e.Response == nil || e.Response.Body == "" || e.DurationMs <= 0) {
			t.Fatalf("line %d: a response without status, body or duration: %s", n, line)
		}
		if e.Kind == string(engine.Waiting) && e.WaitMs != 1000 && e.WaitMs != 2000 {
			t.Fatalf("line %d: wait %v ms", n, e.WaitMs)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []engine.EventKind{engine.RunStarted, engine.WorkflowStarted, engine.StepStarted, engine.RequestSent, engine.ResponseReceived,
		engine.CriterionEvaluated, engine.ActionTaken, engine.Waiting, engine.StepFinished, engine.WorkflowFinished, engine.RunFinished} {
		if kinds[string(k)] == 0 {
			t.Errorf("no %s event in the log: %v", k, kinds)
		}
	}
}

// checkNames walks a decoded line: every object key is lowerCamelCase,
// except header names, which are as sent, and outputs, which are the
// document's.
func checkNames(t *testing.T, line int, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, sub := range m {
		if k == "" || k[0] < 'a' || k[0] > 'z' || strings.ContainsAny(k, "_- ") {
			t.Fatalf("line %d: field %q is not lowerCamelCase", line, k)
		}
		if k != "headers" && k != "outputs" {
			checkNames(t, line, sub)
		}
	}
}

// A run cancelled while a request is in flight still leaves a complete HAR
// document and a complete event log.
func TestCancelledRunLeavesValidReports(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := orderAPI(t, cancel)
	var harOut, events bytes.Buffer
	har := report.NewHAR(&harOut, report.Tool{Name: "arazzo", Version: "test"})
	res, _ := loadFlow(t).Run(ctx, "hang", nil, options(srv, fakeClock(), har, report.NewJSONLines(&events)))
	if res == nil || res.Status != engine.Failed || !strings.Contains(res.Error.Message, "cancelled") {
		t.Fatalf("the run was not cancelled: %+v", res)
	}
	if err := har.Close(); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Log struct {
			Entries []struct {
				Comment  string `json:"comment"`
				Response struct {
					Status int `json:"status"`
				} `json:"response"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(harOut.Bytes(), &log); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, harOut.String())
	}
	if n := len(log.Log.Entries); n != 1 || log.Log.Entries[0].Comment != "no response" || log.Log.Entries[0].Response.Status != 0 {
		t.Fatalf("want one entry without a response: %s", harOut.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(events.String(), "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("not JSON: %s", line)
		}
	}
}

// A request whose run ends before its step does (a crash, an observer
// detached early) is still written by Close.
func TestHARClosesPendingRequests(t *testing.T) {
	var out bytes.Buffer
	h := report.NewHAR(&out, report.Tool{Name: "x"})
	h.OnEvent(engine.Event{Kind: engine.RequestSent, WorkflowID: "w", StepID: "s", Attempt: 1,
		Request: &engine.RequestInfo{Method: "GET", URL: testURL + "/a?b=1", Header: http.Header{}}})
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal("a second Close does nothing:", err)
	}
	var log struct {
		Log struct {
			Entries []map[string]any `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil || len(log.Log.Entries) != 1 || log.Log.Entries[0]["comment"] != "no response" {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errDiskFull
	}
	w.after--
	return len(p), nil
}

// A writer's first error is kept and reported, not lost among the events.
func TestWriteErrorsAreReported(t *testing.T) {
	srv := orderAPI(t, nil)
	plan := loadFlow(t)
	har := report.NewHAR(&failingWriter{after: 1}, report.Tool{Name: "x"})
	// The text log buffers its lines: its first write is the one to fail.
	text, events := report.NewTextLog(&failingWriter{}, false), report.NewJSONLines(&failingWriter{after: 2})
	res, _ := plan.Run(context.Background(), "order", orderInputs, options(srv, fakeClock(), har, text, events))
	if res == nil {
		t.Fatal("no result")
	}
	if err := har.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("HAR: %v", err)
	}
	for name, err := range map[string]error{"text": text.Err(), "events": events.Err()} {
		if !errors.Is(err, errDiskFull) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := report.WriteResult(&failingWriter{}, res, true); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteResult: %v", err)
	}
	if err := report.WriteJUnit(&failingWriter{after: 1}, []report.RunRecord{{File: "f", Result: res}}); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteJUnit: %v", err)
	}
}

// countingWriter counts the writes that reach it.
type countingWriter struct {
	mu     sync.Mutex
	writes int
	b      strings.Builder
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.b.Write(p)
}

func (w *countingWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// The text log writes in batches: a poll's lines are not a system call
// each, yet a line reaches the reader within FlushDelay, and the end of a
// workflow (or Flush) writes everything.
func TestTextLogBatches(t *testing.T) {
	w := &countingWriter{}
	l := report.NewTextLog(w, false)
	req := engine.Event{Kind: engine.RequestSent, WorkflowID: "w", StepID: "poll", Request: &engine.RequestInfo{Method: "POST", URL: "http://api/describe"}}
	resp := engine.Event{Kind: engine.ResponseReceived, WorkflowID: "w", StepID: "poll", Response: &engine.ResponseInfo{StatusCode: 200}}
	for range 500 {
		l.OnEvent(req)
		l.OnEvent(resp)
	}
	l.OnEvent(engine.Event{Kind: engine.WorkflowFinished, WorkflowID: "w", Status: engine.Succeeded})
	if got := strings.Count(w.String(), "\n"); got != 1001 {
		t.Fatalf("%d lines, want 1001:\n%s", got, w.String())
	}
	if w.writes > 20 {
		t.Errorf("%d writes for 1001 lines", w.writes)
	}
	// A lone line is not held back: it arrives within the delay.
	l.OnEvent(req)
	deadline := time.Now().Add(10 * report.FlushDelay)
	for !strings.HasSuffix(w.String(), "http://api/describe\n") || strings.Count(w.String(), "\n") != 1002 {
		if time.Now().After(deadline) {
			t.Fatalf("a line was held back for %v", 10*report.FlushDelay)
		}
		time.Sleep(time.Millisecond)
	}
	l.OnEvent(resp)
	if err := l.Flush(); err != nil || strings.Count(w.String(), "\n") != 1003 {
		t.Fatalf("Flush: %v, %d lines", err, strings.Count(w.String(), "\n"))
	}
}
