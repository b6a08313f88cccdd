package lint

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// What lint can know of a value before running: a literal; a workflow
// input, whose declared type and enum are known; or nothing.
type valueKind int

const (
	unknownValue valueKind = iota
	literalValue
	typedValue // of type typ (maybe ""), one of enum when that is set
)

type abstractValue struct {
	kind valueKind
	lit  any
	typ  string
	enum []any
	// source names where a typed value comes from, for messages: input
	// "size", or $steps.list.outputs.id; "" for text around expressions.
	source string
	expr   string // the expression as written
}

// abstract says what raw (a parameter value or payload leaf as written)
// will be at run time.
func abstract(w *engine.Workflow, raw any) abstractValue {
	s, ok := raw.(string)
	if !ok {
		return abstractValue{kind: literalValue, lit: raw}
	}
	t, errs := expr.ParseTemplate(s)
	if len(errs) > 0 {
		return abstractValue{}
	}
	if t.IsLiteral() {
		return abstractValue{kind: literalValue, lit: s}
	}
	es := t.Expressions()
	trimmed := strings.TrimSpace(s)
	whole := len(es) == 1 && strings.HasPrefix(trimmed, "$") && !strings.Contains(s, "{$")
	if !whole {
		// Text around an expression: a string, of unknown content.
		return abstractValue{kind: typedValue, typ: "string", expr: s}
	}
	e := es[0]
	if e.HasPointer || len(e.Nav) > 0 || w == nil {
		return abstractValue{expr: trimmed}
	}
	av := abstractValue{kind: typedValue, expr: trimmed, source: e.Text}
	switch e.Source {
	case expr.SrcInputs:
		if w.Inputs == nil {
			return abstractValue{expr: trimmed}
		}
		props, _ := w.Inputs.Properties()
		p, _ := props[e.Name].(map[string]any)
		if p == nil {
			return abstractValue{expr: trimmed}
		}
		av.source = fmt.Sprintf("input %q", e.Name)
		av.typ, _ = p["type"].(string)
		av.enum, _ = p["enum"].([]any)
		if c, ok := p["const"]; ok {
			av.enum = []any{c}
		}
	case expr.SrcStatusCode:
		av.typ = "integer"
	case expr.SrcURL, expr.SrcMethod:
		av.typ = "string"
	case expr.SrcRequest, expr.SrcResponse:
		if e.Part == "body" {
			return abstractValue{expr: trimmed}
		}
		av.typ = "string" // a header, query or path value is text
	case expr.SrcSteps:
		typ, enum := stepOutputType(w, e.ID, e.Name)
		if typ == "" && len(enum) == 0 {
			return abstractValue{expr: trimmed}
		}
		av.typ, av.enum = typ, enum
	default:
		return abstractValue{expr: trimmed}
	}
	return av
}

// stepOutputType is the JSON type (and enum) of a step's output when the
// output reads a field of the step's response body whose schema says: the
// same type in every successful response that has the field.
func stepOutputType(w *engine.Workflow, stepID, output string) (string, []any) {
	s := w.Step(stepID)
	if s == nil || s.Operation == nil || s.Doc.Outputs == nil {
		return "", nil
	}
	t, errs := expr.ParseTemplate(strings.TrimSpace(s.Doc.Outputs.Values[output]))
	es := t.Expressions()
	if len(errs) > 0 || len(es) != 1 || es[0].Source != expr.SrcResponse || es[0].Part != "body" || len(es[0].Nav) > 0 ||
		!strings.HasPrefix(strings.TrimSpace(s.Doc.Outputs.Values[output]), "$") {
		return "", nil
	}
	typ := ""
	var enum []any
	for _, sch := range engine.SuccessJSONSchemas(s.Operation.Op) {
		leaf := schemaAt(sch, es[0].Pointer, 0)
		if leaf == nil {
			continue
		}
		types := schemaTypes(leaf)
		if len(types) != 1 || (typ != "" && typ != types[0]) {
			return "", nil
		}
		typ, enum = types[0], leaf.Enum
	}
	return typ, enum
}

// sentinel is a value of JSON type typ, standing for any value of it.
func sentinel(typ string) (any, bool) {
	switch typ {
	case "string":
		return "", true
	case "integer", "number":
		return float64(0), true
	case "boolean":
		return false, true
	case "object":
		return map[string]any{}, true
	case "array":
		return []any{}, true
	case "null":
		return nil, true
	}
	return nil, false
}

// plainJSON turns a document value (json.Number and all) into what the
// OpenAPI validator takes: encoding/json's own types.
func plainJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// schemaProblem is one way a value breaks a schema.
type schemaProblem struct {
	pointer string // JSON pointer of the value inside what was validated
	keyword string // the schema keyword it broke: type, enum, required…
	reason  string
}

// visit validates v against an OpenAPI schema with kin-openapi's
// validator, in the description's dialect (JSON Schema 2020-12 for 3.1).
func visit(doc *openapi3.T, sch *openapi3.Schema, v any) []schemaProblem {
	if sch == nil {
		return nil
	}
	opts := []openapi3.SchemaValidationOption{openapi3.MultiErrors(), openapi3.VisitAsRequest()}
	if doc != nil && doc.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	err := safeVisit(sch, plainJSON(v), opts)
	if err == nil {
		return nil
	}
	var out []schemaProblem
	var walk func(error)
	walk = func(err error) {
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			var b strings.Builder
			for _, p := range se.JSONPointer() {
				b.WriteString("/" + jsonpointer.Escape(p))
			}
			out = append(out, schemaProblem{pointer: b.String(), keyword: se.SchemaField, reason: se.Reason})
			return
		}
		out = append(out, schemaProblem{reason: err.Error()})
	}
	walk(err)
	return out
}

// safeVisit guards against a panic inside the validator on a hostile
// description.
func safeVisit(sch *openapi3.Schema, v any, opts []openapi3.SchemaValidationOption) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = nil // a description the validator cannot handle is not the workflow's fault
		}
	}()
	return sch.VisitJSON(v, opts...)
}

// schemaTypes is the set of JSON types a schema allows ("" in it when any).
func schemaTypes(sch *openapi3.Schema) []string {
	if sch == nil || sch.Type == nil || len(*sch.Type) == 0 {
		return nil
	}
	return *sch.Type
}

func hasType(types []string, t string) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// wireValue is a literal as a path, query, header or cookie parameter
// carries it, read back as the schema's type: parameters travel as text,
// so 42 and "42" are the same value there. ok is false when the text
// cannot be read as the type.
func wireValue(sch *openapi3.Schema, lit any) (any, bool) {
	types := schemaTypes(sch)
	switch lit.(type) {
	case map[string]any, []any, nil:
		return lit, true
	}
	text := expr.Text(lit)
	if len(types) == 0 || hasType(types, "string") {
		return text, true
	}
	if hasType(types, "integer") || hasType(types, "number") {
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f, true
		}
	}
	if hasType(types, "boolean") {
		if b, err := strconv.ParseBool(text); err == nil {
			return b, true
		}
	}
	if hasType(types, "array") {
		return []any{text}, true
	}
	return text, false
}

// wireCompatible says whether a value of JSON type typ can satisfy a
// parameter schema once written as text.
func wireCompatible(sch *openapi3.Schema, typ string) bool {
	types := schemaTypes(sch)
	if len(types) == 0 || typ == "" || typ == "string" || hasType(types, "string") || hasType(types, typ) {
		return true
	}
	switch typ {
	case "integer":
		return hasType(types, "number") || hasType(types, "array")
	case "number":
		return hasType(types, "integer") || hasType(types, "array") // 2.0 is an integer
	case "boolean":
		return hasType(types, "array")
	}
	return false
}

// jsonCompatible says whether a JSON value of type typ can satisfy a
// schema that allows types (integer is a number; a number may be whole).
func jsonCompatible(types []string, typ string) bool {
	if len(types) == 0 || typ == "" || hasType(types, typ) {
		return true
	}
	return (typ == "integer" && hasType(types, "number")) || (typ == "number" && hasType(types, "integer"))
}

func describeValue(v any) string {
	b, err := json.Marshal(plainJSON(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
