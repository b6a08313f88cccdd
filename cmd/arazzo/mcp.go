package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/arazzo-go/arazzo/cmd/arazzo/internal/mcpserver"
	"github.com/arazzo-go/arazzo/engine"
)

// runOnly are the flags of `run` that pick what to run and how to report
// it; `mcp` takes every other flag of `run` (those that configure
// execution: servers, credentials, limits), so a configuration tried with
// `run` is served unchanged, and a flag added to `run` later is served too.
var runOnly = map[string]bool{
	"workflow": true, "all": true, "input": true, "inputs": true, "output": true, "quiet": true,
	"verbose": true, "trace": true, "events": true, "junit": true, "sarif": true, "dry-run": true, "state": true,
}

func newMCPCmd(h host) *cobra.Command {
	fl := &runFlags{}
	var addr string
	cmd := &cobra.Command{
		Use:   "mcp FILE...",
		Short: "Serve every workflow of the documents as a tool for AI agents (Model Context Protocol)",
		Long: `mcp serves the workflows of Arazzo documents to AI agents over the Model Context
Protocol: each workflow is a tool (named by its workflowId; by DOCUMENT_ID when
several documents define the id) whose arguments are the workflow's inputs and
whose result is its outputs. Each document, and each workflow's description
and Mermaid graph, is a resource.

It speaks MCP on stdin and stdout (what desktop agent hosts launch), or with
--http on the streamable HTTP transport at http://ADDR/mcp. It takes the flags
of run that configure execution, so a configuration tried with run is served
unchanged; each call validates its arguments and runs as run would. Secrets
are masked in every result, error and progress notification.

Exit status: 0 when the client disconnects or on interrupt; 2 when the
documents or the command line are invalid.`,
		Example: `  arazzo mcp workflows/amazon-healthlake-export.arazzo.yaml --emulate healthlake
  arazzo mcp flows/*.arazzo.yaml --server petstore=http://localhost:8080 --timeout 10m
  arazzo mcp flow.yaml --http 127.0.0.1:8808`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return serveMCP(cmd, h, args, fl, addr)
		},
	}
	shareRunFlags(h, fl, cmd.Flags(), func(name string) bool { return !runOnly[name] })
	cmd.Flags().StringVar(&addr, "http", "", "serve the streamable HTTP transport at http://ADDR/mcp instead of stdio (ADDR as host:port)")
	return cmd
}

// shareRunFlags binds to fl, and adds to fs, the flags of run that take
// says: commands that configure execution as run does accept them as run
// does.
func shareRunFlags(h host, fl *runFlags, fs *pflag.FlagSet, take func(name string) bool) {
	runCmdWith(h, fl).Flags().VisitAll(func(f *pflag.Flag) {
		if take(f.Name) {
			fs.AddFlag(f)
		}
	})
}

// serveMCP loads the documents and sets up their options as `run --all`
// does, then serves until the client goes away or the command is
// interrupted.
func serveMCP(cmd *cobra.Command, h host, files []string, fl *runFlags, addr string) error {
	fl.all = true // every workflow of every file, as tools
	jobs, optsFor, stop, err := prepareJobs(cmd, h, files, fl)
	defer stop()
	if err != nil {
		return err
	}
	var docs []mcpserver.Document
	for _, j := range jobs {
		if len(docs) > 0 && docs[len(docs)-1].Plan == j.plan {
			continue
		}
		text, err := os.ReadFile(h.path(j.file))
		if err != nil {
			return withCode(exitUsage, err)
		}
		docs = append(docs, mcpserver.Document{File: j.file, Text: text, Plan: j.plan, Options: optsFor[j.plan]})
	}
	// run --all lets --server name a source of any one document; it must
	// name one of some document. (Every document's options start from the
	// same --server list.)
	for name := range optsFor[jobs[0].plan].Servers {
		if !declared(docs, name) {
			return withCode(exitUsage, fmt.Errorf("--server names source %q, which no document declares", name))
		}
	}
	srv, err := mcpserver.New(mcpserver.Config{
		Documents: docs,
		Version:   versionString(),
		Describe:  describeText,
		Graph:     mermaidGraph,
		ErrorText: func(err error) string {
			if h := hint(err); h != "" {
				return err.Error() + " (" + h + ")"
			}
			return err.Error()
		},
		Log: func(line string) {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintln(cmd.ErrOrStderr(), "arazzo mcp:", line)
		},
	})
	if err != nil {
		return withCode(exitUsage, err)
	}
	tools := fmt.Sprintf("%d tools", len(jobs))
	if len(jobs) == 1 {
		tools = "1 tool"
	}
	if addr == "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "arazzo mcp: serving %s on stdio\n", tools)
		err := srv.Run(cmd.Context(), &mcp.IOTransport{Reader: readCloser(cmd.InOrStdin()), Writer: writeCloser(cmd.OutOrStdout())})
		if err != nil && cmd.Context().Err() == nil && !errors.Is(err, mcp.ErrConnectionClosed) && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	return serveMCPHTTP(cmd.Context(), srv, addr, tools, cmd.ErrOrStderr())
}

// logMu keeps the lines of concurrent calls whole on stderr.
var logMu sync.Mutex

func declared(docs []mcpserver.Document, source string) bool {
	for _, d := range docs {
		if d.Plan.Source(source) != nil {
			return true
		}
	}
	return false
}

// serveMCPHTTP serves the streamable HTTP transport at /mcp until ctx ends.
func serveMCPHTTP(ctx context.Context, srv *mcp.Server, addr, tools string, stderr io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--http: %v", err))
	}
	if !loopback(ln.Addr()) {
		fmt.Fprintf(stderr, "arazzo mcp: warning: %s is reachable from other machines, and the endpoint has no authentication: whoever reaches it runs workflows with this server's credentials\n", ln.Addr())
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "arazzo mcp: serving %s at http://%s/mcp\n", tools, ln.Addr())
	go func() {
		<-ctx.Done()
		// Event streams stay open while a client is connected: give
		// requests a moment to finish, then close.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if hs.Shutdown(sctx) != nil {
			hs.Close()
		}
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func loopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

// describeText is `arazzo describe --workflow ID` for a resource.
func describeText(w *engine.Workflow) string {
	var b strings.Builder
	printWorkflowInfo(&b, describeWorkflow(w))
	return b.String()
}

// mermaidGraph is `arazzo graph --workflow ID` for a resource.
func mermaidGraph(w *engine.Workflow) string {
	var b strings.Builder
	buildGraph(w).mermaid(&b)
	return b.String()
}

// The stdio transport closes its streams when the session ends; the
// command's streams belong to its caller (main's are the process's own).
type nopReadCloser struct{ io.Reader }

func (nopReadCloser) Close() error { return nil }

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func readCloser(r io.Reader) io.ReadCloser   { return nopReadCloser{r} }
func writeCloser(w io.Writer) io.WriteCloser { return nopWriteCloser{w} }
