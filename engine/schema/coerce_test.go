package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCoerceCloseValues(t *testing.T) {
	raw := map[string]any{"inputs": map[string]any{"type": "object", "properties": map[string]any{
		"dryRun": map[string]any{"type": "boolean"},
		"count":  map[string]any{"type": "integer"},
		"ratio":  map[string]any{"type": "number"},
		"name":   map[string]any{"type": "string"},
		"flag":   map[string]any{"type": "string"},
	}}}
	in, err := CompileInputs("t.yaml", raw, "/inputs")
	if err != nil {
		t.Fatal(err)
	}
	got, notes := in.Coerce(map[string]any{"dryRun": "true", "count": "3", "ratio": "0.5", "name": json.Number("42"), "flag": false})
	if got["dryRun"] != true || got["count"] != json.Number("3") || got["ratio"] != json.Number("0.5") || got["name"] != "42" || got["flag"] != "false" {
		t.Errorf("coerced: %#v", got)
	}
	if len(notes) != 5 || !strings.Contains(strings.Join(notes, "\n"), "input dryRun: a string was given where the schema wants boolean; converted") {
		t.Errorf("notes: %q", notes)
	}
	if err := in.Validate(got); err != nil {
		t.Errorf("coerced inputs do not validate: %v", err)
	}
	// Not close: left as given, for Validate to refuse.
	for _, v := range []map[string]any{{"dryRun": "yes"}, {"count": "3.5"}, {"count": "three"}, {"name": map[string]any{}}} {
		got, notes := in.Coerce(v)
		if len(notes) != 0 || in.Validate(got) == nil {
			t.Errorf("%v: converted to %v (%q) or accepted", v, got, notes)
		}
	}
}
