package schema

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
)

// The embedded schemas, patched, are valid 2020-12 schemas: the check the
// compiler skips at run time (compileSpec's trusted meta-schema).
func TestEmbeddedSchemasAreValid(t *testing.T) {
	for name, c := range map[string]*schemaCache{"1.0": full10(), "1.1": full11()} {
		if _, err := c.get(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The check can fail: a broken patch is caught by the meta-schema.
	broken := func(root map[string]any) {
		patchSpecSchema(root)
		root["$defs"].(map[string]any)["info"].(map[string]any)["type"] = 7
	}
	if _, err := compileSpec(specSchemaJSON, specSchemaURL, broken, true); err == nil {
		t.Error("the meta-schema accepted `type: 7`")
	}
}

func full10() *schemaCache {
	return &schemaCache{build: func() (*jsonschema.Schema, error) {
		return compileSpec(specSchemaJSON, specSchemaURL, patchSpecSchema, true)
	}}
}

func full11() *schemaCache {
	return &schemaCache{build: func() (*jsonschema.Schema, error) {
		return compileSpec(spec11SchemaJSON, spec11SchemaURL, patchSpec11Schema, true)
	}}
}

// Skipping the meta-schema changes no verdict: every document under
// engine/testdata (the specification's schema tests that pass and fail,
// its examples, invalid and hostile documents) gets the same diagnostics
// from the schemas compiled both ways.
func TestTrustedMetaSameVerdicts(t *testing.T) {
	f10, f11 := full10(), full11()
	var docs, failing int
	err := filepath.WalkDir("../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".json")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		doc, _ := document.Parse(path, data)
		if doc == nil || doc.Raw == nil || doc.Arazzo == "" {
			return nil
		}
		fast := ValidateDocument(doc)
		full := f10
		if doc.Version == document.V11 {
			full = f11
		}
		sch, err := full.get()
		if err != nil {
			t.Fatal(err)
		}
		slow := validateWith(doc, sch)
		if !slices.Equal(strs(fast), strs(slow)) {
			t.Errorf("%s:\ntrusted meta-schema: %v\nfull meta-schema:    %v", path, fast, slow)
		}
		docs++
		if len(fast) > 0 {
			failing++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d documents, %d with schema errors", docs, failing)
	if docs < 50 || failing < 10 {
		t.Fatalf("compared %d documents (%d with schema errors): the corpus is not where it was", docs, failing)
	}
}

func strs(l diag.List) []string {
	out := make([]string, len(l))
	for i, d := range l {
		out[i] = d.String()
	}
	slices.Sort(out) // the order of sibling errors is the library's map order
	return out
}

// A never-seen document waits for this compile (go test -bench Compile
// ./engine/schema): the embedded JSON with the meta-schema check skipped,
// against the same schema checked against the meta-schema.
func BenchmarkCompileSchema(b *testing.B) {
	for b.Loop() {
		if _, err := compileSpec(specSchemaJSON, specSchemaURL, patchSpecSchema, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileSchemaMetaChecked(b *testing.B) {
	for b.Loop() {
		if _, err := compileSpec(specSchemaJSON, specSchemaURL, patchSpecSchema, true); err != nil {
			b.Fatal(err)
		}
	}
}
