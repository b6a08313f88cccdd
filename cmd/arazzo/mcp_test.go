package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// `arazzo mcp` as an agent host runs it: the SDK's client over stdio to
// this test binary started as the CLI (see process_test.go), and over
// streamable HTTP to the command run in this process. The server's own
// behaviour is tested in internal/mcpserver; these check the command: its
// flags configure the runs as run's do, the emulator, the real describe and
// graph resources, run's error hints, and how it starts and stops.

func newClient(progress func(*mcp.ProgressNotificationParams)) *mcp.Client {
	opts := &mcp.ClientOptions{}
	if progress != nil {
		opts.ProgressNotificationHandler = func(_ context.Context, r *mcp.ProgressNotificationClientRequest) { progress(r.Params) }
	}
	return mcp.NewClient(&mcp.Implementation{Name: "arazzo-test", Version: "1"}, opts)
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// syncBuffer is a process's stderr, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// readmeServer is the command line of the agent host configuration the
// README gives, with its example paths made this checkout's.
func readmeServer(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), "```json\n{\n  \"mcpServers\"")
	snippet, _, ok := strings.Cut("{\n  \"mcpServers\""+rest, "```")
	var cfg struct {
		MCPServers map[string]struct {
			Command string
			Args    []string
		}
	}
	if err := json.Unmarshal([]byte(snippet), &cfg); !ok || err != nil || len(cfg.MCPServers) != 1 {
		t.Fatalf("the README's MCP configuration does not parse: %v\n%s", err, snippet)
	}
	for _, s := range cfg.MCPServers {
		for i, a := range s.Args {
			s.Args[i] = strings.Replace(a, "/home/me/arazzo/", "../../", 1)
		}
		return s.Args
	}
	return nil
}

// The seed workflow served over stdio against the HealthLake emulator, as
// the README's agent host configuration has it (polling faster).
func TestMCPStdioServesTheSeed(t *testing.T) {
	cmd := exec.Command(os.Args[0], append(readmeServer(t), "--poll-interval", "20ms")...)
	cmd.Env = append(os.Environ(), beCLI+"=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	var mu sync.Mutex
	var progress []string
	cs, err := newClient(func(p *mcp.ProgressNotificationParams) {
		mu.Lock()
		progress = append(progress, p.Message)
		mu.Unlock()
	}).Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != "start-export-poll-and-list" {
		t.Fatalf("%v %+v", err, tools)
	}

	data, err := os.ReadFile("../../examples/healthlake-export.inputs.json")
	if err != nil {
		t.Fatal(err)
	}
	var inputs map[string]any
	if err := json.Unmarshal(data, &inputs); err != nil {
		t.Fatal(err)
	}
	p := &mcp.CallToolParams{Name: "start-export-poll-and-list", Arguments: inputs}
	p.SetProgressToken(1)
	res, err := cs.CallTool(t.Context(), p)
	if err != nil || res.IsError {
		t.Fatalf("%v %s\n%s", err, resultText(res), stderr.String())
	}
	out, _ := res.StructuredContent.(map[string]any)
	if out["jobStatus"] != "COMPLETED" || out["jobId"] == "" {
		t.Errorf("outputs %v", out)
	}
	// Progress notifications are handled apart from the result: the last
	// may still be on its way when the call returns.
	wants := []string{"step startExportJob", "step pollExportJob (visit 2)", "waiting 20ms before step pollExportJob", "step listExportJobs"}
	var got string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		got = strings.Join(progress, "\n")
		mu.Unlock()
		missing := 0
		for _, want := range wants {
			if !strings.Contains(got, want) {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("no progress %q in:\n%s", want, got)
		}
	}
	// ClientToken is secret by its name: the emulator keeps it, and it
	// must not come back.
	if b, _ := json.Marshal(res); strings.Contains(string(b), inputs["ClientToken"].(string)) {
		t.Errorf("the result shows the client token: %s", b)
	}

	delete(inputs, "DatastoreId")
	res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "start-export-poll-and-list", Arguments: inputs})
	if err != nil || !res.IsError || !strings.HasPrefix(resultText(res), "invalid inputs: input DatastoreId is required") {
		t.Errorf("invalid arguments: %v %q", err, resultText(res))
	}

	for uri, want := range map[string]string{
		"arazzo://amazon-healthlake-export/workflows/start-export-poll-and-list/describe": "    2. pollExportJob            POST /#X-Amz-Target=HealthLake.DescribeFHIRExportJob (DescribeFHIRExportJob)",
		"arazzo://amazon-healthlake-export/workflows/start-export-poll-and-list/graph":    "flowchart TD",
		"arazzo://amazon-healthlake-export/document":                                      "workflowId: start-export-poll-and-list",
	} {
		r, err := cs.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: uri})
		if err != nil || len(r.Contents) != 1 || !strings.Contains(r.Contents[0].Text, want) {
			t.Errorf("%s: %v %+v", uri, err, r)
		}
	}

	if strings.Contains(stderr.String(), inputs["ClientToken"].(string)) {
		t.Errorf("stderr shows the client token:\n%s", stderr.String())
	}
	// The host closing stdin ends the server cleanly.
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("exit %v\n%s", cmd.ProcessState, stderr.String())
	}
	if e := stderr.String(); !strings.Contains(e, "emulating HealthLake at http://127.0.0.1:") || !strings.Contains(e, "arazzo mcp: serving 1 tool on stdio") ||
		!strings.Contains(e, "arazzo mcp: start-export-poll-and-list succeeded in ") ||
		!strings.Contains(e, "arazzo mcp: start-export-poll-and-list failed: invalid inputs: input DatastoreId is required") {
		t.Errorf("stderr:\n%s", e)
	}
}

// startMCPHTTP runs `arazzo mcp ARGS --http 127.0.0.1:0` in this process
// and returns its URL and a function that interrupts it and returns its
// exit code.
func startMCPHTTP(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, host{getenv: func(string) string { return "" }}, append(append([]string{"mcp"}, args...), "--http", "127.0.0.1:0"),
			strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			cancel()
			t.Fatalf("the server did not start: %v (exit %d)", err, <-code)
		}
		if _, url, ok := strings.Cut(strings.TrimSpace(line), " at http"); ok {
			go io.Copy(io.Discard, r)
			t.Cleanup(cancel)
			return "http" + url, func() int { cancel(); return <-code }
		}
	}
}

func TestMCPOverHTTP(t *testing.T) {
	items := httptest.NewServer(itemHandler())
	defer items.Close()
	secure := httptest.NewServer(secureHandler())
	defer secure.Close()
	url, stop := startMCPHTTP(t, "testdata/cli.arazzo.yaml", "--server", "api="+items.URL+"/v1", "--poll-interval", "0.01", "--timeout", "300ms")
	cs, err := newClient(nil).Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": 42, "label": "x"}})
	if err != nil || res.IsError {
		t.Fatalf("%v %s", err, resultText(res))
	}
	if b, _ := json.Marshal(res.StructuredContent); string(b) != `{"id":42,"label":"x","name":"item-42"}` {
		t.Errorf("outputs %s", b)
	}
	// --timeout stops a poll; the error carries run's hint.
	start := time.Now()
	res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "poll"})
	if err != nil || !res.IsError || !strings.Contains(resultText(res), "timed out in step check") ||
		!strings.Contains(resultText(res), "(raise the limit with --timeout, or --timeout 0 for none)") || time.Since(start) > 5*time.Second {
		t.Errorf("%v %q", err, resultText(res))
	}
	cs.Close()
	if code := stop(); code != 0 {
		t.Errorf("an interrupted server exits %d", code)
	}

	// Secrets stay masked in a tool error from an API that echoes them.
	url, stop = startMCPHTTP(t, "testdata/cli.arazzo.yaml", "--server", "api="+secure.URL+"/v1")
	cs, err = newClient(nil).Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "secure", Arguments: map[string]any{"apiKey": "CANARY-KEY-4d2f9a", "passphrase": "CANARY-PASS-0b7e31"}})
	if err != nil || !res.IsError || !strings.Contains(resultText(res), "status 401") {
		t.Fatalf("%v %q", err, resultText(res))
	}
	if b, _ := json.Marshal(res); strings.Contains(string(b), "CANARY-KEY-4d2f9a") || strings.Contains(string(b), "CANARY-PASS-0b7e31") {
		t.Errorf("the tool error shows a secret: %s", b)
	}
	cs.Close()
	stop()
}

// pairedItems is itemHandler, counting status polls, where items 7 and 8
// answer only once both requests are in: two calls succeed only if they
// run at the same time.
func pairedItems() (http.Handler, *atomic.Int64) {
	polls := new(atomic.Int64)
	arrived := new(atomic.Int64)
	both := make(chan struct{})
	items := itemHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/status":
			polls.Add(1)
		case "/v1/items/7", "/v1/items/8":
			if arrived.Add(1) == 2 {
				close(both)
			}
			select {
			case <-both:
			case <-time.After(5 * time.Second):
				http.Error(w, `{"message":"alone"}`, 503)
				return
			}
		}
		items.ServeHTTP(w, r)
	}), polls
}

// Over stdio to a real process: a failing workflow, two calls at once, and
// a poll the client cancels, after which no request is sent.
func TestMCPStdioConcurrencyAndCancellation(t *testing.T) {
	h, polls := pairedItems()
	api := httptest.NewServer(h)
	defer api.Close()
	cmd := exec.Command(os.Args[0], "mcp", "testdata/cli.arazzo.yaml", "--server", "api="+api.URL+"/v1", "--poll-interval", "10ms")
	cmd.Env = append(os.Environ(), beCLI+"=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	progress := make(chan string, 1000)
	cs, err := newClient(func(p *mcp.ProgressNotificationParams) { progress <- p.Message }).Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	defer cs.Close()

	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": 404}})
	if err != nil || !res.IsError || resultText(res) != "workflow fetch, step get (attempt 1), status 404: item 404 does not exist; success criterion not met: $statusCode == 200: {\"message\":\"item 404 does not exist\"}" {
		t.Errorf("a failing workflow: %v %q", err, resultText(res))
	}

	var wg sync.WaitGroup
	for _, id := range []int{7, 8} {
		wg.Go(func() {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": id}})
			if err != nil || res.IsError || res.StructuredContent.(map[string]any)["name"] != fmt.Sprintf("item-%d", id) {
				t.Errorf("call %d: %v %s", id, err, resultText(res))
			}
		})
	}
	wg.Wait()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		p := &mcp.CallToolParams{Name: "poll"}
		p.SetProgressToken("poll")
		_, err := cs.CallTool(ctx, p)
		done <- err
	}()
	for seen := 0; seen < 5; seen++ {
		select {
		case <-progress:
		case <-time.After(10 * time.Second):
			t.Fatal("no progress from the poll")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled call ends with %v", err)
	}
	for i := 0; ; i++ {
		n := polls.Load()
		time.Sleep(100 * time.Millisecond)
		if polls.Load() == n {
			break
		}
		if i == 20 {
			t.Fatalf("the run goes on after cancellation: %d polls and counting", n)
		}
	}
	// The server is still there for the next call.
	if res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": 1}}); err != nil || res.IsError {
		t.Errorf("after a cancellation: %v %s", err, resultText(res))
	}
	if e := stderr.String(); !strings.Contains(e, "arazzo mcp: poll cancelled by the client in ") || !strings.Contains(e, "arazzo mcp: fetch failed: workflow fetch, step get (attempt 1), status 404") {
		t.Errorf("stderr:\n%s", e)
	}
}
