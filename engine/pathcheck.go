package engine

import (
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr"
)

// A jsonpath condition over $response.body whose path the operation's
// response schema shows cannot exist is always false: a poll on it never
// ends. Where the description is explicit enough to tell (an object schema
// that lists its properties and does not allow others), validate warns.

var (
	quotedRE  = regexp.MustCompile(`"[^"]*"|'[^']*'`)
	dotPathRE = regexp.MustCompile(`\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)
)

func (c *compiler) checkJSONPath(cr *document.Criterion, ce *expr.Criterion) {
	s := c.curStep
	if s == nil || s.Operation == nil || ce.Kind != expr.JSONPath || strings.TrimSpace(cr.Context) != "$response.body" {
		return
	}
	schemas := SuccessJSONSchemas(s.Operation.Op)
	if len(schemas) == 0 {
		return
	}
	cond := quotedRE.ReplaceAllString(cr.Condition, `""`)
	for _, m := range dotPathRE.FindAllStringSubmatch(cond, -1) {
		names := strings.Split(strings.TrimPrefix(m[1], "."), ".")
		if names[len(names)-1] == "length" {
			names = names[:len(names)-1] // the Goessner length of what precedes
		}
		possible := false
		for _, sc := range schemas {
			if mayHave(sc, names, 0) {
				possible = true
				break
			}
		}
		if !possible {
			c.warnf(cr.At("condition"), "jsonpath-impossible", "$%s cannot exist in a successful response of %s (its schema has no such property), so this condition is always false", m[1], s.Operation)
		}
	}
}

// SuccessJSONSchemas are the schemas of the operation's 2xx JSON
// responses (IsJSONMediaType): what a criterion on $response.body reads.
func SuccessJSONSchemas(op *openapi3.Operation) []*openapi3.Schema {
	if op == nil || op.Responses == nil {
		return nil
	}
	var out []*openapi3.Schema
	for code, r := range op.Responses.Map() {
		if !strings.HasPrefix(code, "2") || r == nil || r.Value == nil {
			continue
		}
		for ct, mt := range r.Value.Content {
			if IsJSONMediaType(ct) && mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
				out = append(out, mt.Schema.Value)
			}
		}
	}
	return out
}

// mayHave reports whether a value of schema sc may have the member path
// names. A schema that lists properties (itself or through allOf, anyOf,
// oneOf) and does not explicitly allow others says which members exist;
// a schema of another type than object has none; anything else may.
func mayHave(sc *openapi3.Schema, names []string, depth int) bool {
	if sc == nil || len(names) == 0 || depth > 32 {
		return true
	}
	var props []*openapi3.Schema
	listed, open, object := false, false, sc.Type == nil || sc.Type.Includes("object") || len(sc.Type.Slice()) == 0
	var collect func(x *openapi3.Schema, d int)
	collect = func(x *openapi3.Schema, d int) {
		if x == nil || d > 8 {
			return
		}
		if len(x.Properties) > 0 {
			listed = true
		}
		if p, ok := x.Properties[names[0]]; ok {
			props = append(props, p.Value)
		}
		if (x.AdditionalProperties.Has != nil && *x.AdditionalProperties.Has) || x.AdditionalProperties.Schema != nil {
			open = true
		}
		for _, group := range []openapi3.SchemaRefs{x.AllOf, x.AnyOf, x.OneOf} {
			for _, sub := range group {
				collect(sub.Value, d+1)
			}
		}
	}
	collect(sc, 0)
	for _, p := range props {
		if mayHave(p, names[1:], depth+1) {
			return true
		}
	}
	if len(props) > 0 {
		return false
	}
	if !object {
		return false
	}
	return !listed || open
}
