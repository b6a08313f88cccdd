package dialect

import (
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/document"
)

// A document in the style generated catalogues and hand-written suites use:
// comments, odd quoting and key order must survive the rewrite.
const yamlDoc = `arazzo: 1.0.1
info: {title: orders, version: "1"}
sourceDescriptions:
  - name: shop   # the shop API
    url: ./shop.yaml
    type: openapi
workflows:
  - workflowId: order
    steps:
      - stepId: create
        operationPath: shop#/paths/~1orders/post   # bare source name
        requestBody:
          payload:
            outputs: not-an-output     # a payload member, not outputs
            etag: "$response.headers.ETag"
        outputs:
          id: $response.body#/id
          tag: $response.headers.ETag
      - stepId: read
        operationPath: "shop#/paths/~1orders~1{id}/get"
        parameters:
          - {name: id, in: path, value: $steps.create.id}
          - {name: x, in: query, value: $steps.create.missing}
        successCriteria:
          - condition: $response.headers.X-A == "1" && $response.headers.X-B == "2"
    outputs:
      id: $steps.create.id
      kind: order
      count: 3
`

func TestFindAndApply(t *testing.T) {
	found := Find([]byte(yamlDoc))
	var rules []string
	for _, f := range found {
		rules = append(rules, f.Rule)
	}
	want := []string{RuleOperationPath, RuleHeaders, RuleHeaders, RuleOperationPath, RuleStepOutput,
		RuleHeaders, RuleHeaders, RuleStepOutput, RuleLiteralOutput, RuleLiteralOutput}
	if strings.Join(rules, " ") != strings.Join(want, " ") {
		t.Fatalf("rules:\n got %v\nwant %v", rules, want)
	}
	fixed := string(Apply([]byte(yamlDoc), found))
	for _, s := range []string{
		`operationPath: '{$sourceDescriptions.shop.url}#/paths/~1orders/post'   # bare source name`,
		`operationPath: "{$sourceDescriptions.shop.url}#/paths/~1orders~1{id}/get"`,
		`etag: "$response.header.ETag"`,
		`tag: $response.header.ETag`,
		`value: $steps.create.outputs.id}`,
		`value: $steps.create.missing}`, // not declared: ambiguous, left for the compiler
		`$response.header.X-A == "1" && $response.header.X-B == "2"`,
		`outputs: not-an-output     # a payload member, not outputs`,
		`id: $steps.create.outputs.id`,
		`kind: order`,
	} {
		if !strings.Contains(fixed, s) {
			t.Errorf("fixed document lacks %q:\n%s", s, fixed)
		}
	}
	if strings.Count(fixed, "\n") != strings.Count(yamlDoc, "\n") {
		t.Error("a rewrite changed the number of lines")
	}
	// The canonical form parses and has nothing left to rewrite.
	if doc, diags := document.Parse("x.yaml", []byte(fixed)); doc == nil || diags.HasErrors() {
		t.Fatalf("fixed document does not parse: %v", diags)
	}
	for _, f := range Find([]byte(fixed)) {
		if f.Rewrites() {
			t.Errorf("still to rewrite after Apply: %+v", f)
		}
	}
	// Positions point at the text replaced, in runes.
	if f := found[0]; f.Line != 11 || f.Col != 24 || f.Workflow != "order" {
		t.Errorf("first finding at %d:%d in %q, want 11:24 in order", f.Line, f.Col, f.Workflow)
	}
}

func TestJSONDocument(t *testing.T) {
	doc := `{"arazzo": "1.0.1", "info": {"title": "t", "version": "1"},
 "sourceDescriptions": [{"name": "openapi_source", "url": "./a.json", "type": "openapi"}],
 "workflows": [{"workflowId": "w", "steps": [
   {"stepId": "s", "operationPath": "openapi_source#/paths/~1a/get",
    "outputs": {"loc": "$response.headers.Location"}}]}]}`
	fixed := string(Apply([]byte(doc), Find([]byte(doc))))
	for _, s := range []string{`"operationPath": "{$sourceDescriptions.openapi_source.url}#/paths/~1a/get"`, `"$response.header.Location"`} {
		if !strings.Contains(fixed, s) {
			t.Errorf("fixed JSON lacks %s:\n%s", s, fixed)
		}
	}
}

func TestUnknownSourceIsNotADialect(t *testing.T) {
	doc := strings.Replace(yamlDoc, "operationPath: shop#", "operationPath: elsewhere#", 1)
	for _, f := range Find([]byte(doc)) {
		if f.Rule == RuleOperationPath && f.Line == 11 {
			t.Errorf("a name that is no source was rewritten: %+v", f)
		}
	}
}

func TestNotYAML(t *testing.T) {
	if f := Find([]byte("{{{")); f != nil {
		t.Errorf("findings in a broken document: %v", f)
	}
}
