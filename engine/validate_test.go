package engine

import (
	"bufio"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

// specDir holds the Arazzo specification's own examples and schema tests,
// copied into the repository so that every clone runs them (see its README).
const specDir = "testdata/spec"

// render prints diagnostics with file names relative to dir, one a line.
func render(diags diag.List, dir string) string {
	var b strings.Builder
	for _, d := range diags {
		if rel, err := filepath.Rel(dir, d.File); err == nil {
			d.File = filepath.ToSlash(rel)
		}
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("diagnostics differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// Each broken document declares in its first line the rule it breaks; the
// golden file pins every diagnostic, and the declared rule must be among
// the errors.
func TestInvalidDocuments(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.arazzo.yaml")
	if len(files) < 40 {
		t.Fatalf("want at least 40 broken documents, found %d", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".arazzo.yaml")
		t.Run(name, func(t *testing.T) {
			rule := declaredRule(t, f)
			// As validate sees them: dialects are errors there.
			_, diags := LoadFile(context.Background(), f, &source.Loader{}, StrictDialects())
			if !diags.HasErrors() {
				t.Fatalf("no error for a broken document")
			}
			found := false
			for _, d := range diags.Errors() {
				found = found || d.Rule == rule
				if d.Line == 0 {
					t.Errorf("an error without a position: %s", d)
				}
			}
			if !found {
				t.Errorf("no [%s] error among:\n%s", rule, render(diags, "testdata/invalid"))
			}
			checkGolden(t, strings.TrimSuffix(f, ".arazzo.yaml")+".golden", render(diags, "testdata/invalid"))
		})
	}
}

func declaredRule(t *testing.T, path string) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	rule, ok := strings.CutPrefix(strings.TrimSpace(line), "# rule: ")
	if !ok {
		t.Fatalf("%s does not start with # rule: <id>", path)
	}
	return rule
}

// The spec's own examples: each loads, and the ones with known defects
// (checklist §19) get exactly the diagnostics pinned in testdata/examples.
func TestSpecExamples(t *testing.T) {
	dir := filepath.Join(specDir, "examples")
	files, _ := filepath.Glob(filepath.Join(dir, "*arazzo*.yaml"))
	if len(files) != 6 {
		t.Fatalf("want the spec's 6 example documents in %s, found %d", dir, len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			_, diags := LoadFile(context.Background(), f, &source.Loader{})
			checkGolden(t, filepath.Join("testdata/examples", name+".golden"), render(diags, dir))
		})
	}
}

func TestSchemaFixtures(t *testing.T) {
	for _, kind := range []string{"pass", "fail"} {
		files, _ := filepath.Glob(filepath.Join(specDir, "schema-tests", kind, "*.yaml"))
		if len(files) == 0 {
			t.Fatalf("no schema tests in %s/schema-tests/%s", specDir, kind)
		}
		for _, f := range files {
			t.Run(kind+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				doc, diags := document.Parse(f, data)
				if doc != nil {
					diags = append(diags, schema.ValidateDocument(doc)...)
				}
				if kind == "pass" && diags.HasErrors() {
					t.Fatalf("a passing fixture has errors:\n%s", diags.Error())
				}
				if kind == "fail" && !diags.HasErrors() {
					t.Fatal("a failing fixture has no error")
				}
			})
		}
	}
}

func TestSeedValidates(t *testing.T) {
	_, diags := LoadFile(context.Background(), "../workflows/amazon-healthlake-export.arazzo.yaml", &source.Loader{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, d := range diags {
		t.Logf("warning: %s", d)
	}
}

func BenchmarkLoadSeed(b *testing.B) {
	data, err := os.ReadFile("../workflows/amazon-healthlake-export.arazzo.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cold", func(b *testing.B) {
		// A fresh loader each time: the OpenAPI description is parsed too.
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if p, d := LoadBytes(context.Background(), "../workflows/amazon-healthlake-export.arazzo.yaml", data, &source.Loader{}); p == nil {
				b.Fatal(d.Error())
			}
		}
	})
	b.Run("shared-loader", func(b *testing.B) {
		// The description is cached: the cost of the Arazzo document alone.
		loader := &source.Loader{}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if p, d := LoadBytes(context.Background(), "../workflows/amazon-healthlake-export.arazzo.yaml", data, loader); p == nil {
				b.Fatal(d.Error())
			}
		}
	})
}

// FuzzLoad feeds arbitrary documents through the parser, the schema check
// and the compiler: nothing may panic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*.arazzo.yaml")
	seeds = append(seeds, "../workflows/amazon-healthlake-export.arazzo.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("{\"arazzo\": \"1.0.1\", \"workflows\": [{}]}"))
	dir := f.TempDir()
	api, _ := os.ReadFile("testdata/testapi.openapi.yaml")
	_ = os.WriteFile(filepath.Join(dir, "testapi.openapi.yaml"), api, 0o644)
	loader := &source.Loader{}
	path := filepath.Join(dir, "sub", "fuzz.arazzo.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		LoadBytes(context.Background(), path, data, loader)
	})
}
