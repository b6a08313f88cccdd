package expr

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var exprSeeds = []string{
	"$url", "$statusCode", "$response.body#/a~1b/c~0d", "$response.body#token", "$response.body.items[0].id",
	"$request.header.X-Api-Key", "$inputs.customer#/firstName", "$steps.s.outputs.a.b", "$workflows.w.outputs.x#/0",
	"$sourceDescriptions.api.url", "$components.parameters.page", "$steps.s.response", "$", "$inputs.", "$response.body#/~",
}

// FuzzParse: no expression text may make the parser panic, and whatever
// parses must evaluate without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range exprSeeds {
		f.Add(s)
	}
	ctx := testContext(f, sampleBody)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if e != nil {
				t.Fatal("an error with an expression")
			}
			return
		}
		e.Eval(ctx)
	})
}

func FuzzTemplate(f *testing.F) {
	for _, s := range append(exprSeeds, "Bearer {$inputs.token}", "{$a", "}{$inputs.x}{", "price: $5 {x}", `{"id": {$inputs.id}}`) {
		f.Add(s)
	}
	ctx := testContext(f, sampleBody)
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, _ := ParseTemplate(s)
		tmpl.Eval(ctx)
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			cv, _ := CompileValue(v)
			val, ok := cv.Eval(ctx)
			// Direct encoding must equal encoding/json's.
			got, gotOK, err := cv.AppendJSON(nil, ctx)
			if err == nil && gotOK == ok && ok {
				var want bytes.Buffer
				enc := json.NewEncoder(&want)
				enc.SetEscapeHTML(false)
				if enc.Encode(val) == nil && string(got) != strings.TrimSuffix(want.String(), "\n") {
					t.Fatalf("AppendJSON %s, encoding/json %s", got, want.String())
				}
			}
		}
	})
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		"$statusCode == 200", "!($a == 1) && $b || 'x''y' != \"z\"", "$response.body#/arr[0] >= -1.5e3",
		"{$statusCode == 200}", "(((", "$response.body.a.b[1]", "'unterminated", "1 == 1 == 1", "!!!true",
	} {
		f.Add(s)
	}
	ctx := testContext(f, sampleBody)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			return
		}
		c.Eval(ctx)
	})
}

func FuzzCriterion(f *testing.F) {
	for _, s := range []struct{ kind, cond string }{
		{"jsonpath", `$.ExportJobProperties.JobStatus == "COMPLETED"`}, {"jsonpath", `$[?count(@.pets) > 0]`},
		{"jsonpath", `$.F[?(@.A == "$steps.s.outputs.a")].S contains "X"`}, {"regex", `^2\d\d$`},
		{"xpath", "/order/qty = 3"}, {"simple", "$statusCode == 200"},
		{"jsonpath", `$.a[?@.b == '{$inputs.x}']`}, {"regex", `^{$inputs.p}-\d+$`}, {"xpath", "/a/b[{$inputs.n}]"},
	} {
		f.Add(s.kind, s.cond)
	}
	ctx := testContext(f, sampleBody)
	f.Fuzz(func(t *testing.T, kind, cond string) {
		for _, v := range []Version{V10, V11} {
			c, _ := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: cond, Type: kind, Arazzo: v})
			c.Eval(ctx)
		}
	})
}

// FuzzSelector: a Selector Object of any text and type compiles and
// evaluates without panicking.
func FuzzSelector(f *testing.F) {
	for _, s := range []struct{ typ, version, sel string }{
		{"jsonpath", "", "$.items[*].id"}, {"jsonpath", VersionGoessner, "$.a[?(@.b > 1)]"},
		{"jsonpointer", "", "/a/0"}, {"xpath", "xpath-10", "count(//a)"}, {"xpath", "", "/a/b[1]/@c"},
	} {
		f.Add(s.typ, s.version, s.sel)
	}
	ctx := testContext(f, sampleBody)
	f.Fuzz(func(t *testing.T, typ, version, sel string) {
		s, _ := CompileSelector(map[string]any{"context": "$response.body", "selector": sel, "type": map[string]any{"type": typ, "version": version}})
		s.Eval(ctx)
	})
}
