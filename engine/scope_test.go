package engine

import (
	"context"
	"net/http"
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
