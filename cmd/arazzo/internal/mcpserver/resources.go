package mcpserver

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/arazzo-go/arazzo/engine"
)

// Resource URIs:
//
//	arazzo://DOCUMENT/document                  the document as written
//	arazzo://DOCUMENT/workflows/ID/describe     its inputs, steps, outputs (text)
//	arazzo://DOCUMENT/workflows/ID/graph        its control flow (Mermaid)
//
// DOCUMENT is the document's name as in tool names. They are fixed when the
// server starts, so they are listed resources rather than a template.

func documentURI(doc string) string { return "arazzo://" + doc + "/document" }

func workflowURI(doc string, w *engine.Workflow, what string) string {
	return "arazzo://" + doc + "/workflows/" + url.PathEscape(w.ID) + "/" + what
}

func addDocumentResource(s *mcp.Server, name string, d Document) {
	mime := "application/yaml"
	if strings.HasSuffix(strings.ToLower(d.File), ".json") {
		mime = "application/json"
	}
	title := name
	if d.Plan.Doc != nil && d.Plan.Doc.Info.Title != "" {
		title = d.Plan.Doc.Info.Title
	}
	text := string(d.Text)
	s.AddResource(&mcp.Resource{
		URI: documentURI(name), Name: name, Title: title, MIMEType: mime, Size: int64(len(text)),
		Description: fmt.Sprintf("The Arazzo document %s, as written.", d.File),
	}, textResource(mime, text))
}

func addWorkflowResources(s *mcp.Server, doc string, w *engine.Workflow, cfg Config) {
	for _, r := range []struct {
		what, mime, desc string
		render           func(*engine.Workflow) string
	}{
		{"describe", "text/plain", "What workflow %s takes, does and returns: inputs, steps, outputs.", cfg.Describe},
		{"graph", "text/vnd.mermaid", "The control flow of workflow %s as a Mermaid flowchart: steps, gotos, retries, ends.", cfg.Graph},
	} {
		if r.render == nil {
			continue
		}
		text := r.render(w)
		s.AddResource(&mcp.Resource{
			URI: workflowURI(doc, w, r.what), Name: w.ID + " " + r.what, MIMEType: r.mime, Size: int64(len(text)),
			Description: fmt.Sprintf(r.desc, w.ID),
		}, textResource(r.mime, text))
	}
}

// textResource serves a text fixed when the server starts: a Plan does not
// change, so neither does what is rendered from it.
func textResource(mime, text string) mcp.ResourceHandler {
	return func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: mime, Text: text}}}, nil
	}
}
