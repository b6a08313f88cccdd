package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Coerce returns a copy of inputs where a top-level value is close to its
// declared type and unambiguous: the string "true" or "false" for a
// boolean, a numeric string for a number or integer, a number or boolean
// for a string. Each conversion is described in notes, so the caller can
// say what it did instead of refusing. Values of other shapes are left for
// Validate to judge.
func (in *Inputs) Coerce(inputs map[string]any) (map[string]any, []string) {
	props, _ := in.Properties()
	if len(props) == 0 {
		return inputs, nil
	}
	var out map[string]any
	var notes []string
	for name, v := range inputs {
		p, _ := props[name].(map[string]any)
		typ, _ := p["type"].(string)
		c, ok := coerce(v, typ)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(inputs))
			for k, x := range inputs {
				out[k] = x
			}
		}
		out[name] = c
		// The values stay out of the note: the input may be a secret.
		notes = append(notes, fmt.Sprintf("input %s: a %s was given where the schema wants %s; converted", name, jsonType(v), typ))
	}
	if out == nil {
		return inputs, nil
	}
	return out, notes
}

func coerce(v any, typ string) (any, bool) {
	switch typ {
	case "boolean":
		if s, ok := v.(string); ok {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil && (strings.EqualFold(strings.TrimSpace(s), "true") || strings.EqualFold(strings.TrimSpace(s), "false")) {
				return b, true
			}
		}
	case "integer", "number":
		if s, ok := v.(string); ok {
			n := json.Number(strings.TrimSpace(s))
			f, err := n.Float64()
			if err != nil || !json.Valid([]byte(n)) || (typ == "integer" && f != float64(int64(f))) {
				return nil, false
			}
			return n, true
		}
	case "string":
		switch x := v.(type) {
		case json.Number:
			return x.String(), true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		case int:
			return strconv.Itoa(x), true
		case int64:
			return strconv.FormatInt(x, 10), true
		case bool:
			return strconv.FormatBool(x), true
		}
	}
	return nil, false
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return "number"
}
