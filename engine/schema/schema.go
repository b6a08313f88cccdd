// Package schema checks Arazzo documents against the official Arazzo 1.0
// JSON Schema and validates workflow inputs against their JSON Schemas.
//
// The embedded schema is the published 2024-08-01 one, unchanged on disk.
// Where it contradicts the specification's prose (checklist §18) the prose
// wins; patchSpecSchema lists each correction made after loading it.
package schema

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

//go:embed arazzo-1.0.schema.yaml
var specSchemaYAML []byte

const specSchemaURL = "https://spec.openapis.org/arazzo/1.0/schema/2024-08-01"

// The compiled schema is immutable once built, so one copy serves every
// goroutine; building it costs a few milliseconds, paid on first use.
var cache struct {
	sync.Mutex
	schema *jsonschema.Schema
	err    error
}

func compiled() (*jsonschema.Schema, error) {
	cache.Lock()
	defer cache.Unlock()
	if cache.schema == nil && cache.err == nil {
		cache.schema, cache.err = compile()
	}
	return cache.schema, cache.err
}

// Release drops the compiled schema; the next validation compiles it again.
// It is for a program that has loaded its documents and goes on running
// (the CLI, once its runs start): the compiled schema is some 300 KB of
// small objects that every garbage collection would otherwise walk, a
// sixth of such a process's live heap.
func Release() {
	cache.Lock()
	cache.schema, cache.err = nil, nil
	cache.Unlock()
}

func compile() (*jsonschema.Schema, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(specSchemaYAML, &n); err != nil {
		return nil, err
	}
	raw, err := document.FromYAML(&n)
	if err != nil {
		return nil, err
	}
	patchSpecSchema(raw.(map[string]any))
	c := jsonschema.NewCompiler()
	if err := c.AddResource(specSchemaURL, raw); err != nil {
		return nil, err
	}
	return c.Compile(specSchemaURL)
}

// Prepare starts compiling the Arazzo schema on another goroutine, so a
// program that is about to load documents (the CLI, as it starts) overlaps
// those few milliseconds with its own start-up instead of waiting for them
// at the first document. Calling it more than once, or never, is fine.
func Prepare() { prepare() }

var prepare = sync.OnceFunc(func() { go compiled() })

// patchSpecSchema applies the prose-over-schema decisions of checklist §18.
func patchSpecSchema(root map[string]any) {
	defs := root["$defs"].(map[string]any)
	def := func(name string) map[string]any { return defs[name].(map[string]any) }

	// Criterion: `type` may be a plain string or a {type, version} object
	// (the prose; the schema's anyOf wrongly rejects the object), the flat
	// `version` field real documents use is tolerated, and `type: simple`
	// needs no context (C2; the validator still requires one for the
	// other types).
	crit := def("criterion-object")
	delete(crit, "anyOf")
	delete(crit, "dependentRequired")
	props := crit["properties"].(map[string]any)
	props["type"] = map[string]any{"anyOf": []any{
		map[string]any{"enum": []any{"simple", "regex", "jsonpath", "xpath"}},
		map[string]any{"$ref": "#/$defs/criterion-expression-type-object"},
	}}
	props["version"] = map[string]any{"type": "string"}

	// Payload replacement values are Any in the prose (B4).
	def("payload-replacement-object")["properties"].(map[string]any)["value"] = true

	// retry needs neither retryAfter nor a target (A6, as the maintained
	// v1.0-dev schema says); goto still needs exactly one target.
	fa := def("failure-action-object")
	fa["allOf"] = []any{map[string]any{
		"if":   map[string]any{"properties": map[string]any{"type": map[string]any{"const": "goto"}}},
		"then": map[string]any{"oneOf": []any{map[string]any{"required": []any{"workflowId"}}, map[string]any{"required": []any{"stepId"}}}},
	}}

	// Extra fields on a Reusable Object MUST be ignored (K4); the parser
	// warns about them instead.
	delete(def("reusable-object"), "unevaluatedProperties")
}

var printer = message.NewPrinter(language.English)

// ValidateDocument checks the document against the Arazzo schema and returns
// one diagnostic per problem, placed at the offending field.
func ValidateDocument(doc *document.Document) diag.List {
	sch, err := compiled()
	if err != nil {
		return diag.List{{File: doc.File, Line: 1, Column: 1, Severity: diag.Error, Rule: "schema", Message: "internal: cannot compile the Arazzo schema: " + err.Error()}}
	}
	err = sch.Validate(doc.Raw)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return diag.List{{File: doc.File, Line: 1, Column: 1, Severity: diag.Error, Rule: "schema", Message: err.Error()}}
	}
	var out diag.List
	seen := map[string]bool{}
	for _, leaf := range leaves(ve) {
		ptr := pointer(leaf.InstanceLocation)
		msg := leaf.ErrorKind.LocalizedString(printer)
		pos := doc.Index[ptr]
		// Point at the offending key, not its parent object, when the
		// error is about one named property.
		switch k := leaf.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			if len(k.Properties) > 0 {
				if p, ok := doc.Index[ptr+"/"+jsonpointer.Escape(k.Properties[0])+"#key"]; ok {
					pos = p
				}
				msg = fmt.Sprintf("unknown field %s", quoteAll(k.Properties))
			}
		case *kind.Required:
			msg = fmt.Sprintf("missing required field %s", quoteAll(k.Missing))
		case *kind.OneOf:
			if len(leaf.Causes) > 0 {
				var names []string
				for _, c := range leaf.Causes {
					names = append(names, c.ErrorKind.(*kind.Required).Missing...)
				}
				msg = fmt.Sprintf("exactly one of %s is required", quoteAll(names))
			} else if strings.Contains(leaf.SchemaURL, "step-object") {
				msg = `give exactly one of "operationId", "operationPath" or "workflowId"`
			} else if strings.Contains(leaf.SchemaURL, "action-object") {
				msg = `give exactly one of "stepId" or "workflowId"`
			}
		case *kind.FalseSchema:
			// unevaluatedProperties: false reports each unknown field as a
			// false schema at the field itself.
			if n := len(leaf.InstanceLocation); n > 0 {
				field := leaf.InstanceLocation[n-1]
				if p, ok := doc.Index[ptr+"#key"]; ok {
					pos = p
				}
				msg = fmt.Sprintf("unknown field %q (only x- extensions may be added)", field)
			}
		case *kind.PropertyNames:
			if p, ok := doc.Index[ptr+"/"+jsonpointer.Escape(k.Property)+"#key"]; ok {
				pos = p
			}
		}
		where := "at the document root"
		if ptr != "" {
			where = "at " + ptr
		}
		key := ptr + "\x00" + msg
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, diag.Diagnostic{
			File: doc.File, Line: pos.Line, Column: pos.Col, Severity: diag.Error,
			Rule: "schema", Message: msg + " (" + where + ")",
		})
	}
	return out
}

// leaves flattens a validation error to its most specific causes. Under
// oneOf/anyOf only the branch that got furthest into the instance is kept,
// so that a bad Success Action is not also reported as a bad Reusable Object.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		// "one of these fields is required": report it as one error.
		if allRequired(e.Causes) {
			return []*jsonschema.ValidationError{e}
		}
		var best []*jsonschema.ValidationError
		bestDepth, bestReusable := -1, false
		for _, c := range e.Causes {
			l := leaves(c)
			d := 0
			for _, x := range l {
				if len(x.InstanceLocation) > d {
					d = len(x.InstanceLocation)
				}
			}
			// On a tie, a Reusable Object branch loses: an object with a
			// `reference` never fails that way, so the other branch is what
			// the author meant.
			reusable := false
			for _, x := range l {
				reusable = reusable || strings.Contains(x.SchemaURL, "reusable-object")
			}
			if d > bestDepth || (d == bestDepth && (len(l) < len(best) || bestReusable) && !(reusable && !bestReusable)) {
				bestReusable = reusable
				best, bestDepth = l, d
			}
		}
		return best
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

func allRequired(causes []*jsonschema.ValidationError) bool {
	for _, c := range causes {
		if _, ok := c.ErrorKind.(*kind.Required); !ok || len(c.Causes) > 0 {
			return false
		}
	}
	return len(causes) > 0
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(jsonpointer.Escape(t))
	}
	return b.String()
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	sort.Strings(q)
	return strings.Join(q, ", ")
}
