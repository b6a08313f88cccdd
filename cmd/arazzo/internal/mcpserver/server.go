// Package mcpserver serves the workflows of Arazzo documents as Model
// Context Protocol tools, so an AI agent calls a described workflow as one
// tool instead of improvising a sequence of API calls.
//
// New builds an *mcp.Server (github.com/modelcontextprotocol/go-sdk) from
// compiled plans and the engine.Options each document's runs start from;
// the caller connects it to a transport (stdio, streamable HTTP, or an
// in-memory pair in tests). What the server offers:
//
//   - one tool per workflow, named by its workflowId (prefixed by the
//     document's name where several documents define the same id), whose
//     input schema is the workflow's inputs schema with references inlined
//     and secret inputs marked writeOnly, and whose output schema types the
//     outputs where the document says their types;
//   - tools/call runs the workflow: outputs as structured content and a
//     short text; a workflow that fails, or arguments the inputs schema
//     rejects, is a tool error (isError) with the message `arazzo run`
//     prints, never a protocol error; progress notifications per step and
//     poll when the client asks for them; the client's cancellation and the
//     run's timeout stop the run;
//   - resources: each document's text, and each workflow's description and
//     Mermaid graph, so an agent can read what a tool does before calling it.
//
// Secrets stay out of every result, error and notification: the engine masks
// secret inputs (and Options.Secrets) where events, errors and outputs leave
// a run, and this package builds its texts only from those.
//
// A Plan is immutable, so concurrent calls (from one session or many) run
// concurrently on the same plans; each gets its own copy of the options.
//
// The package is internal to the CLI, which supplies the options (from the
// same flags as `arazzo run`) and the describe and graph renderings.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/arazzo-go/arazzo/engine"
)

// Document is one Arazzo document whose workflows become tools.
type Document struct {
	// File names the document as the user gave it; its base name (without
	// .arazzo.yaml, .yaml, .json) names the document in tool names and
	// resource URIs.
	File string
	// Text is the document as written, served as a resource.
	Text []byte
	Plan *engine.Plan
	// Options are what every run of this document starts from (servers,
	// signing middleware, limits); each call gets a copy. Nil means the
	// engine's defaults.
	Options *engine.Options
}

// Config configures a server.
type Config struct {
	Documents []Document
	// Version is the server's version in the MCP handshake.
	Version string
	// Describe and Graph render a workflow as `arazzo describe` and `arazzo
	// graph` do; each that is nil leaves its resources out.
	Describe, Graph func(*engine.Workflow) string
	// ErrorText is the text of a failed call's error; default err.Error().
	// The CLI adds the hints `arazzo run` adds (which flag raises a limit).
	ErrorText func(error) string
	// Log, if set, gets a line per finished call (the tool, how it ended,
	// how long it took) for the operator: stdout is the protocol's.
	Log func(string)
}

// New returns a server offering the documents' workflows as tools and the
// documents and workflows as resources. It fails when two tools would have
// the same name, or a workflow's inputs cannot be a tool's arguments.
func New(cfg Config) (*mcp.Server, error) {
	if cfg.ErrorText == nil {
		cfg.ErrorText = func(err error) string { return err.Error() }
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "arazzo", Title: "Arazzo workflows", Version: cfg.Version},
		&mcp.ServerOptions{
			Instructions: "Each tool runs one Arazzo workflow: a fixed, described sequence of API calls. " +
				"Read a tool's resources (arazzo://DOCUMENT/workflows/ID/describe and /graph) to see its steps before calling it.",
			// No logging capability: the server logs nothing to the client.
			Capabilities: &mcp.ServerCapabilities{},
		})
	names := docNames(cfg.Documents)
	tools, err := toolNames(cfg.Documents, names)
	if err != nil {
		return nil, err
	}
	for i, d := range cfg.Documents {
		addDocumentResource(s, names[i], d)
		for _, w := range d.Plan.Workflows {
			in, err := inputSchema(w)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", d.File, err)
			}
			out := outputSchema(w)
			check, err := outputCheck(out)
			if err != nil {
				return nil, fmt.Errorf("%s: workflow %s: its output schema: %v", d.File, w.ID, err)
			}
			t := &tool{name: tools[w], cfg: &cfg, doc: d, wf: w, check: check}
			s.AddTool(&mcp.Tool{
				Name:         tools[w],
				Title:        w.Doc.Summary,
				Description:  description(w, names[i], cfg),
				InputSchema:  in,
				OutputSchema: out,
				Annotations:  &mcp.ToolAnnotations{Title: w.Doc.Summary, OpenWorldHint: ptr(true)},
			}, t.call)
			addWorkflowResources(s, names[i], w, cfg)
		}
	}
	return s, nil
}

func ptr[T any](v T) *T { return &v }

var (
	docExt   = regexp.MustCompile(`(?i)(\.arazzo)?\.(ya?ml|json)$`)
	nameChar = regexp.MustCompile(`[^A-Za-z0-9_.-]`)
)

// docNames names each document by its file's base name, made unique (a
// suffix -2, -3 for documents of the same name in other folders).
func docNames(docs []Document) []string {
	names := make([]string, len(docs))
	seen := map[string]int{}
	for i, d := range docs {
		n := safeName(docExt.ReplaceAllString(filepath.Base(d.File), ""))
		if n == "" {
			n = "document"
		}
		seen[n]++
		if seen[n] > 1 {
			n = fmt.Sprintf("%s-%d", n, seen[n])
		}
		names[i] = n
	}
	return names
}

// safeName keeps the characters MCP allows in a tool name.
func safeName(s string) string { return nameChar.ReplaceAllString(s, "_") }

// toolNames names each workflow's tool by its workflowId, prefixed by its
// document's name (DOC_ID) when several documents define that id, so a
// document's tools keep their names whatever else is served beside it
// unless they collide.
func toolNames(docs []Document, names []string) (map[*engine.Workflow]string, error) {
	count := map[string]int{}
	for _, d := range docs {
		for _, w := range d.Plan.Workflows {
			count[safeName(w.ID)]++
		}
	}
	out := map[*engine.Workflow]string{}
	owner := map[string]string{}
	for i, d := range docs {
		for _, w := range d.Plan.Workflows {
			n := safeName(w.ID)
			if count[n] > 1 {
				n = names[i] + "_" + n
			}
			if prev, dup := owner[n]; dup {
				return nil, fmt.Errorf("%s: workflow %q would be a second tool named %q (first from %s); rename one", d.File, w.ID, n, prev)
			}
			if len(n) > 128 {
				return nil, fmt.Errorf("%s: workflow %q: the tool name %q is longer than the 128 characters MCP allows", d.File, w.ID, n)
			}
			owner[n], out[w] = d.File, n
		}
	}
	return out, nil
}

// description is what an agent reads to choose the tool: the workflow's
// summary and description, else its steps, and where to read more.
func description(w *engine.Workflow, doc string, cfg Config) string {
	var parts []string
	for _, p := range []string{w.Doc.Summary, w.Doc.Description} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		ids := make([]string, len(w.Steps))
		for i, s := range w.Steps {
			ids[i] = s.ID
		}
		parts = append(parts, fmt.Sprintf("Runs Arazzo workflow %s: steps %s.", w.ID, strings.Join(ids, ", ")))
	}
	if cfg.Describe != nil {
		parts = append(parts, fmt.Sprintf("Steps, inputs and outputs: resource %s.", workflowURI(doc, w, "describe")))
	}
	return strings.Join(parts, "\n\n")
}

// tool is one workflow served as a tool.
type tool struct {
	name  string
	cfg   *Config
	doc   Document
	wf    *engine.Workflow
	check *jsonschema.Schema // the output schema
}

// call runs the workflow. Whatever goes wrong with the arguments or the run
// is a tool error the agent can read and act on; only a protocol failure
// would be an error.
func (t *tool) call(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	start := time.Now()
	res := t.run(ctx, req)
	if t.cfg.Log != nil {
		how := "succeeded"
		switch {
		case ctx.Err() != nil:
			how = "cancelled by the client"
		case res.IsError:
			how = "failed: " + strings.SplitN(res.Content[0].(*mcp.TextContent).Text, "\n", 2)[0]
		}
		t.cfg.Log(fmt.Sprintf("%s %s in %s", t.name, how, time.Since(start).Round(time.Millisecond)))
	}
	return res, nil
}

func (t *tool) run(ctx context.Context, req *mcp.CallToolRequest) *mcp.CallToolResult {
	inputs, err := arguments(req.Params.Arguments)
	if err != nil {
		return toolError(err.Error())
	}
	var opts engine.Options
	if t.doc.Options != nil {
		opts = *t.doc.Options
	}
	opts.Observers = append([]engine.Observer(nil), opts.Observers...)
	if token := req.Params.GetProgressToken(); token != nil {
		opts.Observers = append(opts.Observers, &progress{ctx: ctx, session: req.Session, token: token, root: t.wf.ID})
	}
	start := time.Now()
	res, err := t.doc.Plan.Run(ctx, t.wf.ID, inputs, &opts)
	switch {
	case res == nil: // the arguments broke the inputs schema: nothing was sent
		return toolError(t.cfg.ErrorText(err))
	case res.Status != engine.Succeeded:
		if res.Error != nil {
			err = res.Error
		}
		return toolError(t.cfg.ErrorText(err))
	}
	out, err := json.MarshalIndent(res.Outputs, "", "  ")
	if err != nil {
		return toolError(fmt.Sprintf("workflow %s succeeded, but its outputs are not JSON: %v", t.wf.ID, err))
	}
	if err := t.check.Validate(any(res.Outputs)); err != nil {
		// The API answered otherwise than its description says: the agent
		// gets the outputs as text, and why they are not a result.
		return toolError(fmt.Sprintf("workflow %s succeeded, but its outputs do not have the types the description declares (%s)\noutputs: %s", t.wf.ID, mismatch(err), out))
	}
	runs := 0
	for _, s := range res.Steps {
		runs += s.Runs
	}
	summary := fmt.Sprintf("workflow %s succeeded: %s, %s, %s", t.wf.ID, count(len(res.Steps), "step"), count(runs, "step execution"), time.Since(start).Round(time.Millisecond))
	// The outputs also go as text for clients that do not read structured
	// content, as the specification recommends.
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: summary + "\noutputs: " + string(out)}},
		StructuredContent: res.Outputs,
	}
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// arguments decodes a call's arguments as `run` reads --inputs: a JSON
// object, numbers kept exact.
func arguments(raw json.RawMessage) (map[string]any, error) {
	inputs := map[string]any{}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return inputs, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&inputs); err != nil {
		return nil, fmt.Errorf("the arguments are not a JSON object of inputs: %v", err)
	}
	return inputs, nil
}

func toolError(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// progress turns a run's step and wait events into progress notifications:
// one per step execution (each poll of a loop included) and per wait. The
// engine has masked the events already; the messages hold ids and times.
type progress struct {
	ctx     context.Context
	session *mcp.ServerSession
	token   any
	root    string // the tool's workflow: steps of others are qualified
	n       int
}

func (p *progress) OnEvent(e engine.Event) {
	var msg string
	step := e.StepID
	if e.WorkflowID != p.root {
		step = e.WorkflowID + "." + e.StepID
	}
	switch e.Kind {
	case engine.StepStarted:
		msg = "step " + step
		if e.Visit > 1 {
			msg += fmt.Sprintf(" (visit %d)", e.Visit)
		}
		if e.Attempt > 1 {
			msg += fmt.Sprintf(" (attempt %d)", e.Attempt)
		}
	case engine.Waiting:
		msg = fmt.Sprintf("waiting %s before step %s", e.Wait, step)
		if e.Message != "" {
			msg += ": " + e.Message
		}
	default:
		return
	}
	p.n++
	// A client that went away is not the run's concern: the run stops on
	// cancellation, not on a lost notification.
	_ = p.session.NotifyProgress(p.ctx, &mcp.ProgressNotificationParams{ProgressToken: p.token, Progress: float64(p.n), Message: msg})
}
