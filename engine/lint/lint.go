// Package lint checks Arazzo workflows against the APIs they call, before
// anything is sent: what `arazzo validate` reports, plus rules that need the
// OpenAPI descriptions (parameters the operation does not declare, values
// whose type cannot satisfy a schema, response fields no response has) and
// rules about the workflow's own flow (polling loops with no way out,
// unreachable steps, unused inputs and outputs, constant criteria).
//
// Lint works on a compiled *engine.Plan, so every operation, parameter
// declaration and schema it looks at is the one `run` would use. Each rule
// has a stable id, a default severity and an explanation (Rules, Lookup).
// Findings are diag.Diagnostic values with the file, line and column of
// what they are about, so the writers of package report print them.
//
// A Config (.arazzo-lint.yaml) sets a rule's severity, turns it off, or
// ignores files by path; an object in the document silences rules for
// itself and everything inside it with the extension
//
//	x-arazzo-lint-ignore: [unused-input, unreachable-step]   # or "all"
package lint

import (
	"context"
	"os"
	"sort"
	"strings"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/source"
)

// IgnoreExtension is the extension that silences rules on an object.
const IgnoreExtension = "x-arazzo-lint-ignore"

// File lints the Arazzo document at path: every diagnostic `validate`
// gives, then the lint rules over its plan (even a plan with errors, as far
// as it was compiled), with cfg applied. cfg may be nil.
func File(ctx context.Context, path string, loader *source.Loader, cfg *Config, opts ...engine.CompileOption) diag.List {
	if loader == nil {
		loader = &source.Loader{}
	}
	plan, diags := engine.LoadFile(ctx, path, loader, opts...)
	var doc *document.Document
	if plan != nil {
		doc = plan.Doc
	} else {
		// The document has errors: lint what compiles of it anyway, so one
		// mistake does not hide the others. Sources are cached by loader.
		if data, err := os.ReadFile(path); err == nil {
			if d, _ := document.Parse(path, data); d != nil {
				doc = d
				plan, _ = engine.Compile(ctx, d, loader, opts...)
			}
		}
	}
	// Lint's own parameter check replaces validate's: it says where the
	// parameter belongs or what was meant.
	var out diag.List
	for _, d := range diags {
		if d.Rule != "parameter-undeclared" || plan == nil {
			out = append(out, d)
		}
	}
	if plan != nil {
		out = append(out, Check(plan)...)
	}
	return cfg.Apply(doc, out)
}

// Check runs every lint rule over plan and returns what they find, at each
// rule's default severity, sorted. It does not include validate's
// diagnostics, nor apply a Config.
func Check(plan *engine.Plan) diag.List {
	l := &linter{plan: plan, file: plan.Doc.File}
	for _, w := range plan.Workflows {
		l.workflow(w)
	}
	l.unusedOutputs()
	// A workflow-level parameter or action is checked once per step: say it once.
	seen := map[string]bool{}
	var out diag.List
	for _, d := range l.out {
		if k := d.String(); !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	out.Sort()
	return out
}

type linter struct {
	plan *engine.Plan
	file string
	out  diag.List
}

func (l *linter) report(rule string, pos document.Pos, msg string) {
	r, _ := Lookup(rule)
	l.out = append(l.out, diag.Diagnostic{File: l.file, Line: pos.Line, Column: pos.Col, Severity: r.Severity, Rule: rule, Message: msg})
}

func (l *linter) workflow(w *engine.Workflow) {
	for _, s := range w.Steps {
		switch s.Kind {
		case engine.OperationStep:
			l.operationParams(w, s)
			l.requestBody(s)
			l.responseFields(s)
		case engine.WorkflowStep:
			l.calleeParams(w, s)
		}
		l.constantCriteria(s)
	}
	l.loops(w)
	l.unreachable(w)
	l.unusedInputs(w)
}

// DidYouMean is the candidate nearest to name, if one is near enough to
// be a slip: the same letters in another case or separator style, or a
// few edits apart.
func DidYouMean(name string, candidates []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", ".", "").Replace(strings.ToLower(s))
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if c == name {
			continue
		}
		if norm(c) == norm(name) {
			return c
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= max(1, min(len(name), len(best))/3) {
		return best
	}
	return ""
}

// editDistance counts insertions, deletions, substitutions and swaps of
// neighbours (the optimal string alignment distance): "nmae" is one slip
// from "name".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func suggest(name string, candidates []string) string {
	if m := DidYouMean(name, candidates); m != "" {
		return " (did you mean " + quote(m) + "?)"
	}
	return ""
}

func quote(s string) string { return "\"" + s + "\"" }

// list names up to n items, sorted, for a message.
func list(items []string, n int) string {
	items = append([]string(nil), items...)
	sort.Strings(items)
	if len(items) > n {
		return strings.Join(items[:n], ", ") + ", …"
	}
	return strings.Join(items, ", ")
}
