package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/source"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/schema"
)

const spec11Dir = "testdata/spec/1.1"

// TestSchemaTests11 runs the Arazzo 1.1 specification's own schema tests:
// 35 documents the 1.1 schema accepts and 27 it rejects. The table names
// every file, so a fixture added or lost upstream shows here.
func TestSchemaTests11(t *testing.T) {
	tests := []struct {
		file string
		pass bool
	}{
		{"pass/async-correlation-id-for-receive-action.arazzo.yaml", true},
		{"pass/async-depends-on-across-document.arazzo.yaml", true},
		{"pass/async-depends-on-cross-workflow.arazzo.yaml", true},
		{"pass/async-depends-on.arazzo.yaml", true},
		{"pass/async-parameter-reusable-reference.arazzo.yaml", true},
		{"pass/async-parameter-with-in.arazzo.yaml", true},
		{"pass/async-receive-without-correlation-id.arazzo.yaml", true},
		{"pass/async-with-channel-path.arazzo.yaml", true},
		{"pass/asyncapi-success-criteria.arazzo.yaml", true},
		{"pass/bnpl-example.yaml", true},
		{"pass/characterization-async-invalid-channelPath-string.arazzo.yaml", true},
		{"pass/characterization-asyncapi-operationId-without-action.arazzo.yaml", true},
		{"pass/characterization-openapi-invalid-operationPath-string.arazzo.yaml", true},
		{"pass/characterization-openapi-operationId-with-action.arazzo.yaml", true},
		{"pass/characterization-openapi-receive-with-correlationId.arazzo.yaml", true},
		{"pass/characterization-workflow-step-with-requestBody.arazzo.yaml", true},
		{"pass/criterion-with-extended-xpath.arazzo.yaml", true},
		{"pass/minimal-async.arazzo.yaml", true},
		{"pass/minimal-with-self.arazzo.yaml", true},
		{"pass/minimal.arazzo.yaml", true},
		{"pass/oauth-example.yaml", true},
		{"pass/openapi-and-asyncapi.arazzo.yaml", true},
		{"pass/openapi-operation-path.arazzo.yaml", true},
		{"pass/openapi-parameter-reusable-reference.arazzo.yaml", true},
		{"pass/openapi-parameter-with-in.arazzo.yaml", true},
		{"pass/openapi-success-criteria.arazzo.yaml", true},
		{"pass/parameter-with-querystring-and-runtime-expr.arazzo.yaml", true},
		{"pass/parameter-with-selector.arazzo.yaml", true},
		{"pass/parameter-with-static-querystring.arazzo.yaml", true},
		{"pass/payload-replacement-using-selector.arazzo.yaml", true},
		{"pass/pet-coupons-example.yaml", true},
		{"pass/workflow-minimal-step.arazzo.yaml", true},
		{"pass/workflow-parameter-reusable-reference.arazzo.yaml", true},
		{"pass/workflow-parameter-without-in.arazzo.yaml", true},
		{"pass/workflow-success-criteria.arazzo.yaml", true},
		{"fail/async-both-operationId-and-channelPath.arazzo.yaml", false},
		{"fail/async-channelPath-without-action.arazzo.yaml", false},
		{"fail/async-depends-on-duplicate-values.arazzo.yaml", false},
		{"fail/async-depends-on-empty.arazzo.yaml", false},
		{"fail/async-depends-on-invalid-reference.arazzo.yaml", false},
		{"fail/channel-path-is-invalid-for-openapi.arazzo.yaml", false},
		{"fail/invalid-arazzo-version.yaml", false},
		{"fail/invalid-async-correlation-id-non-receive-action.arazzo.yaml", false},
		{"fail/invalid-async-parameter-without-in.arazzo.yaml", false},
		{"fail/invalid-async.arazzo.yaml", false},
		{"fail/invalid-expression-type-object.arazzo.yaml", false},
		{"fail/invalid-openapi-parameter-without-in.arazzo.yaml", false},
		{"fail/invalid-openapi-success-criteria.arazzo.yaml", false},
		{"fail/invalid-querystring-without-value.arazzo.yaml", false},
		{"fail/invalid-selector-object.arazzo.yaml", false},
		{"fail/invalid-self-fragment.arazzo.yaml", false},
		{"fail/invalid-targetSelectorType.arazzo.yaml", false},
		{"fail/invalid-workflow-step-with-operationId.arazzo.yaml", false},
		{"fail/invalid-workflow-success-criteria.arazzo.yaml", false},
		{"fail/not-an-object.yaml", false},
		{"fail/openapi-both-operationId-and-operationPath.arazzo.yaml", false},
		{"fail/openapi-duplicate-parameters.arazzo.yaml", false},
		{"fail/openapi-missing-operation-target.arazzo.yaml", false},
		{"fail/workflow-duplicate-parameters.arazzo.yaml", false},
		{"fail/workflow-missing-workflowId.arazzo.yaml", false},
		{"fail/workflow-step-with-action.arazzo.yaml", false},
		{"fail/workflow-step-with-channelPath.arazzo.yaml", false},
	}
	if len(tests) != 62 {
		t.Fatalf("%d schema tests, want 62", len(tests))
	}
	files, _ := filepath.Glob(filepath.Join(spec11Dir, "schema-tests", "*", "*.yaml"))
	if len(files) != len(tests) {
		t.Errorf("%d files on disk, %d in the table", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(spec11Dir, "schema-tests", tt.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			doc, diags := document.Parse(path, data)
			if doc != nil {
				diags = append(diags, schema.ValidateDocument(doc)...)
				if tt.pass && doc.Version != document.V11 {
					t.Errorf("version %v, want 1.1", doc.Version)
				}
			}
			if tt.pass && diags.HasErrors() {
				t.Fatalf("the 1.1 schema should accept it:\n%s", diags.Error())
			}
			if !tt.pass && !diags.HasErrors() {
				t.Fatal("the 1.1 schema should reject it")
			}
		})
	}
}

// completeExamples11 extracts the YAML blocks of the 1.1 specification text
// that are whole documents (they have arazzo, info, sourceDescriptions and
// workflows at the top level).
func completeExamples11(t *testing.T) []string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(spec11Dir, "spec-1.1.0.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	parts := strings.Split(string(text), "```yaml\n")
	for _, p := range parts[1:] {
		block, _, _ := strings.Cut(p, "```")
		complete := true
		for _, key := range []string{"arazzo:", "info:", "sourceDescriptions:", "workflows:"} {
			complete = complete && (strings.HasPrefix(block, key) || strings.Contains(block, "\n"+key))
		}
		if complete {
			out = append(out, block)
		}
	}
	return out
}

// TestSpecExamples11: every complete example document of Arazzo 1.1 (the
// one in the specification text, and the three example documents among
// the schema tests) is compiled with its local OpenAPI descriptions beside
// it. Their diagnostics are pinned: the example documents validate; the
// one in the text has defects of its own (a misspelt source name, `action`
// on operationPath steps, which the 1.1 schema rejects) and a remote source
// the tests do not fetch; bnpl names a remote source too.
func TestSpecExamples11(t *testing.T) {
	blocks := completeExamples11(t)
	if len(blocks) != 1 {
		t.Fatalf("%d complete examples in the 1.1 text, want 1", len(blocks))
	}
	docs := map[string][]byte{"spec-text-example": []byte(blocks[0])}
	for _, name := range []string{"pet-coupons-example", "oauth-example", "bnpl-example"} {
		data, err := os.ReadFile(filepath.Join(spec11Dir, "schema-tests", "pass", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = data
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range []string{"pet-coupons.openapi.yaml", "oauth.openapi.yaml"} {
				b, err := os.ReadFile(filepath.Join(specDir, "examples", d))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, d), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, name+".arazzo.yaml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			plan, diags := LoadFile(context.Background(), path, &source.Loader{})
			if plan != nil && plan.Version != document.V11 {
				t.Errorf("version %v", plan.Version)
			}
			checkGolden(t, filepath.Join("testdata/examples11", name+".golden"), render(diags, dir))
		})
	}
}
