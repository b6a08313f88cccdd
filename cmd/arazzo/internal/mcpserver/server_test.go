package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// The server is tested as an agent host uses it: the SDK's own client, over
// an in-memory pair and over streamable HTTP on loopback, calling the
// workflows of testdata/*.arazzo.yaml against shopAPI, a loopback server
// that enforces what the description says. (cmd/arazzo's tests drive
// `arazzo mcp` itself over stdio and HTTP.)

// apiKey is the only key shopAPI accepts; it echoes it back in each item's
// owner, as careless APIs do, so every test can check it stays masked.
const apiKey = "CANARY-MCP-KEY-31f9c0"

type shopAPI struct {
	*httptest.Server
	items, status atomic.Int64 // requests to /items/* and /status
	// pair: items 7 and 8 answer only once both requests are in, so a call
	// for each succeeds only when the two run at the same time.
	pairOnce sync.Once
	pairIn   atomic.Int64
	pair     chan struct{}
}

func newShopAPI(t testing.TB) *shopAPI {
	api := &shopAPI{pair: make(chan struct{})}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/status" {
			api.status.Add(1)
			fmt.Fprint(w, `{"status":"running"}`)
			return
		}
		api.items.Add(1)
		id, ok := strings.CutPrefix(r.URL.Path, "/v1/items/")
		switch {
		case !ok:
			w.WriteHeader(404)
			return
		case r.Header.Get("X-Api-Key") != apiKey && id != "404":
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"message":"bad key %s"}`, r.Header.Get("X-Api-Key"))
			return
		case id == "404":
			w.WriteHeader(404)
			fmt.Fprint(w, `{"message":"item 404 does not exist"}`)
			return
		case id == "7" || id == "8":
			if api.pairIn.Add(1) == 2 {
				api.pairOnce.Do(func() { close(api.pair) })
			}
			select {
			case <-api.pair:
			case <-time.After(5 * time.Second):
				w.WriteHeader(503)
				fmt.Fprint(w, `{"message":"the other call never came"}`)
				return
			}
		}
		if id == "13" { // the name is not the string the description says
			fmt.Fprintf(w, `{"id": 13, "name": 13, "owner": null}`)
			return
		}
		fmt.Fprintf(w, `{"id": %s, "name": "item-%s", "owner": %q, "tags": ["red"]}`, id, id, r.Header.Get("X-Api-Key"))
	}))
	t.Cleanup(api.Close)
	return api
}

// load compiles the test documents, served with the given options.
func load(t testing.TB, opts *engine.Options, files ...string) []Document {
	t.Helper()
	var docs []Document
	for _, f := range files {
		path := "testdata/" + f
		plan, diags := engine.LoadFile(context.Background(), path, &source.Loader{})
		if plan == nil {
			t.Fatalf("%s: %v", f, diags.Error())
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, Document{File: path, Text: text, Plan: plan, Options: opts})
	}
	return docs
}

func shopOptions(api *shopAPI) *engine.Options {
	return &engine.Options{Servers: map[string]string{"shop": api.URL + "/v1"}, PollInterval: 5 * time.Millisecond}
}

func testConfig(docs []Document) Config {
	return Config{
		Documents: docs,
		Version:   "test",
		Describe:  func(w *engine.Workflow) string { return "describe " + w.ID },
		Graph:     func(w *engine.Workflow) string { return "flowchart TD\n  %% " + w.ID },
	}
}

// transports connects a client to the server each way the tests run.
var transports = map[string]func(t *testing.T, s *mcp.Server, c *mcp.Client) *mcp.ClientSession{
	"memory": func(t *testing.T, s *mcp.Server, c *mcp.Client) *mcp.ClientSession {
		st, ct := mcp.NewInMemoryTransports()
		ss, err := s.Connect(t.Context(), st, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ss.Close() })
		cs, err := c.Connect(t.Context(), ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		return cs
	},
	"http": func(t *testing.T, s *mcp.Server, c *mcp.Client) *mcp.ClientSession {
		hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
		t.Cleanup(hs.Close)
		cs, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: hs.URL, MaxRetries: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		return cs
	},
}

// each runs f over every transport, with a fresh API and server.
func each(t *testing.T, opts *mcp.ClientOptions, f func(t *testing.T, api *shopAPI, cs *mcp.ClientSession)) {
	for name, connect := range transports {
		t.Run(name, func(t *testing.T) {
			api := newShopAPI(t)
			s, err := New(testConfig(load(t, shopOptions(api), "shop.arazzo.yaml", "other.arazzo.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			f(t, api, connect(t, s, mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, opts)))
		})
	}
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// noSecret fails if the key appears anywhere in v as JSON.
func noSecret(t *testing.T, what string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), apiKey) {
		t.Errorf("%s shows the secret: %s", what, b)
	}
}

func TestListTools(t *testing.T) {
	each(t, nil, func(t *testing.T, _ *shopAPI, cs *mcp.ClientSession) {
		res, err := cs.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		tools := map[string]*mcp.Tool{}
		var names []string
		for _, tl := range res.Tools {
			tools[tl.Name] = tl
			names = append(names, tl.Name)
		}
		slices.Sort(names)
		// fetch is in both documents, so is prefixed by each one's name.
		if want := []string{"missing", "nested", "other_fetch", "poll", "shop_fetch"}; !slices.Equal(names, want) {
			t.Fatalf("tools %v, want %v", names, want)
		}
		fetch := tools["shop_fetch"]
		if !strings.HasPrefix(fetch.Description, "Fetch an item by id.\n\nReads one item") ||
			!strings.Contains(fetch.Description, "arazzo://shop/workflows/fetch/describe") {
			t.Errorf("description %q", fetch.Description)
		}
		if !strings.Contains(tools["poll"].Description, "Wait for the status job") || !strings.Contains(tools["nested"].Description, "steps call") {
			t.Errorf("a workflow without a description is described by its summary, else its steps: %q, %q", tools["poll"].Description, tools["nested"].Description)
		}
		// The inputs schema, its $refs (to components, and from there on)
		// inlined, the secret input marked.
		checkJSON(t, "input schema", fetch.InputSchema, `{"properties":{"apiKey":{"description":"the caller's key","type":"string","writeOnly":true},`+
			`"id":{"description":"the item to fetch","type":"integer"},"note":{"description":"a note copied to the outputs","type":"string"}},`+
			`"required":["id","apiKey"],"type":"object"}`)
		checkJSON(t, "input schema", tools["poll"].InputSchema, `{"type":"object"}`)
		// Outputs typed from the description's response schema (through
		// step outputs and a pointer into one), $statusCode, an input, and a
		// template; nothing guessed where nothing is known.
		checkJSON(t, "output schema", fetch.OutputSchema, `{"properties":{"firstTag":{"type":"string"},"id":{"type":"integer"},"label":{"type":"string"},`+
			`"name":{"description":"the item's name","type":"string"},"note":{"description":"a note copied to the outputs","type":"string"},`+
			`"owner":{"type":["string","null"]},"status":{"type":"integer"}},"type":"object"}`)
		checkJSON(t, "output schema", tools["nested"].OutputSchema, `{"properties":{"name":{"description":"the item's name","type":"string"}},"type":"object"}`)
		checkJSON(t, "output schema", tools["other_fetch"].OutputSchema, `{"properties":{},"type":"object"}`)
	})
}

func checkJSON(t *testing.T, what string, v any, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil || string(b) != want {
		t.Errorf("%s:\n got %s\nwant %s", what, b, want)
	}
}

func TestCallReturnsOutputs(t *testing.T) {
	each(t, nil, func(t *testing.T, api *shopAPI, cs *mcp.ClientSession) {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "shop_fetch", Arguments: map[string]any{"id": 3, "apiKey": apiKey, "note": "n"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.IsError {
			t.Fatalf("tool error: %s", text(res))
		}
		// The owner echoes the key, masked.
		checkJSON(t, "outputs", res.StructuredContent, `{"firstTag":"red","id":3,"label":"item-3","name":"item-3","note":"n","owner":"****","status":200}`)
		if txt := text(res); !strings.HasPrefix(txt, "workflow fetch succeeded: 1 step, 1 step execution, ") || !strings.Contains(txt, `"name": "item-3"`) {
			t.Errorf("text %q", txt)
		}
		noSecret(t, "the result", res)
		// A workflow that calls another.
		res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "nested", Arguments: map[string]any{"id": 4, "apiKey": apiKey}})
		if err != nil || res.IsError {
			t.Fatalf("%v %s", err, text(res))
		}
		checkJSON(t, "outputs", res.StructuredContent, `{"name":"item-4"}`)
		// An API that answers otherwise than its description: the
		// outputs would break the declared schema, which hosts enforce.
		res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "shop_fetch", Arguments: map[string]any{"id": 13, "apiKey": apiKey}})
		if err != nil {
			t.Fatal(err)
		}
		if want := "workflow fetch succeeded, but its outputs do not have the types the description declares (output name: got number, want string)\noutputs: {\n"; !res.IsError || !strings.HasPrefix(text(res), want) || res.StructuredContent != nil {
			t.Errorf("isError %v %q, want %q...", res.IsError, text(res), want)
		}
		if api.items.Load() != 3 {
			t.Errorf("%d requests, want 3", api.items.Load())
		}
	})
}

// Arguments the inputs schema rejects are a tool error with run's message,
// and nothing is sent.
func TestCallInvalidArguments(t *testing.T) {
	each(t, nil, func(t *testing.T, api *shopAPI, cs *mcp.ClientSession) {
		for _, c := range []struct {
			args any
			want string
		}{
			{map[string]any{"apiKey": apiKey}, "invalid inputs: input id is required (integer: the item to fetch)"},
			{map[string]any{"id": "three", "apiKey": apiKey}, "invalid inputs: input id: got string, want integer"},
			{map[string]any{"id": 1.5, "apiKey": apiKey}, "invalid inputs: input id: got number, want integer"},
		} {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "shop_fetch", Arguments: c.args})
			if err != nil {
				t.Fatalf("a protocol error for bad arguments: %v", err)
			}
			if !res.IsError || text(res) != c.want {
				t.Errorf("%v: isError %v, %q, want %q", c.args, res.IsError, text(res), c.want)
			}
			noSecret(t, "the result", res)
		}
		if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "nosuch"}); err == nil {
			t.Error("an unknown tool is a protocol error")
		}
		if n := api.items.Load(); n != 0 {
			t.Errorf("%d requests sent for invalid arguments", n)
		}
	})
}

// A failing workflow is a tool error saying which step failed and why, as
// `arazzo run` says it.
func TestCallFailingWorkflow(t *testing.T) {
	each(t, nil, func(t *testing.T, api *shopAPI, cs *mcp.ClientSession) {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "missing"})
		if err != nil {
			t.Fatal(err)
		}
		want := `workflow missing, step get (attempt 1), status 404: item 404 does not exist; success criterion not met: $statusCode == 200: {"message":"item 404 does not exist"}`
		if !res.IsError || text(res) != want {
			t.Errorf("isError %v, %q, want %q", res.IsError, text(res), want)
		}
		// A wrong key: the API echoes it in its error, which stays masked.
		res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "other_fetch", Arguments: map[string]any{"apiKey": "CANARY-WRONG-KEY-77"}})
		if err != nil {
			t.Fatal(err)
		}
		if !res.IsError || !strings.Contains(text(res), "status 401") || strings.Contains(text(res), "CANARY-WRONG-KEY-77") {
			t.Errorf("isError %v, %q", res.IsError, text(res))
		}
	})
}

// A long poll reports progress per step execution and wait, and a client's
// cancellation stops it: no request is sent after.
func TestProgressAndCancellation(t *testing.T) {
	progress := make(chan *mcp.ProgressNotificationParams, 100)
	opts := &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
		select {
		case progress <- r.Params:
		default:
		}
	}}
	each(t, opts, func(t *testing.T, api *shopAPI, cs *mcp.ClientSession) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			p := &mcp.CallToolParams{Name: "poll"}
			p.SetProgressToken("tok-1")
			_, err := cs.CallTool(ctx, p)
			done <- err
		}()
		var msgs []string
		last := 0.0
		for len(msgs) < 6 {
			select {
			case p := <-progress:
				if p.ProgressToken != "tok-1" || p.Progress <= last {
					t.Fatalf("progress %+v after %v", p, last)
				}
				last = p.Progress
				msgs = append(msgs, p.Message)
			case <-time.After(10 * time.Second):
				t.Fatalf("no progress; got %q", msgs)
			}
		}
		want := []string{"step check", "waiting 5ms before step check: poll", "step check (visit 2)", "waiting 5ms before step check: poll", "step check (visit 3)"}
		if !slices.Equal(msgs[:5], want) {
			t.Errorf("progress %q, want %q", msgs, want)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("the call ends with %v", err)
		}
		// The run stops: the status server's count settles.
		var n int64
		for i := 0; ; i++ {
			n = api.status.Load()
			time.Sleep(100 * time.Millisecond)
			if api.status.Load() == n {
				break
			}
			if i == 20 {
				t.Fatalf("the run goes on after cancellation: %d requests and counting", n)
			}
		}
		for len(progress) > 0 {
			<-progress
		}
	})
}

// The options' timeout stops a run, as a tool error naming the step and
// the flag that raises it (the CLI adds the flag; here the engine's text).
func TestTimeout(t *testing.T) {
	api := newShopAPI(t)
	o := shopOptions(api)
	o.Timeout = 150 * time.Millisecond
	s, err := New(testConfig(load(t, o, "shop.arazzo.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	cs := transports["memory"](t, s, mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil))
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "poll"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(text(res), "timed out in step check") {
		t.Errorf("isError %v, %q", res.IsError, text(res))
	}
}

// Two calls at once run at once: the API answers each only when both
// requests are in.
func TestConcurrentCalls(t *testing.T) {
	each(t, nil, func(t *testing.T, api *shopAPI, cs *mcp.ClientSession) {
		var wg sync.WaitGroup
		results := make([]*mcp.CallToolResult, 2)
		errs := make([]error, 2)
		for i, id := range []int{7, 8} {
			wg.Go(func() {
				results[i], errs[i] = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "shop_fetch", Arguments: map[string]any{"id": id, "apiKey": apiKey}})
			})
		}
		wg.Wait()
		for i, id := range []int{7, 8} {
			if errs[i] != nil || results[i].IsError {
				t.Fatalf("call %d: %v %s", id, errs[i], text(results[i]))
			}
			if got := results[i].StructuredContent.(map[string]any)["name"]; got != fmt.Sprintf("item-%d", id) {
				t.Errorf("call %d got %v", id, got)
			}
		}
	})
}

func TestResources(t *testing.T) {
	each(t, nil, func(t *testing.T, _ *shopAPI, cs *mcp.ClientSession) {
		res, err := cs.ListResources(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var uris []string
		for _, r := range res.Resources {
			uris = append(uris, r.URI)
		}
		for _, want := range []string{"arazzo://shop/document", "arazzo://other/document", "arazzo://shop/workflows/fetch/describe",
			"arazzo://shop/workflows/poll/graph", "arazzo://other/workflows/fetch/graph"} {
			if !slices.Contains(uris, want) {
				t.Errorf("no resource %s in %v", want, uris)
			}
		}
		for uri, want := range map[string]string{
			"arazzo://shop/document":                  "workflowId: fetch",
			"arazzo://shop/workflows/nested/describe": "describe nested",
			"arazzo://other/workflows/fetch/graph":    "flowchart TD\n  %% fetch",
		} {
			r, err := cs.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: uri})
			if err != nil {
				t.Fatalf("%s: %v", uri, err)
			}
			if len(r.Contents) != 1 || !strings.Contains(r.Contents[0].Text, want) {
				t.Errorf("%s: %+v", uri, r.Contents)
			}
		}
		if _, err := cs.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: "arazzo://shop/nothing"}); err == nil {
			t.Error("an unknown resource is an error")
		}
	})
}

// Documents with the same base name are told apart; workflow ids that
// collide even then are refused when the server is built.
func TestNames(t *testing.T) {
	docs := load(t, nil, "shop.arazzo.yaml", "other.arazzo.yaml", "shop.arazzo.yaml")
	if got := docNames(docs); !slices.Equal(got, []string{"shop", "other", "shop-2"}) {
		t.Errorf("names %v", got)
	}
	if _, err := New(Config{Documents: docs}); err != nil {
		t.Errorf("same-named documents: %v", err)
	}
	docs[1].File = "testdata/shop_fetch.yaml" // its fetch would be shop_fetch_fetch; fine
	if _, err := New(Config{Documents: docs[:2]}); err != nil {
		t.Errorf("%v", err)
	}
}

func TestToolNameCollision(t *testing.T) {
	wf := func(ids ...string) *engine.Plan {
		p := &engine.Plan{}
		for _, id := range ids {
			p.Workflows = append(p.Workflows, &engine.Workflow{ID: id})
		}
		return p
	}
	docs := []Document{{File: "a/shop.yaml", Plan: wf("fetch")}, {File: "b/other.yaml", Plan: wf("fetch", "shop_fetch")}}
	_, err := toolNames(docs, docNames(docs))
	if err == nil || err.Error() != `b/other.yaml: workflow "shop_fetch" would be a second tool named "shop_fetch" (first from a/shop.yaml); rename one` {
		t.Errorf("got %v", err)
	}
	docs = []Document{{File: "x.arazzo.json", Plan: wf("get user", "a.b")}}
	names, err := toolNames(docs, docNames(docs))
	if err != nil || names[docs[0].Plan.Workflows[0]] != "get_user" || names[docs[0].Plan.Workflows[1]] != "a.b" {
		t.Errorf("%v %v", names, err)
	}
}

// A recursive input type is inlined down to where it recurs, and $ref's
// sibling keywords are kept.
func TestInlineRecursiveRef(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal([]byte(`{"components":{"inputs":{"node":{"type":"object","properties":{
		"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/components/inputs/node"}}}}}}}`), &root); err != nil {
		t.Fatal(err)
	}
	got := inline(root, map[string]any{"$ref": "#/components/inputs/node", "description": "a tree"}, nil)
	checkJSON(t, "inlined", got, `{"description":"a tree","properties":{"children":{"items":{"description":"recursive: the schema at #/components/inputs/node"},"type":"array"},"name":{"type":"string"}},"type":"object"}`)
}

// BenchmarkCall is one tool call over the in-memory transport, a workflow
// of one request to a loopback API; BenchmarkRun is the same run without
// MCP, so the difference is what the protocol costs.
func BenchmarkCall(b *testing.B) {
	api := newShopAPI(b)
	s, err := New(testConfig(load(b, shopOptions(api), "shop.arazzo.yaml")))
	if err != nil {
		b.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(b.Context(), st, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(b.Context(), ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	p := &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": 3, "apiKey": apiKey}}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := cs.CallTool(b.Context(), p); err != nil || res.IsError {
			b.Fatal(err, text(res))
		}
	}
}

func BenchmarkRun(b *testing.B) {
	api := newShopAPI(b)
	doc := load(b, shopOptions(api), "shop.arazzo.yaml")[0]
	in := map[string]any{"id": json.Number("3"), "apiKey": apiKey}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := doc.Plan.Run(b.Context(), "fetch", in, doc.Options); err != nil {
			b.Fatal(err)
		}
	}
}
