package expr

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// fakeContext is a Context over fixed data.
type fakeContext struct {
	url, method string
	status      int
	req, resp   *fakeMessage
	inputs      map[string]any
	outputs     map[string]any
	steps       map[string]map[string]any
	wfIn, wfOut map[string]map[string]any
	sources     map[string]map[string]any
	components  map[string]map[string]any
}

type fakeMessage struct {
	header http.Header
	query  map[string]string
	path   map[string]string
	body   any
	hasBod bool
}

func (m *fakeMessage) Header(n string) (string, bool) {
	v, ok := m.header[http.CanonicalHeaderKey(n)]
	if !ok {
		return "", false
	}
	return strings.Join(v, ", "), true
}
func (m *fakeMessage) Query(n string) (string, bool) { v, ok := m.query[n]; return v, ok }
func (m *fakeMessage) Path(n string) (string, bool)  { v, ok := m.path[n]; return v, ok }
func (m *fakeMessage) Body() (any, bool)             { return m.body, m.hasBod }

func (c *fakeContext) URL() (string, bool)     { return c.url, c.url != "" }
func (c *fakeContext) Method() (string, bool)  { return c.method, c.method != "" }
func (c *fakeContext) StatusCode() (int, bool) { return c.status, c.status != 0 }
func (c *fakeContext) Message(resp bool) Message {
	if resp {
		if c.resp == nil {
			return nil
		}
		return c.resp
	}
	if c.req == nil {
		return nil
	}
	return c.req
}
func (c *fakeContext) Inputs() map[string]any  { return c.inputs }
func (c *fakeContext) Outputs() map[string]any { return c.outputs }
func (c *fakeContext) StepOutputs(id string) (map[string]any, bool) {
	m, ok := c.steps[id]
	return m, ok
}
func (c *fakeContext) WorkflowValues(id string, out bool) (map[string]any, bool) {
	src := c.wfIn
	if out {
		src = c.wfOut
	}
	m, ok := src[id]
	return m, ok
}
func (c *fakeContext) SourceDescription(name, ref string) (any, bool) {
	v, ok := c.sources[name][ref]
	return v, ok
}
func (c *fakeContext) Component(kind, key string) (any, bool) {
	v, ok := c.components[kind][key]
	return v, ok
}

func jsonValue(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

func testContext(t testing.TB, body string) *fakeContext {
	return &fakeContext{
		url: "https://api.example.com/pets/42", method: "GET", status: 200,
		req: &fakeMessage{header: http.Header{"Authorization": {"Bearer x"}}, query: map[string]string{"page": "2"}, path: map[string]string{"petId": "42"}},
		resp: &fakeMessage{
			header: http.Header{"X-Rate-Limit": {"5"}, "Vary": {"Accept", "Origin"}},
			body:   jsonValue(t, body), hasBod: true,
		},
		inputs:     map[string]any{"id": json.Number("5"), "name": `a"b`, "customer": map[string]any{"firstName": "Ann"}, "big": json.Number("9007199254740993"), "dotted.key": "exact"},
		outputs:    map[string]any{"token": "t0"},
		steps:      map[string]map[string]any{"s": {"body": jsonValue(t, `{"items":[{"id":1},{"id":2}]}`), "a.b": "dotkey", "a": map[string]any{"b": "nested"}}},
		wfOut:      map[string]map[string]any{"refresh": {"token": "new"}},
		wfIn:       map[string]map[string]any{"refresh": {"user": "u"}},
		sources:    map[string]map[string]any{"api": {"url": "https://example.com/openapi.yaml"}},
		components: map[string]map[string]any{"parameters": {"page": json.Number("1")}},
	}
}

const sampleBody = `{"a/b":{"c~d":"escaped"},"a":{"b":"plain"},"arr":[10,20],"count":"10","flag":"true","ok":true,"n":null,"status":"available","name":"O'Brien","items":[],"id":9007199254740993}`

func TestEvalExpressions(t *testing.T) {
	ctx := testContext(t, sampleBody)
	tests := []struct {
		expr      string
		want      any // nil with undefined=true means undefined
		undefined bool
	}{
		{expr: "$url", want: "https://api.example.com/pets/42"},
		{expr: "$method", want: "GET"},
		{expr: "$statusCode", want: 200},
		{expr: "$request.header.AUTHORIZATION", want: "Bearer x"},
		{expr: "$request.query.page", want: "2"},
		{expr: "$request.path.petId", want: "42"},
		{expr: "$response.header.x-rate-limit", want: "5"},
		{expr: "$response.header.Vary", want: "Accept, Origin"},
		{expr: "$response.header.Missing", undefined: true},
		{expr: "$response.body#/a~1b/c~0d", want: "escaped"},
		{expr: "$response.body#/a/b", want: "plain"},
		{expr: "$response.body#/arr/1", want: json.Number("20")},
		{expr: "$response.body#/arr/01", undefined: true},
		{expr: "$response.body#/arr/-", undefined: true},
		{expr: "$response.body#/missing", undefined: true},
		{expr: "$response.body#/n", want: nil},
		{expr: "$response.body#/id", want: json.Number("9007199254740993")},
		{expr: "$response.body#a/b", want: "plain"},
		{expr: "$response.body.a.b", want: "plain"},
		{expr: "$response.body.arr[1]", want: json.Number("20")},
		{expr: "$inputs.id", want: json.Number("5")},
		{expr: "$inputs.customer#/firstName", want: "Ann"},
		{expr: "$inputs.customer.firstName", want: "Ann"},
		{expr: "$inputs.dotted.key", want: "exact"},
		{expr: "$inputs.nothing", undefined: true},
		{expr: "$outputs.token", want: "t0"},
		{expr: "$steps.s.outputs.body#/items/1/id", want: json.Number("2")},
		{expr: "$steps.s.outputs.a.b", want: "dotkey"},
		{expr: "$steps.other.outputs.x", undefined: true},
		{expr: "$workflows.refresh.outputs.token", want: "new"},
		{expr: "$workflows.refresh.inputs.user", want: "u"},
		{expr: "$sourceDescriptions.api.url", want: "https://example.com/openapi.yaml"},
		{expr: "$components.parameters.page", want: json.Number("1")},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, ok := e.Eval(ctx)
			if tt.undefined {
				if ok {
					t.Fatalf("got %#v, want undefined", got)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v (ok=%v), want %#v", got, ok, tt.want)
			}
		})
	}
	whole, _ := Parse("$response.body#")
	if v, ok := whole.Eval(ctx); !ok || !reflect.DeepEqual(v, ctx.resp.body) {
		t.Fatalf("empty pointer should be the whole body, got %#v", v)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		msg    string
	}{
		{"$steps.s.response.body", 8, "only .outputs"},
		{"$foo", 0, "unknown runtime expression"},
		{"$url.x", 4, "takes nothing"},
		{"$response.headers.Location", 9, ".header.<name> (singular)"},
		{"$response.header.Bad Name", 20, "not allowed in a header name"},
		{"$response.body#/a~2", 17, "~ in a JSON pointer"},
		{"$inputs", 7, "needs a name"},
		{"$message.body", 0, "is an Arazzo 1.1 expression"},
		{"$components.things.x", 12, "unknown component kind"},
		{"$workflows.w.steps.x", 12, "only .inputs"},
		{"$request.cookie.x", 8, "after $request expected"},
		{"$response.body.items[x]", 21, "non-negative integer"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Parse(tt.expr)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Offset != tt.offset || !strings.Contains(e.Msg, tt.msg) {
				t.Fatalf("got offset %d %q, want offset %d containing %q", e.Offset, e.Msg, tt.offset, tt.msg)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, s := range []string{"$response.body#token", "$response.body.items[0].id"} {
		e, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Warnings) != 1 {
			t.Fatalf("%s: want one warning, got %v", s, e.Warnings)
		}
	}
}

func TestTemplates(t *testing.T) {
	ctx := testContext(t, sampleBody)
	tests := []struct {
		in   string
		want any
		lit  bool
	}{
		{in: "$inputs.id", want: json.Number("5")},
		{in: "  $inputs.customer", want: map[string]any{"firstName": "Ann"}},
		{in: "Bearer {$outputs.token}", want: "Bearer t0"},
		{in: `{"id": {$inputs.id}, "name": "{$inputs.name}"}`, want: `{"id": 5, "name": "a"b"}`},
		{in: "c={$inputs.customer}", want: `c={"firstName":"Ann"}`},
		{in: "{$sourceDescriptions.api.url}#/paths/~1pets~1{petId}/get", want: "https://example.com/openapi.yaml#/paths/~1pets~1{petId}/get"},
		{in: "price: $5 {not an expr}", want: "price: $5 {not an expr}", lit: true},
		{in: "$100", want: "$100", lit: true},
		{in: "x{$inputs.missing}y", want: "xy"},
		{in: "big={$inputs.big}", want: "big=9007199254740993"},
		{in: "placed", want: "placed", lit: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tmpl, errs := ParseTemplate(tt.in)
			for _, e := range errs {
				if !e.Warning {
					t.Fatalf("unexpected error %v", e)
				}
			}
			if tmpl.IsLiteral() != tt.lit {
				t.Fatalf("IsLiteral = %v, want %v", tmpl.IsLiteral(), tt.lit)
			}
			got, _ := tmpl.Eval(ctx)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if _, errs := ParseTemplate("a {$steps.x.response} b"); len(errs) != 1 || errs[0].Warning || errs[0].Offset != 11 {
		t.Fatalf("a broken embed is an error at its offset, got %v", errs)
	}
	if _, errs := ParseTemplate("a {$inputs.x"); len(errs) != 1 || errs[0].Warning {
		t.Fatalf("an unclosed embed is an error, got %v", errs)
	}
}

func TestValueTemplate(t *testing.T) {
	ctx := testContext(t, sampleBody)
	v, errs := CompileValue(map[string]any{
		"petId":  "$inputs.id",
		"status": "placed",
		"who":    "{$inputs.customer#/firstName}!",
		"none":   "$inputs.missing",
		"list":   []any{"$inputs.id", "$inputs.missing", json.Number("3")},
		"nested": map[string]any{"c": "$inputs.customer"},
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	got, _ := v.Eval(ctx)
	want := map[string]any{
		"petId": json.Number("5"), "status": "placed", "who": "Ann!",
		"list":   []any{json.Number("5"), json.Number("3")},
		"nested": map[string]any{"c": map[string]any{"firstName": "Ann"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	_, errs = CompileValue(map[string]any{"a": []any{"$steps.x.bad"}})
	if len(errs) != 1 || errs[0].Path != "/a/0" {
		t.Fatalf("want one error at /a/0, got %v", errs)
	}
}
