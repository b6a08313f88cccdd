package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Run scenarios are archives in testdata/run: a document, the description
// it calls, what the server answers, and what the run must give. Each is
// run against a real server on loopback through the engine's exported API
// only, and its Result compared as JSON, so that the scenarios hold however
// the engine is built inside.
//
// An archive holds:
//
//	doc.arazzo.yaml  the document; its source named "api" is sent to the server
//	api.openapi.yaml the description it names (and any other file it reads)
//	options          "key: value" lines: workflow (required), pollInterval,
//	                 maxSteps, maxResponseBytes (engine.Options' fields), now
//	                 (RFC 3339, the run's clock) and "server: closed" (every
//	                 connection is refused)
//	inputs.json      the workflow's inputs (optional)
//	responses        what the server answers (see parseResponses)
//	want.json        the Result, as encoding/json writes it, indented, with
//	                 the server's address written $ADDR
//	requests.json    optional: the requests the server received
//	waits.json       optional: the waits the run asked for, in order
//
// An archive may hold several runs of one document: each is a directory
// with its own want.json, whose files take the place of the top-level ones.
// go test -update rewrites want.json, and requests.json and waits.json where
// they are present.
func TestRunScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/run/*.txtar")
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata/run")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			changed := false
			for _, dir := range runDirs(a) {
				name := dir
				if name == "" {
					name = "run"
				}
				t.Run(name, func(t *testing.T) {
					changed = runScenario(t, a, dir) || changed
				})
			}
			if changed {
				if err := os.WriteFile(file, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// runDirs lists the runs of an archive: the directories holding a
// want.json ("" for the top level).
func runDirs(a *txtar.Archive) []string {
	var dirs []string
	for _, f := range a.Files {
		if path.Base(f.Name) != "want.json" {
			continue
		}
		dir := path.Dir(f.Name)
		if dir == "." {
			dir = ""
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

// scenarioFile finds a run's file: the run directory's own, else the
// archive's top-level one.
func scenarioFile(a *txtar.Archive, dir, name string) *txtar.File {
	for _, n := range []string{path.Join(dir, name), name} {
		if i := slices.IndexFunc(a.Files, func(f txtar.File) bool { return f.Name == n }); i >= 0 {
			return &a.Files[i]
		}
	}
	return nil
}

// runScenario runs one run of an archive and reports whether -update
// changed the archive.
func runScenario(t *testing.T, a *txtar.Archive, dir string) bool {
	// The run's files, the top-level ones overlaid with its own, in one
	// directory, so that the document finds its description by the same
	// relative name in every run.
	tmp := t.TempDir()
	for _, layer := range []string{".", dir} {
		for _, f := range a.Files {
			if path.Dir(f.Name) != layer {
				continue
			}
			if err := os.WriteFile(filepath.Join(tmp, path.Base(f.Name)), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return data
	}
	routes, err := parseResponses(string(read("responses")), read)
	if err != nil {
		t.Fatal(err)
	}
	srv := newScenarioServer(routes)
	defer srv.Close()

	opts := &engine.Options{Servers: map[string]string{"api": srv.URL + "/v1"}, PollInterval: -1}
	var mu sync.Mutex
	waits := []string{}
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d.String())
		mu.Unlock()
		return ctx.Err()
	}
	workflow, closed := applyOptions(t, string(read("options")), opts)
	if closed {
		srv.Close()
	}
	var inputs map[string]any
	if data := read("inputs.json"); data != nil {
		d := json.NewDecoder(strings.NewReader(string(data)))
		d.UseNumber()
		if err := d.Decode(&inputs); err != nil {
			t.Fatalf("inputs.json: %v", err)
		}
	}

	plan, diags := engine.LoadFile(context.Background(), filepath.Join(tmp, "doc.arazzo.yaml"), &source.Loader{})
	if plan == nil {
		t.Fatalf("the document does not compile:\n%s", diags.Error())
	}
	res, err := plan.Run(context.Background(), workflow, inputs, opts)
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	got := indentJSON(t, res)
	// A failed run returns its RunError as the error too; a successful one
	// no error.
	var status struct{ Status string }
	if err := json.Unmarshal([]byte(got), &status); err != nil {
		t.Fatal(err)
	}
	var re *engine.RunError
	if failed := status.Status == "failed"; failed != (err != nil) || (err != nil && !errors.As(err, &re)) {
		t.Fatalf("the error %v (%T) does not match the result:\n%s", err, err, got)
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	changed := compareFile(t, a, dir, "want.json", strings.ReplaceAll(got, addr, "$ADDR"), true)
	changed = compareFile(t, a, dir, "requests.json", indentJSON(t, srv.requests()), false) || changed
	return compareFile(t, a, dir, "waits.json", indentJSON(t, waits), false) || changed
}

// indentJSON is v as encoding/json writes it, indented, with <, > and &
// left as they are.
func indentJSON(t *testing.T, v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// compareFile compares got with the run's file name; a file that is not
// required is compared only where the archive has it. It reports whether
// -update changed the archive.
func compareFile(t *testing.T, a *txtar.Archive, dir, name, got string, required bool) bool {
	t.Helper()
	f := scenarioFile(a, dir, name)
	switch {
	case f == nil && !required:
		return false
	case updating():
		if f != nil && string(f.Data) == got {
			return false
		}
		// A file the runs share becomes this run's own.
		if own := path.Join(dir, name); f == nil || f.Name != own {
			a.Files = append(a.Files, txtar.File{Name: own})
			f = &a.Files[len(a.Files)-1]
		}
		f.Data = []byte(got)
		return true
	case f == nil:
		t.Errorf("no %s (go test -update writes it):\n%s", name, got)
	case string(f.Data) != got:
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s--- want\n%s", f.Name, got, f.Data)
	}
	return false
}

// updating reports -update, a flag validate_test.go defines in this same
// test binary.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// applyOptions sets opts from an options file and returns the workflow to
// run and whether the server is to refuse connections.
func applyOptions(t *testing.T, text string, opts *engine.Options) (workflow string, closed bool) {
	t.Helper()
	for line := range strings.Lines(text) {
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		val = strings.TrimSpace(val)
		var err error
		switch {
		case !ok && strings.TrimSpace(line) == "":
			continue
		case key == "workflow":
			workflow = val
		case key == "server" && val == "closed":
			closed = true
		case key == "pollInterval":
			opts.PollInterval, err = time.ParseDuration(val)
		case key == "maxSteps":
			opts.MaxSteps, err = strconv.Atoi(val)
		case key == "maxResponseBytes":
			opts.MaxResponseBytes, err = strconv.ParseInt(val, 10, 64)
		case key == "now":
			var now time.Time
			now, err = time.Parse(time.RFC3339, val)
			opts.Now = func() time.Time { return now }
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			t.Fatalf("options: %q: %v", line, err)
		}
	}
	if workflow == "" {
		t.Fatal("options: no workflow")
	}
	return workflow, closed
}

// An answer is one canned response.
type answer struct {
	status int
	header http.Header
	body   string
}

// parseResponses reads a responses file: a route line "METHOD /path" (the
// query is not matched), then its answers, indented, one a line, given in
// turn to the route's calls; the last one answers every later call.
//
//	[Nx] STATUS [Name: value]... BODY
//
// Nx gives the answer to N calls in a row; each [Name: value] sets a
// header (Content-Type is application/json unless set); BODY is the rest
// of the line, "{n}" in it is the call's number, and "<file" takes the body
// from that file of the archive. Blank lines and lines starting with #
// are skipped. A request with no route gets a 404.
func parseResponses(text string, read func(string) []byte) (map[string][]answer, error) {
	routes := map[string][]answer{}
	var route string
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		fail := func(msg string) error { return fmt.Errorf("responses:%d: %s: %q", n, msg, line) }
		if trimmed == line {
			route = trimmed
			continue
		}
		if route == "" {
			return nil, fail("an answer before any route")
		}
		times := 1
		if first, rest, _ := strings.Cut(trimmed, " "); strings.HasSuffix(first, "x") {
			c, err := strconv.Atoi(strings.TrimSuffix(first, "x"))
			if err != nil || c < 1 {
				return nil, fail("a count is Nx")
			}
			times, trimmed = c, strings.TrimSpace(rest)
		}
		code, rest, _ := strings.Cut(trimmed, " ")
		ans := answer{header: http.Header{"Content-Type": {"application/json"}}}
		var err error
		if ans.status, err = strconv.Atoi(code); err != nil {
			return nil, fail("no status")
		}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "[") {
			h, after, ok := strings.Cut(rest[1:], "]")
			k, v, ok2 := strings.Cut(h, ":")
			if !ok || !ok2 {
				return nil, fail("a header is [Name: value]")
			}
			ans.header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			rest = strings.TrimSpace(after)
		}
		ans.body = rest
		if file, ok := strings.CutPrefix(rest, "<"); ok {
			ans.body = string(read(file))
		}
		for range times {
			routes[route] = append(routes[route], ans)
		}
	}
	return routes, sc.Err()
}

// received is a request as requests.json shows it: the headers Go's client
// adds by itself are left out.
type received struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	Body   string      `json:"body,omitempty"`
}

type scenarioServer struct {
	*httptest.Server
	mu    sync.Mutex
	log   []received
	calls map[string]int
}

func newScenarioServer(routes map[string][]answer) *scenarioServer {
	s := &scenarioServer{calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := r.Header.Clone()
		for _, k := range []string{"User-Agent", "Accept-Encoding", "Content-Length"} {
			h.Del(k)
		}
		if len(h) == 0 {
			h = nil
		}
		key := r.Method + " " + r.URL.Path
		s.mu.Lock()
		s.calls[key]++
		n := s.calls[key]
		s.log = append(s.log, received{Method: r.Method, URL: r.URL.RequestURI(), Header: h, Body: string(body)})
		s.mu.Unlock()
		answers := routes[key]
		if len(answers) == 0 {
			http.Error(w, `{"message":"no route for `+key+`"}`, http.StatusNotFound)
			return
		}
		ans := answers[min(n, len(answers))-1]
		for k, v := range ans.header {
			w.Header()[k] = v
		}
		w.WriteHeader(ans.status)
		io.WriteString(w, strings.ReplaceAll(ans.body, "{n}", strconv.Itoa(n)))
	}))
	return s
}

func (s *scenarioServer) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}
