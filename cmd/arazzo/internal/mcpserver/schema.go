package mcpserver

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// inputSchema is a workflow's `inputs` schema as a tool's input schema:
// every local $ref inlined (agent hosts rarely follow references into a
// document they never see) and secret inputs marked writeOnly, the JSON
// Schema word for "sent, never shown back", so a host can treat them as
// credentials. Arguments are still validated by the engine against the
// document's own schema, as `run` validates --input.
func inputSchema(w *engine.Workflow) (map[string]any, error) {
	if w.Doc.Inputs == nil {
		return map[string]any{"type": "object"}, nil
	}
	s, _ := inline(w.Plan.Doc.Raw, w.Doc.Inputs, nil).(map[string]any)
	if s == nil {
		return nil, fmt.Errorf("workflow %s: its inputs are not a JSON Schema object", w.ID)
	}
	switch t := s["type"]; t {
	case nil:
		s["type"] = "object"
	case "object":
	default:
		return nil, fmt.Errorf("workflow %s: its inputs schema has type %v, but a tool's arguments are an object", w.ID, t)
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, p := range props {
			if pm, ok := p.(map[string]any); ok && w.SecretInput(name) {
				pm["writeOnly"] = true
			}
		}
	}
	return s, nil
}

// inline copies a schema with local $refs replaced by what they point at.
// A reference back into a schema being inlined (a recursive type) cannot be
// inlined: it becomes an unconstrained schema saying so.
func inline(root, v any, seen []string) any {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
			if slices.Contains(seen, ref) {
				return map[string]any{"description": "recursive: the schema at " + ref}
			}
			target, ok := jsonpointer.Lookup(root, ref[1:])
			if !ok {
				return v
			}
			out, _ := inline(root, target, append(seen, ref)).(map[string]any)
			if out == nil {
				return target
			}
			for k, sib := range v { // 2020-12 allows keywords beside $ref
				if k != "$ref" {
					out[k] = inline(root, sib, seen)
				}
			}
			return out
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = inline(root, e, seen)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = inline(root, e, seen)
		}
		return out
	}
	return v
}

// outputSchema describes the structured content a successful call returns:
// an object with the workflow's outputs, each typed where the type can be
// known before running (an input's declared type, a status code, a field
// of the operation's documented 2xx response, through step and workflow
// outputs). Where it cannot, the output is left unconstrained rather than
// guessed: a client validates structured content against this schema.
// Outputs are not required, since one whose expression finds nothing is
// left out of the result.
func outputSchema(w *engine.Workflow) map[string]any {
	props := map[string]any{}
	for _, o := range w.Outputs {
		props[o.Name] = typeOf(w, nil, o.Value.Template(), nil, 0)
	}
	return map[string]any{"type": "object", "properties": props}
}

// outputCheck compiles an output schema, to check each result against it
// before it goes out: the specification has a server's structured content
// conform to the schema it declares, and hosts reject what does not.
func outputCheck(s map[string]any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const url = "urn:arazzo:outputs"
	if err := c.AddResource(url, s); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// mismatch says how outputs break their schema, in one line per problem.
func mismatch(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, fmt.Sprintf("output %s: %s", strings.Join(e.InstanceLocation, "/"), e.ErrorKind.LocalizedString(printer)))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(out, "; ")
}

var printer = message.NewPrinter(language.English)

// maxDepth bounds how far typeOf follows outputs through steps and
// workflows (a document that refers in circles).
const maxDepth = 16

// typeOf is the schema of the value template t yields in workflow w (and
// step s, for $response), navigated further by ptr.
func typeOf(w *engine.Workflow, s *engine.Step, t *expr.Template, ptr []string, depth int) map[string]any {
	unknown := map[string]any{}
	if t == nil || depth > maxDepth || t.IsLiteral() {
		return unknown
	}
	es := t.Expressions()
	if len(es) != 1 || strings.TrimSpace(t.Text) != es[0].Text {
		if len(ptr) > 0 {
			return unknown
		}
		return map[string]any{"type": "string"} // text with embedded expressions
	}
	e := es[0]
	if len(e.Nav) > 0 {
		return unknown
	}
	ptr = append(slices.Clone(e.Pointer), ptr...)
	switch e.Source {
	case expr.SrcStatusCode:
		if len(ptr) == 0 {
			return map[string]any{"type": "integer"}
		}
	case expr.SrcInputs:
		return inputTypeOf(w, append([]string{e.Name}, ptr...))
	case expr.SrcSteps:
		if st := w.Step(e.ID); st != nil {
			if o := outputNamed(st.Outputs, e.Name); o != nil {
				return typeOf(w, st, o.Value.Template(), ptr, depth+1)
			}
		}
	case expr.SrcWorkflows:
		if callee := w.Plan.Workflow(e.ID); callee != nil {
			switch e.Part {
			case "outputs":
				if o := outputNamed(callee.Outputs, e.Name); o != nil {
					return typeOf(callee, nil, o.Value.Template(), ptr, depth+1)
				}
			case "inputs":
				return inputTypeOf(callee, append([]string{e.Name}, ptr...))
			}
		}
	case expr.SrcOutputs: // a step that calls a workflow reads its outputs
		if s != nil && s.Callee != nil {
			if o := outputNamed(s.Callee.Outputs, e.Name); o != nil {
				return typeOf(s.Callee, nil, o.Value.Template(), ptr, depth+1)
			}
		}
	case expr.SrcResponse:
		if s == nil || s.Operation == nil {
			break
		}
		switch e.Part {
		case "body":
			return openAPIType(navigate(responseSchema(s.Operation.Op), ptr))
		case "header":
			if len(ptr) == 0 {
				return map[string]any{"type": "string"}
			}
		}
	}
	return unknown
}

func outputNamed(outs []engine.Output, name string) *engine.Output {
	for i := range outs {
		if outs[i].Name == name {
			return &outs[i]
		}
	}
	return nil
}

// inputTypeOf is the type at ptr inside a workflow's inputs object.
func inputTypeOf(w *engine.Workflow, ptr []string) map[string]any {
	s, err := inputSchema(w)
	if err != nil {
		return map[string]any{}
	}
	var cur any = s
	for _, tok := range ptr {
		m, _ := cur.(map[string]any)
		if props, ok := m["properties"].(map[string]any); ok && props[tok] != nil {
			cur = props[tok]
		} else if _, isIdx := jsonpointer.Index(tok); isIdx && m["items"] != nil {
			cur = m["items"]
		} else {
			return map[string]any{}
		}
	}
	m, _ := cur.(map[string]any)
	out := map[string]any{}
	if t, ok := m["type"]; ok {
		out["type"] = t
	}
	if d, ok := m["description"].(string); ok {
		out["description"] = d
	}
	return out
}

// responseSchema is the body schema of an operation's first documented
// success response, preferring a JSON media type.
func responseSchema(op *openapi3.Operation) *openapi3.Schema {
	if op == nil || op.Responses == nil {
		return nil
	}
	codes := slices.Sorted(maps.Keys(op.Responses.Map()))
	for _, code := range codes {
		if n, err := strconv.Atoi(code); (err != nil && code != "2XX") || (err == nil && (n < 200 || n > 299)) {
			continue
		}
		r := op.Responses.Value(code)
		if r == nil || r.Value == nil {
			continue
		}
		var fallback *openapi3.Schema
		for _, mt := range slices.Sorted(maps.Keys(r.Value.Content)) {
			m := r.Value.Content[mt]
			if m == nil || m.Schema == nil || m.Schema.Value == nil {
				continue
			}
			if strings.Contains(mt, "json") {
				return m.Schema.Value
			}
			if fallback == nil {
				fallback = m.Schema.Value
			}
		}
		if fallback != nil {
			return fallback
		}
	}
	return nil
}

// navigate follows a JSON pointer through an OpenAPI schema's properties
// and items.
func navigate(s *openapi3.Schema, ptr []string) *openapi3.Schema {
	for _, tok := range ptr {
		if s == nil {
			return nil
		}
		if p := s.Properties[tok]; p != nil {
			s = p.Value
		} else if _, isIdx := jsonpointer.Index(tok); isIdx && s.Items != nil {
			s = s.Items.Value
		} else {
			return nil
		}
	}
	return s
}

// openAPIType keeps only what an OpenAPI schema says of a value's type
// (OpenAPI 3.0 keywords such as nullable are not JSON Schema 2020-12).
func openAPIType(s *openapi3.Schema) map[string]any {
	out := map[string]any{}
	if s == nil {
		return out
	}
	var types []any
	if s.Type != nil {
		for _, t := range *s.Type {
			types = append(types, t)
		}
	} else if len(s.Properties) > 0 {
		types = append(types, "object")
	}
	if s.Nullable && len(types) > 0 {
		types = append(types, "null")
	}
	switch len(types) {
	case 0:
	case 1:
		out["type"] = types[0]
	default:
		out["type"] = types
	}
	if s.Description != "" {
		out["description"] = s.Description
	}
	return out
}
