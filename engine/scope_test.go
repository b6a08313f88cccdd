package engine

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/source"
)

const scopeDoc = `arazzo: 1.0.1
info: {title: scope, version: "1"}
sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml}
workflows:
  - workflowId: good
    steps:
      - {stepId: s, operationId: getStatus}
  - workflowId: bad
    steps:
      - {stepId: s, operationId: noSuchOperation}
  - workflowId: caller
    steps:
      - {stepId: c, workflowId: bad}
`

type refuseCaller struct{ t *testing.T }

func (c refuseCaller) Do(r *http.Request) (*http.Response, error) {
	c.t.Errorf("a refused workflow sent %s %s", r.Method, r.URL)
	return nil, context.Canceled
}

func TestPartialPlanRefusesOnlyWhatReachesAnError(t *testing.T) {
	path := filepath.Join("testdata", "scope.arazzo.yaml")
	plan, diags := LoadBytes(context.Background(), path, []byte(scopeDoc), &source.Loader{})
	if plan != nil || !diags.HasErrors() {
		t.Fatal("without PartialPlans a document with errors gives no plan")
	}
	plan, diags = LoadBytes(context.Background(), path, []byte(scopeDoc), &source.Loader{}, PartialPlans())
	if plan == nil {
		t.Fatalf("no partial plan: %v", diags)
	}
	if got := len(diags.Within(func(id string) bool { return id == "good" }).Errors()); got != 0 {
		t.Errorf("errors within good's reach: %d", got)
	}
	if got := plan.Reach("caller"); !got["bad"] || !got["caller"] || got["good"] {
		t.Errorf("reach of caller: %v", got)
	}
	for _, id := range []string{"bad", "caller"} {
		_, err := plan.Run(context.Background(), id, nil, &Options{Caller: refuseCaller{t}})
		if err == nil || !strings.Contains(err.Error(), "noSuchOperation") {
			t.Errorf("run %s: %v, want the unresolved operation", id, err)
		}
	}
}

func TestMalformedOperationBlocksOnlyItsUsers(t *testing.T) {
	dir := t.TempDir()
	spec := `openapi: 3.0.3
info: {title: music, version: "1"}
paths:
  /tracks/{id}:
    get:
      operationId: getTrack
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /covers:
    put:
      operationId: uploadCover
      requestBody: {content: {image/jpeg: {schema: {type: string, required: true}}}}
      responses: {'202': {description: ok}}
`
	doc := `arazzo: 1.0.1
info: {title: music, version: "1"}
sourceDescriptions: [{name: music, url: ./music.yaml}]
workflows:
  - workflowId: track
    steps: [{stepId: s, operationId: getTrack, parameters: [{name: id, in: path, value: "7"}]}]
  - workflowId: cover
    steps: [{stepId: s, operationPath: '{$sourceDescriptions.music.url}#/paths/~1covers/put'}]
`
	if err := os.WriteFile(filepath.Join(dir, "music.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, diags := LoadBytes(context.Background(), filepath.Join(dir, "flow.yaml"), []byte(doc), &source.Loader{}, PartialPlans())
	if plan == nil {
		t.Fatalf("no plan: %v", diags)
	}
	var rules []string
	for _, d := range diags {
		rules = append(rules, d.Severity.String()+" "+d.Rule)
	}
	got := strings.Join(rules, ", ")
	if !strings.Contains(got, "warning source-operation-unusable") || !strings.Contains(got, "error operation-unusable") {
		t.Errorf("diagnostics: %s", got)
	}
	if errs := diags.Within(func(id string) bool { return id == "track" }).Errors(); len(errs) != 0 {
		t.Errorf("track is blocked: %v", errs)
	}
	if _, err := plan.Run(context.Background(), "cover", nil, &Options{Caller: refuseCaller{t}}); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("cover ran or gave another reason: %v", err)
	}
}
