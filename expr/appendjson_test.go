package expr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// AppendJSON must produce exactly what json.Marshal (HTML escaping off)
// makes of Eval's result.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ctx := testContext(t, sampleBody)
	payloads := []any{
		map[string]any{"b": "$inputs.id", "a": "x<y>&\"q\"\n\t\u2028\x01", "c": []any{"$inputs.missing", json.Number("1.5e3"), true, nil}, "d": "$inputs.missing", "e": map[string]any{}, "f": "$inputs.customer"},
		[]any{"$inputs.name", "{$inputs.id}-x", map[string]any{"z": "$inputs.big"}},
		"$inputs.customer", "plain", json.Number("42"), nil, false,
		map[string]any{"only": "$inputs.missing"},
		"bad \xff utf8",
	}
	for _, p := range payloads {
		v, errs := CompileValue(p)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		got, ok, err := v.AppendJSON(nil, ctx)
		val, vok := v.Eval(ctx)
		if ok != vok || err != nil {
			t.Fatalf("%v: ok %v/%v err %v", p, ok, vok, err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(val)
		if string(got) != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Errorf("%v:\n got %s\nwant %s", p, got, want.Bytes())
		}
	}
}
