package lint

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// bodyRead is a read of the response body at a pointer, and where it is
// written.
type bodyRead struct {
	text   string
	tokens []string
	pos    document.Pos
}

// bodyReads lists the step's reads of its own response body: in its
// outputs, success criteria and its inline actions' criteria.
func bodyReads(s *engine.Step) []bodyRead {
	var out []bodyRead
	add := func(es []*expr.Expression, pos document.Pos) {
		for _, e := range es {
			if e.Source != expr.SrcResponse || e.Part != "body" {
				continue
			}
			toks := append([]string(nil), e.Pointer...)
			for _, n := range e.Nav {
				if n.IsIdx {
					toks = append(toks, strconv.Itoa(n.Index))
				} else {
					toks = append(toks, n.Key)
				}
			}
			if len(toks) > 0 {
				out = append(out, bodyRead{text: e.Text, tokens: toks, pos: pos})
			}
		}
	}
	if o := s.Doc.Outputs; o != nil {
		for _, n := range o.Names {
			t, _ := expr.ParseTemplate(o.Values[n])
			add(t.Expressions(), o.At(n))
		}
	}
	for _, cr := range stepCriteria(s) {
		c, errs := expr.CompileCriterion(expr.CriterionSpec{Context: cr.Context, Condition: cr.Condition, Type: cr.Type, Version: cr.Version})
		if len(errs) > 0 {
			continue
		}
		// The member paths of a JSONPath condition over $response.body are
		// the compiler's (jsonpath-impossible, which lint reports too).
		add(c.Expressions(), cr.At("condition"))
	}
	return out
}

// stepCriteria are the step's success criteria and those of its inline
// actions.
func stepCriteria(s *engine.Step) []*document.Criterion {
	out := append([]*document.Criterion(nil), s.Doc.SuccessCriteria...)
	for _, list := range [][]*document.ActionRef{s.Doc.OnSuccess, s.Doc.OnFailure} {
		for _, a := range list {
			if a.Action != nil {
				out = append(out, a.Criteria...)
			}
		}
	}
	return out
}

// responseSchemas are the JSON schemas of the operation's responses, 2xx
// first; none when a response has a body of unknown shape.
func responseSchemas(op *openapi3.Operation) []*openapi3.Schema {
	if op.Responses == nil {
		return nil
	}
	codes := make([]string, 0, op.Responses.Len())
	for code := range op.Responses.Map() {
		codes = append(codes, code)
	}
	sort.Slice(codes, func(i, j int) bool {
		a, b := strings.HasPrefix(codes[i], "2"), strings.HasPrefix(codes[j], "2")
		if a != b {
			return a
		}
		return codes[i] < codes[j]
	})
	var out []*openapi3.Schema
	for _, code := range codes {
		r := op.Responses.Value(code)
		if r == nil || r.Value == nil {
			continue
		}
		for ct, mt := range r.Value.Content {
			if !engine.IsJSONMediaType(ct) || mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				// A body lint cannot see into (a file, a JSON body with no
				// schema): anything may be read from it.
				return nil
			}
			out = append(out, mt.Schema.Value)
		}
	}
	return out
}

func (l *linter) responseFields(s *engine.Step) {
	schemas := responseSchemas(s.Operation.Op)
	if len(schemas) == 0 {
		return
	}
	for _, r := range bodyReads(s) {
		why := ""
		possible := false
		for _, sch := range schemas {
			ok, reason := canHold(sch, r.tokens, "", 0)
			if ok {
				possible = true
				break
			}
			if why == "" {
				why = reason
			}
		}
		if !possible {
			l.report("response-field-unknown", r.pos, fmt.Sprintf("%s: no response of operation %s has it: %s", r.text, s.Operation, why))
		}
	}
}

// canHold says whether a value of schema sch can have something at the
// path tokens; when not, why (where the path leaves the schema).
func canHold(sch *openapi3.Schema, tokens []string, at string, depth int) (bool, string) {
	if sch == nil || len(tokens) == 0 || depth > 32 {
		return true, ""
	}
	// Composites: the value may be any branch (anyOf, oneOf) or holds the
	// members of every one (allOf): possible when any branch allows it.
	composite := false
	why := ""
	for _, refs := range []openapi3.SchemaRefs{sch.AllOf, sch.AnyOf, sch.OneOf} {
		for _, r := range refs {
			if r == nil || r.Value == nil {
				return true, ""
			}
			composite = true
			ok, reason := canHold(r.Value, tokens, at, depth+1)
			if ok {
				return true, ""
			}
			if why == "" {
				why = reason
			}
		}
	}
	tok := tokens[0]
	here := at + "/" + jsonpointer.Escape(tok)
	types := schemaTypes(sch)
	if sch.Items != nil && sch.Items.Value != nil {
		if _, err := strconv.Atoi(tok); err == nil || tok == "-" {
			return canHold(sch.Items.Value, tokens[1:], here, depth+1)
		}
	}
	if p := sch.Properties[tok]; p != nil {
		return canHold(p.Value, tokens[1:], here, depth+1)
	}
	ap := sch.AdditionalProperties
	switch {
	case ap.Schema != nil && ap.Schema.Value != nil:
		return canHold(ap.Schema.Value, tokens[1:], here, depth+1)
	case ap.Has != nil && *ap.Has:
		return true, ""
	case len(sch.PatternProperties) > 0:
		return true, ""
	}
	if len(sch.Properties) > 0 {
		names := slices.Sorted(maps.Keys(sch.Properties))
		return false, fmt.Sprintf("the schema at %s lists %s, not %q%s", orRoot(at), list(names, 8), tok, suggest(tok, names))
	}
	if composite {
		return false, why
	}
	if len(types) > 0 && !hasType(types, "object") && !hasType(types, "array") {
		return false, fmt.Sprintf("the value at %s is of type %s", orRoot(at), strings.Join(types, " or "))
	}
	if hasType(types, "array") && !hasType(types, "object") {
		if _, err := strconv.Atoi(tok); err != nil {
			return false, fmt.Sprintf("the value at %s is an array, indexed by number, not %q", orRoot(at), tok)
		}
	}
	return true, "" // a schema that does not say: anything may be there
}

func orRoot(at string) string {
	if at == "" {
		return "the root"
	}
	return at
}
