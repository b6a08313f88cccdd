package lint

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
)

var update = flag.Bool("update", false, "rewrite golden files")

func render(diags diag.List) string {
	var b strings.Builder
	for _, d := range diags {
		d.File = filepath.Base(d.File)
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// Every rule fires on the fixture, at the line and column of what it is
// about, and the extension silences what it names.
func TestRules(t *testing.T) {
	got := File(context.Background(), "testdata/rules.arazzo.yaml", nil, nil)
	golden(t, "testdata/rules.golden", render(got))
	seen := map[string]bool{}
	for _, d := range got {
		seen[d.Rule] = true
	}
	for _, r := range Rules() {
		if !seen[r.ID] {
			t.Errorf("rule %s does not fire on the fixture", r.ID)
		}
		if r.Explain == "" || r.Summary == "" {
			t.Errorf("rule %s has no explanation", r.ID)
		}
	}
}

func TestConfig(t *testing.T) {
	cfg, warnings, err := ParseConfig("/repo/.arazzo-lint.yaml", []byte(`rules:
  unused-input: off
  response-field-unknown: error
  unkown-rule: warn
ignore:
  - path: "flows/**/legacy.arazzo.yaml"
    rules: [unreachable-step]
  - vendor/*
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || warnings[0].Line != 4 || !strings.Contains(warnings[0].Message, `"unkown-rule"`) {
		t.Errorf("warnings: %v", warnings)
	}
	in := diag.List{
		{File: "/repo/a.yaml", Line: 1, Rule: "unused-input", Severity: diag.Warning},
		{File: "/repo/a.yaml", Line: 2, Rule: "response-field-unknown", Severity: diag.Warning},
		{File: "/repo/flows/x/y/legacy.arazzo.yaml", Line: 3, Rule: "unreachable-step"},
		{File: "/repo/flows/legacy.arazzo.yaml", Line: 4, Rule: "unused-output"},
		{File: "/repo/vendor/z.yaml", Line: 5, Rule: "schema"},
		{File: "/repo/vendor/deep/z.yaml", Line: 6, Rule: "schema"},
	}
	got := cfg.Apply(nil, in)
	var lines []string
	for _, d := range got {
		lines = append(lines, d.String())
	}
	want := []string{
		"/repo/a.yaml:2:0: error:  [response-field-unknown]",
		"/repo/flows/legacy.arazzo.yaml:4:0: error:  [unused-output]",
		"/repo/vendor/deep/z.yaml:6:0: error:  [schema]",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{"rules: [a]", "rules: {x: loud}", "ignore: [{rules: [x]}]", "other: 1", "- a"} {
		if _, _, err := ParseConfig("c.yaml", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "c.yaml:1:") {
			t.Errorf("%q: err = %v, want one at c.yaml:1:", bad, err)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"pet_id", "petId"}, {"priorty", "priority"}, {"limit", ""}, {"ID", "id"},
	} {
		if got := DidYouMean(c.name, []string{"petId", "priority", "id", "offset"}); got != c.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

// The seed polls a HealthLake export job: lint sees that a FAILED or
// CANCELLED job leaves the loop for the next step, and that AWS JSON's own
// content type stands for the JSON its description declares.
func TestSeed(t *testing.T) {
	got := File(context.Background(), "../../workflows/amazon-healthlake-export.arazzo.yaml", nil, nil, engine.WithProtocols(awsjson.Detect))
	var fall []string
	for _, d := range got {
		switch d.Rule {
		case "request-body-schema", "parameter-undeclared", "parameter-missing", "response-field-unknown":
			t.Errorf("false positive: %s", d)
		case "loop-enum-fallthrough":
			fall = append(fall, d.Message)
		}
	}
	if len(fall) != 1 || !strings.Contains(fall[0], "FAILED") || strings.Contains(fall[0], "on SUBMITTED") {
		t.Errorf("loop-enum-fallthrough: %q", fall)
	}
}
