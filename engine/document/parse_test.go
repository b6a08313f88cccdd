package document

import (
	"encoding/json"
	"strings"
	"testing"
)

const sample = `arazzo: 1.0.1
info:
  title: t
  version: 2
  x-team: core
sourceDescriptions:
  - {name: api, url: ./api.yaml, type: openapi}
workflows:
  - workflowId: w
    inputs: {type: object}
    steps:
      - stepId: s
        operationId: op
        parameters:
          - {name: id, in: path, value: 9007199254740993}
          - reference: $components.parameters.page
            value: 2
        requestBody:
          payload: {a: [1, true, null, "x"]}
        successCriteria:
          - condition: "$statusCode == 200"
          - context: $response.body
            condition: $.a
            type: {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}
        onFailure:
          - {name: again, type: retry, retryAfter: 1.5, retryLimit: 2}
          - reference: $components.failureActions.giveUp
        outputs:
          id: $response.body#/id
          a.b: $response.body#/a
`

func TestParseModelAndPositions(t *testing.T) {
	doc, diags := Parse("f.yaml", []byte(sample))
	if doc == nil {
		t.Fatal(diags)
	}
	if len(diags) != 1 || diags[0].Rule != "info-version-number" || diags[0].Line != 4 {
		t.Fatalf("a numeric info.version is a warning at its line: %v", diags)
	}
	if doc.Info.Version != "2" || doc.Info.Extensions["x-team"] != "core" {
		t.Fatalf("info %+v", doc.Info)
	}
	s := doc.Workflows[0].Steps[0]
	if p := s.At("operationId"); p.Line != 13 || p.Col != 22 {
		t.Fatalf("operationId at %v", p)
	}
	if p := s.SuccessCriteria[0].At("condition"); p.Line != 21 || p.Col != 25 {
		t.Fatalf("a quoted value's position is its first character: %v", p)
	}
	if v := s.Parameters[0].Value; v != json.Number("9007199254740993") {
		t.Fatalf("numbers stay exact: %#v", v)
	}
	if r := s.Parameters[1].Reusable; r == nil || r.Reference != "$components.parameters.page" || !r.HasValue || r.Value != json.Number("2") {
		t.Fatalf("reusable parameter %+v", s.Parameters[1])
	}
	c := s.SuccessCriteria[1]
	if c.Type != "jsonpath" || c.Version != "draft-goessner-dispatch-jsonpath-00" || !c.TypeIsObject {
		t.Fatalf("criterion type object %+v", c)
	}
	a := s.OnFailure[0].Action
	if a.Type != "retry" || *a.RetryAfter != 1.5 || *a.RetryLimit != 2 || s.OnFailure[1].Reusable == nil {
		t.Fatalf("actions %+v", s.OnFailure)
	}
	if strings.Join(s.Outputs.Names, ",") != "id,a.b" {
		t.Fatalf("outputs keep their order: %v", s.Outputs.Names)
	}
	if p := doc.Index["/workflows/0/steps/0/stepId"]; p.Line != 12 {
		t.Fatalf("the pointer index: %v", p)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, rule, msg string }{
		{"arazzo: 1.0\n", "arazzo-version", "quote it"},
		{"arazzo: '1.2.0'\n", "arazzo-version", "not supported"},
		{"arazzo: 1.0.1\n$self: https://x/\n", "arazzo-1.1-feature", "arazzo upgrade"},
		{"- a\n", "structure", "must be an object"},
		{"a: [\n", "syntax", "did not find expected"},
		{"", "syntax", "empty"},
	}
	for _, tt := range tests {
		_, diags := Parse("f.yaml", []byte(tt.in))
		if len(diags) == 0 || diags[0].Rule != tt.rule || !strings.Contains(diags[0].Message, tt.msg) {
			t.Errorf("%q: %v", tt.in, diags)
		}
	}
}

func TestParseJSON(t *testing.T) {
	doc, diags := Parse("f.json", []byte(`{"arazzo": "1.0.0", "info": {"title": "t", "version": "1"}, "workflows": [{"workflowId": "w", "steps": []}]}`))
	if doc == nil || len(diags) != 0 || doc.Workflows[0].WorkflowID != "w" || doc.Workflows[0].At("workflowId").Line != 1 {
		t.Fatalf("JSON parses with positions: %v %v", doc, diags)
	}
}

func TestDecodeRefusesWhatItWouldIgnore(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a: 1\n---\nb: 2\n", "line 2: a second YAML document starts here"},
		{`{"a": 1} x`, "line 1, column 10: content after the end of the JSON document"},
		{"{\"a\": 1}\n\n  [2]", "line 3, column 3: content after the end of the JSON document"},
		{"a: 1\n---\n", ""},      // an empty second document holds nothing to ignore
		{`{a: 'flow yaml'}`, ""}, // not strict JSON: YAML reads it
		{"{\"a\": 1}\n", ""},
	} {
		_, err := DecodeYAML([]byte(tc.in))
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("DecodeYAML(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}
