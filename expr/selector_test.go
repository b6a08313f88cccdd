package expr

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestSelectorResults(t *testing.T) {
	body := map[string]any{"items": []any{map[string]any{"id": json.Number("1")}, map[string]any{"id": json.Number("2")}}, "name": "x"}
	xml := `<r><a>1</a><a>2</a><b k="v">t</b></r>`
	ctx := &fakeContext{inputs: map[string]any{"body": body, "text": `{"n": 5}`, "xml": xml}}
	tests := []struct {
		ctx, sel string
		typ      any
		want     any
		ok       bool
	}{
		{"$inputs.body", "$.name", "jsonpath", "x", true},
		{"$inputs.body", "$.items[*].id", "jsonpath", []any{json.Number("1"), json.Number("2")}, true},
		{"$inputs.body", "$.nothing", "jsonpath", nil, false},
		{"$inputs.body", "/items/1/id", "jsonpointer", json.Number("2"), true},
		{"$inputs.text", "$.n", "jsonpath", json.Number("5"), true}, // a JSON body kept as text
		{"$inputs.body", "$.items[1].id", map[string]any{"type": "jsonpath", "version": VersionGoessner}, 2.0, true},
		{"$inputs.xml", "/r/b/@k", "xpath", "v", true}, // a plain path: any version
		{"$inputs.xml", "count(/r/a)", map[string]any{"type": "xpath", "version": "xpath-10"}, json.Number("2"), true},
		{"$inputs.xml", "/r/a", map[string]any{"type": "xpath", "version": "xpath-10"}, []any{"1", "2"}, true},
	}
	for _, tt := range tests {
		s, errs := CompileSelector(map[string]any{"context": tt.ctx, "selector": tt.sel, "type": tt.typ})
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tt.sel, errs[0].Error)
		}
		got, ok, err := s.Eval(ctx)
		if err != nil || ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %v: %#v %v %v, want %#v %v", tt.sel, tt.typ, got, ok, err, tt.want, tt.ok)
		}
	}
}

func TestSelectorRefusesXPath2Plus(t *testing.T) {
	for _, v := range []any{"xpath", map[string]any{"type": "xpath", "version": "xpath-20"}, map[string]any{"type": "xpath", "version": "xpath-30"}} {
		s, errs := CompileSelector(map[string]any{"context": "$inputs.xml", "selector": "string-join(/r/a, ',')", "type": v})
		if len(errs) > 0 || s.Unsupported == "" {
			t.Fatalf("%v: %v %q", v, errs, s.Unsupported)
		}
		if _, _, err := s.Eval(&fakeContext{inputs: map[string]any{"xml": "<r/>"}}); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("%v: %v", v, err)
		}
	}
	for _, bad := range []map[string]any{
		{"context": "$inputs.x", "selector": "$[", "type": "jsonpath"},
		{"context": "$inputs.x", "selector": "a/b", "type": "jsonpointer"},
		{"context": "$inputs.x", "selector": "$.a", "type": map[string]any{"type": "jsonpath", "version": "rfc0000"}},
		{"context": "$nope", "selector": "$.a", "type": "jsonpath"},
	} {
		if _, errs := CompileSelector(bad); len(errs) == 0 {
			t.Errorf("%v compiled", bad)
		}
	}
}

func TestPlainXPath(t *testing.T) {
	for path, plain := range map[string]bool{
		"/a/b": true, "//a/b[1]": true, "/a/@c": true, "/x:a/b": true, "/a/*": true,
		"/a/b[last()]": false, "count(/a)": false, "/a[b='c']": false, "a/b": false, "/a | /b": false,
	} {
		if PlainXPath(path) != plain {
			t.Errorf("%s: %v", path, !plain)
		}
	}
}

// 1.1 criteria: RFC 9535 by default with nodelist truthiness, embeds
// substituted before compiling, and 1.0 documents unchanged.
func TestCriteria11(t *testing.T) {
	ctx := &fakeContext{inputs: map[string]any{"s": "sold", "p": "ord"},
		resp: &fakeMessage{body: map[string]any{"id": "ord-1", "pets": []any{map[string]any{"status": "sold"}}}, hasBod: true}}
	tests := []struct {
		spec CriterionSpec
		pass bool
	}{
		{CriterionSpec{Context: "$response.body", Condition: "$.pets[?@.status == '{$inputs.s}']", Type: "jsonpath", Arazzo: V11}, true},
		{CriterionSpec{Context: "$response.body", Condition: "$.pets[?@.status == 'x']", Type: "jsonpath", Arazzo: V11}, false},
		{CriterionSpec{Context: "$response.body#/id", Condition: `^{$inputs.p}-\d$`, Type: "regex", Arazzo: V11}, true},
		{CriterionSpec{Context: "$response.body#/missing", Condition: ".*", Type: "regex", Arazzo: V11}, false},
	}
	for _, tt := range tests {
		c, errs := CompileCriterion(tt.spec)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tt.spec.Condition, errs[0].Error)
		}
		if pass, _ := c.Eval(ctx); pass != tt.pass {
			t.Errorf("%s: %v", tt.spec.Condition, pass)
		}
	}
	// In 1.0 the same regex is RE2 text: `{$` is no embed.
	if c, _ := CompileCriterion(CriterionSpec{Context: "$response.body#/id", Condition: `^{$inputs.p}-\d$`, Type: "regex"}); c.embeds != nil {
		t.Error("a 1.0 regex got 1.1 embeds")
	}
	// XPath 3.1, the 1.1 default, is refused unless the path is plain.
	c, _ := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: "count(/a) eq 1", Type: "xpath", Arazzo: V11})
	if c.Unsupported == "" {
		t.Error("xpath-31 accepted")
	}
	c, _ = CompileCriterion(CriterionSpec{Context: "$response.body", Condition: "/a/b", Type: "xpath", Arazzo: V11})
	if c.Unsupported != "" || c.xp == nil {
		t.Errorf("a plain path refused: %s", c.Unsupported)
	}
}
