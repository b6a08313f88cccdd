// Package schema checks Arazzo documents against the official Arazzo JSON
// Schema of the version they declare (1.0.x or 1.1.x) and validates
// workflow inputs against their JSON Schemas.
//
// Both embedded schemas are the published ones, unchanged on disk. Where
// the 1.0 schema contradicts the specification's prose (checklist §18) the
// prose wins; patchSpecSchema lists each correction made after loading it.
// The 1.1 schema fixed most of those contradictions and is used as
// published but for a regular expression Go cannot compile and the one
// contradiction left (patchSpec11Schema); the specification's own 1.1
// schema tests pin its verdicts.
package schema

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// The Arazzo schemas as published are YAML (the .yaml files here); the
// binary embeds the same trees as JSON, which decodes five times faster
// (0.18 against 0.84 ms for 1.0), a cost every never-seen document paid.
// TestSchemaJSONIsTheYAML checks they agree; -update rewrites the JSON.
var (
	//go:embed arazzo-1.0.schema.json
	specSchemaJSON []byte
	//go:embed arazzo-1.1.schema.json
	spec11SchemaJSON []byte
)

const (
	specSchemaURL   = "https://spec.openapis.org/arazzo/1.0/schema/2024-08-01"
	spec11SchemaURL = "https://spec.openapis.org/arazzo/1.1/schema/WORK-IN-PROGRESS"
)

// The compiled schemas are immutable once built, so one copy serves every
// goroutine; building one costs a few milliseconds, paid on first use (or
// early, on another goroutine: Prepare).
var (
	cache10 = &schemaCache{build: func() (*jsonschema.Schema, error) {
		return compileSpec(specSchemaJSON, specSchemaURL, patchSpecSchema, false)
	}}
	cache11 = &schemaCache{build: func() (*jsonschema.Schema, error) {
		return compileSpec(spec11SchemaJSON, spec11SchemaURL, patchSpec11Schema, false)
	}}
)

func compiled() (*jsonschema.Schema, error)   { return cache10.get() }
func compiled11() (*jsonschema.Schema, error) { return cache11.get() }

// schemaCache holds one compiled schema, which Release can drop.
type schemaCache struct {
	mu     sync.Mutex
	schema *jsonschema.Schema
	err    error
	build  func() (*jsonschema.Schema, error)
}

func (c *schemaCache) get() (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schema == nil && c.err == nil {
		c.schema, c.err = c.build()
	}
	return c.schema, c.err
}

// Release drops the compiled schemas; the next validation compiles them
// again. A program done loading documents (the CLI once its runs start)
// calls it so that every garbage collection stops walking them.
func Release() {
	for _, c := range []*schemaCache{cache10, cache11} {
		c.mu.Lock()
		c.schema, c.err = nil, nil
		c.mu.Unlock()
	}
}

// CacheKey is a document's key in a cache of documents that passed the
// schema: it digests the document's bytes with both embedded schemas and
// their patches' version, so a build with another schema never trusts an
// older verdict.
func CacheKey(data []byte) string {
	h := sha256.New()
	h.Write(schemasDigest())
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// patchVersion changes whenever patchSpecSchema or patchSpec11Schema do.
const patchVersion = "1"

var schemasDigest = sync.OnceValue(func() []byte {
	h := sha256.New()
	h.Write([]byte("arazzo schema cache " + patchVersion + "\x00"))
	// The validator's version too: another release may judge differently.
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/santhosh-tekuri/jsonschema/v6" {
				h.Write([]byte(m.Version + "\x00"))
			}
		}
	}
	h.Write(specSchemaJSON)
	h.Write([]byte{0})
	h.Write(spec11SchemaJSON)
	return h.Sum(nil)
})

// Prepare starts compiling the Arazzo 1.0 schema on another goroutine, so a
// program about to check a document (engine.LoadBytes, before it parses
// one the cache has not seen) overlaps those few milliseconds with its own
// work instead of waiting for them. Calling it more than once, or never,
// is fine.
func Prepare() { prepare() }

var prepare = sync.OnceFunc(func() { go compiled() })

func compileSpec(text []byte, url string, patch func(map[string]any), checkMeta bool) (*jsonschema.Schema, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	if patch != nil {
		patch(raw.(map[string]any))
	}
	c := jsonschema.NewCompiler()
	if !checkMeta {
		// The library checks every schema against its meta-schema except
		// its own meta-schemas, which it recognises by their json-schema.org
		// URL. The embedded schemas are constants that
		// TestEmbeddedSchemasAreValid checks against the 2020-12
		// meta-schema, so they are compiled under such a URL: checking them
		// again in every process cost 1.2 of the compile's 4.2 ms.
		delete(raw.(map[string]any), "$id")
		url = trustedURLPrefix + url
	}
	if err := c.AddResource(url, raw); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// trustedURLPrefix puts a schema where the library skips its meta-schema
// check; nothing is fetched from it.
const trustedURLPrefix = "https://json-schema.org/arazzo-go/trusted/"

// patchSpecSchema applies the prose-over-schema decisions of checklist §18.
// Changing it or patchSpec11Schema means changing patchVersion.
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

// patchSpec11Schema rewrites the one pattern of the 1.1 schema that RE2
// cannot compile: a dependsOn stepId is `^(?!\$).+$` (a negative
// lookahead), which is the same language as `^[^$\n].*$`. And where the
// schema contradicts the prose, as 1.0's did, the prose wins: a payload
// replacement value is "Any | {expression} | Selector Object", so a
// number or an object is allowed (the schema allows strings and Selector
// Objects only); an object with a selector must still be a valid one.
func patchSpec11Schema(root map[string]any) {
	defs := root["$defs"].(map[string]any)
	defs["payload-replacement-object"].(map[string]any)["properties"].(map[string]any)["value"] = map[string]any{
		"if":   map[string]any{"type": "object", "required": []any{"selector"}},
		"then": map[string]any{"$ref": "#/$defs/selector-object"},
	}
	step := defs["step-object-base"].(map[string]any)
	items := step["properties"].(map[string]any)["dependsOn"].(map[string]any)["items"].(map[string]any)
	first := items["oneOf"].([]any)[0].(map[string]any)
	if first["pattern"] == `^(?!\$).+$` {
		first["pattern"] = `^[^$\n].*$`
	}
}

var printer = message.NewPrinter(language.English)

// ValidateDocument checks the document against the Arazzo schema of the
// version it declares (the 1.0 schema when it declares none it knows) and
// returns one diagnostic per problem, placed at the offending field.
func ValidateDocument(doc *document.Document) diag.List {
	get := compiled
	if doc.Version == document.V11 {
		get = compiled11
	}
	sch, err := get()
	if err != nil {
		return diag.List{{File: doc.File, Line: 1, Column: 1, Severity: diag.Error, Rule: "schema", Message: "internal: cannot compile the Arazzo schema: " + err.Error()}}
	}
	return validateWith(doc, sch)
}

func validateWith(doc *document.Document, sch *jsonschema.Schema) diag.List {
	err := sch.Validate(doc.Raw)
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
