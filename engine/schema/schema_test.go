package schema

import (
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/document"
)

func validate(t *testing.T, steps string) []string {
	t.Helper()
	src := "arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions: [{name: api, url: ./a.yaml}]\nworkflows:\n  - workflowId: w\n    steps:\n" + steps
	doc, diags := document.Parse("f.yaml", []byte(src))
	if doc == nil {
		t.Fatal(diags)
	}
	var out []string
	for _, d := range ValidateDocument(doc) {
		out = append(out, d.String())
	}
	return out
}

// Where the official schema contradicts the prose (checklist §18), the
// prose wins.
func TestProseOverSchema(t *testing.T) {
	accepted := map[string]string{
		"criterion type object":  "      - stepId: s\n        operationId: op\n        successCriteria:\n          - {context: $response.body, condition: $.a, type: {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}}\n",
		"simple without context": "      - stepId: s\n        operationId: op\n        successCriteria:\n          - {condition: $statusCode == 200, type: simple}\n",
		"replacement number":     "      - stepId: s\n        operationId: op\n        requestBody:\n          payload: {a: 1}\n          replacements: [{target: /a, value: 10}]\n",
		"retry without target":   "      - stepId: s\n        operationId: op\n        onFailure: [{name: r, type: retry}]\n",
		"reusable with extras":   "      - stepId: s\n        operationId: op\n        parameters: [{reference: $components.parameters.p, value: 1, extra: x}]\n",
	}
	for name, steps := range accepted {
		if errs := validate(t, steps); len(errs) != 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
	rejected := map[string]string{
		"goto without target": "      - stepId: s\n        operationId: op\n        onSuccess: [{name: g, type: goto}]\n",
		"unknown field":       "      - stepId: s\n        operationId: op\n        colour: blue\n",
		"two targets":         "      - stepId: s\n        operationId: op\n        workflowId: w\n",
		"bad parameter in":    "      - stepId: s\n        operationId: op\n        parameters: [{name: a, in: body, value: 1}]\n",
	}
	for name, steps := range rejected {
		if errs := validate(t, steps); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(errs[0], "f.yaml:") {
			t.Errorf("%s: no position in %v", name, errs)
		}
	}
}
