package lint

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
)

// docParam is a parameter as the document writes it, reusable references
// resolved, with where it is.
type docParam struct {
	name, in string
	value    any
	at       document.Pos // the name (or the reference)
	valueAt  document.Pos
}

func (l *linter) docParams(list []*document.ParameterRef) []docParam {
	var out []docParam
	for _, pr := range list {
		if pr.Reusable != nil {
			e, err := expr.Parse(strings.TrimSpace(pr.Reusable.Reference))
			comp := l.plan.Doc.Components
			if err != nil || e.Source != expr.SrcComponents || comp == nil || comp.Parameters[e.Name] == nil {
				continue // validate reports it
			}
			cp := comp.Parameters[e.Name]
			p := docParam{name: cp.Name, in: cp.In, value: cp.Value, at: pr.Reusable.At("reference"), valueAt: cp.At("value")}
			if pr.Reusable.HasValue {
				p.value, p.valueAt = pr.Reusable.Value, pr.Reusable.At("value")
			}
			out = append(out, p)
			continue
		}
		if pr.Parameter == nil {
			continue
		}
		out = append(out, docParam{name: pr.Name, in: pr.In, value: pr.Value, at: pr.At("name"), valueAt: pr.At("value")})
	}
	return out
}

// effectiveParams is the workflow's parameters overridden by the step's,
// as the engine merges them (by name alone for a workflow call).
func (l *linter) effectiveParams(w *engine.Workflow, s *engine.Step, byName bool) []docParam {
	key := func(p docParam) string {
		if byName {
			return p.name
		}
		if p.in == "header" {
			return p.in + "\x00" + strings.ToLower(p.name)
		}
		return p.in + "\x00" + p.name
	}
	step := l.docParams(s.Doc.Parameters)
	over := map[string]bool{}
	for _, p := range step {
		over[key(p)] = true
	}
	var out []docParam
	for _, p := range l.docParams(w.Doc.Parameters) {
		if !over[key(p)] {
			out = append(out, p)
		}
	}
	return append(out, step...)
}

// declaredParams are the operation's parameters, operation level over
// path-item level.
func declaredParams(op *source.Operation) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	seen := map[string]bool{}
	for _, list := range []openapi3.Parameters{op.Op.Parameters, op.PathItem.Parameters} {
		for _, ref := range list {
			p := ref.Value
			if p == nil {
				continue
			}
			k := p.In + "\x00" + p.Name
			if p.In == "header" {
				k = p.In + "\x00" + strings.ToLower(p.Name)
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// stepTarget is where a finding about the step as a whole points: its
// operationId, operationPath or workflowId.
func stepTarget(s *engine.Step) document.Pos {
	for _, f := range []string{"operationId", "operationPath", "workflowId"} {
		if s.Doc.Has(f) {
			return s.Doc.At(f)
		}
	}
	return s.Doc.Pos
}

func (l *linter) operationParams(w *engine.Workflow, s *engine.Step) {
	op := s.Operation
	decl := declaredParams(op)
	given := map[string]bool{}
	for _, p := range l.effectiveParams(w, s, false) {
		if p.in == "" {
			continue // validate reports the missing `in`
		}
		given[strings.ToLower(p.name)] = true
		d := op.Parameter(p.name, p.in)
		if d == nil {
			l.undeclaredParam(op, decl, p)
			continue
		}
		if d.Schema != nil {
			l.paramValue(w, op, d, p)
		}
	}
	for _, d := range decl {
		if !(d.Required || d.In == "path") || given[strings.ToLower(d.Name)] {
			continue
		}
		if d.In == "header" && (strings.EqualFold(d.Name, "Accept") || strings.EqualFold(d.Name, "Content-Type") || strings.EqualFold(d.Name, "Authorization")) {
			continue
		}
		l.report("parameter-missing", stepTarget(s), fmt.Sprintf("operation %s requires %s parameter %q, which step %q does not give", op, d.In, d.Name, s.ID))
	}
}

func (l *linter) undeclaredParam(op *source.Operation, decl []*openapi3.Parameter, p docParam) {
	var names []string
	for _, d := range decl {
		if strings.EqualFold(d.Name, p.name) {
			l.report("parameter-location", p.at, fmt.Sprintf("operation %s declares %q as a %s parameter, not %s: it would be sent where the API does not read it", op, d.Name, d.In, p.in))
			return
		}
		names = append(names, d.Name)
	}
	msg := fmt.Sprintf("operation %s does not declare %s parameter %q", op, p.in, p.name)
	if m := DidYouMean(p.name, names); m != "" {
		for _, d := range decl {
			if d.Name == m {
				msg += fmt.Sprintf(" (did you mean %s parameter %q?)", d.In, m)
				break
			}
		}
	} else if len(names) > 0 {
		msg += " (it declares " + list(names, 8) + ")"
	} else {
		msg += " (it declares no parameters)"
	}
	l.report("parameter-undeclared", p.at, msg)
}

// paramValue checks a value against a parameter's schema, as text on the
// wire.
func (l *linter) paramValue(w *engine.Workflow, op *source.Operation, d *openapi3.Parameter, p docParam) {
	sch := d.Schema.Value
	doc := op.Source.OpenAPI
	av := abstract(w, p.value)
	what := fmt.Sprintf("%s parameter %q", d.In, d.Name)
	switch {
	case av.kind == literalValue:
		v, ok := wireValue(sch, av.lit)
		if !ok {
			l.report("parameter-type", p.valueAt, fmt.Sprintf("%s is %s; the value %s is not one", what, typeList(sch), describeValue(av.lit)))
			return
		}
		if probs := visit(doc, sch, v); len(probs) > 0 {
			l.report("parameter-type", p.valueAt, fmt.Sprintf("%s: the value %s %s", what, describeValue(av.lit), probs[0].reason))
		}
	case av.kind == typedValue && len(av.enum) > 0:
		var bad []string
		for _, e := range av.enum {
			v, ok := wireValue(sch, e)
			if !ok || len(visit(doc, sch, v)) > 0 {
				bad = append(bad, describeValue(e))
			}
		}
		if len(bad) > 0 {
			l.report("parameter-type", p.valueAt, fmt.Sprintf("%s does not accept %s, which %s may be", what, strings.Join(bad, ", "), av.source))
		}
	case av.kind == typedValue && av.source != "":
		if !wireCompatible(sch, av.typ) {
			l.report("parameter-type", p.valueAt, fmt.Sprintf("%s is %s, but %s is of type %s", what, typeList(sch), av.source, av.typ))
		}
	}
}

func typeList(sch *openapi3.Schema) string {
	t := schemaTypes(sch)
	if len(t) == 0 {
		return "untyped"
	}
	return "of type " + strings.Join(t, " or ")
}

// calleeParams checks a workflow call's parameters against the called
// workflow's inputs schema.
func (l *linter) calleeParams(w *engine.Workflow, s *engine.Step) {
	callee := s.Callee
	if callee == nil || callee.Inputs == nil {
		return
	}
	props, required := callee.Inputs.Properties()
	var names []string
	for n := range props {
		names = append(names, n)
	}
	given := map[string]bool{}
	for _, p := range l.effectiveParams(w, s, true) {
		given[p.name] = true
		prop, declared := props[p.name].(map[string]any)
		if !declared {
			if len(props) > 0 {
				l.report("parameter-undeclared", p.at, fmt.Sprintf("workflow %q declares no input %q%s", callee.ID, p.name, suggest(p.name, names)))
			}
			continue
		}
		av := abstract(w, p.value)
		switch {
		case av.kind == literalValue:
			if msg := inputProblem(callee, p.name, av.lit); msg != "" {
				l.report("parameter-type", p.valueAt, fmt.Sprintf("input %q of workflow %q: %s", p.name, callee.ID, msg))
			}
		case av.kind == typedValue && len(av.enum) > 0:
			var bad []string
			for _, e := range av.enum {
				if inputProblem(callee, p.name, e) != "" {
					bad = append(bad, describeValue(e))
				}
			}
			if len(bad) > 0 {
				l.report("parameter-type", p.valueAt, fmt.Sprintf("input %q of workflow %q does not accept %s, which %s may be", p.name, callee.ID, strings.Join(bad, ", "), av.source))
			}
		case av.kind == typedValue:
			want, _ := prop["type"].(string)
			if want != "" && !jsonCompatible([]string{want}, av.typ) {
				from := "the value " + av.expr
				if av.source != "" {
					from = av.source
				}
				l.report("parameter-type", p.valueAt, fmt.Sprintf("input %q of workflow %q is of type %s, but %s is %s", p.name, callee.ID, want, from, av.typ))
			}
		}
	}
	sort.Strings(required)
	for _, r := range required {
		prop, _ := props[r].(map[string]any)
		if _, hasDefault := prop["default"]; given[r] || hasDefault {
			continue
		}
		l.report("parameter-missing", stepTarget(s), fmt.Sprintf("workflow %q requires input %q, which step %q does not give", callee.ID, r, s.ID))
	}
}

// inputProblem is why v cannot be input name of w, as the inputs schema
// says, or "".
func inputProblem(w *engine.Workflow, name string, v any) string {
	var ie *schema.InputError
	if !errors.As(w.Inputs.Validate(map[string]any{name: v}), &ie) {
		return ""
	}
	// Only what concerns this input; other inputs are simply not given here.
	prefix := "input " + name
	var msgs []string
	for _, part := range ie.Problems {
		if strings.HasPrefix(part, prefix+":") || strings.HasPrefix(part, prefix+".") {
			msgs = append(msgs, strings.TrimSpace(strings.TrimPrefix(part, prefix+":")))
		}
	}
	return strings.Join(msgs, "; ")
}
