package engine

import (
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Compiling the parts of steps and workflows: parameters, request
// bodies, criteria and actions, each expression parsed once.

// parameters compiles a parameter list (workflow-level when s is nil).
func (c *compiler) parameters(list []*document.ParameterRef, s *Step, level string) []*Param {
	var out []*Param
	seen := map[string]document.Pos{}
	for _, pr := range list {
		p, valueAt := pr.Parameter, document.Pos{}
		var raw any
		if pr.Reusable != nil {
			cp, _ := c.component(pr.Reusable, "parameters").(*document.Parameter)
			if cp == nil {
				continue
			}
			p, raw, valueAt = cp, cp.Value, cp.At("value")
			if pr.Reusable.HasValue {
				raw, valueAt = pr.Reusable.Value, pr.Reusable.At("value")
			}
		} else {
			raw, valueAt = p.Value, p.At("value")
		}
		at := p.At("name")
		if pr.Reusable != nil {
			at = pr.Reusable.At("reference")
		}
		if s != nil {
			switch {
			case s.Callee == nil && p.In == "" && (s.Operation != nil || s.Doc.OperationID != "" || s.Doc.OperationPath != ""):
				c.errorf(p.Pos, "parameter-in", "parameter %q needs `in` (%s) on a step that calls an operation", p.Name, c.locations())
			case s.Callee != nil && p.In != "":
				c.errorf(p.At("in"), "parameter-in", "parameter %q is an input of workflow %q: remove `in: %s` (parameters of a step that calls a workflow have no location)", p.Name, s.Doc.WorkflowID, p.In)
			}
		}
		key := paramKey(p.Name, p.In)
		if prev, dup := seen[key]; dup {
			c.errorf(at, "duplicate-parameter", "parameter %q (in: %s) is already given at line %d of this %s's parameters", p.Name, orNone(p.In), prev.Line, level)
			continue
		}
		seen[key] = at
		v := c.value(raw, valueAt, true)
		prm := &Param{Name: p.Name, In: p.In, Value: v}
		if s != nil && s.Operation != nil && p.In == "channel" {
			c.errorf(p.At("in"), "parameter-in", "parameter %q: in: channel is for AsyncAPI steps; an OpenAPI operation takes %s", p.Name, c.locations())
		}
		if s != nil && s.Operation != nil && s.Source != nil && p.In != "" {
			if l, ok := s.Source.Protocol.(protocol.ParamLinter); ok {
				if msg := l.LintParam(s.Operation, p.Name, p.In); msg != "" {
					c.warnf(at, "protocol-parameter", "%s", msg)
				}
			}
		}
		if s != nil && s.Operation != nil && p.In != "" {
			prm.Decl = s.Operation.Parameter(p.Name, p.In)
			if prm.Decl == nil && p.In == "path" {
				if d := pathParamLike(s.Operation, p.Name); d != nil {
					c.dialectf(at, "dialect-parameter-name", "path parameter %q is declared as %q in operation %s; it is sent as %q (write name: %s)", p.Name, d.Name, s.Operation, d.Name, d.Name)
					prm.Name, prm.Decl = d.Name, d
				}
			}
			if prm.Decl == nil {
				c.warnf(at, "parameter-undeclared", "operation %s does not declare %s parameter %q; it is sent anyway", s.Operation, p.In, p.Name)
			}
			if t := c.valueType(s.Workflow, raw); t == "object" && (prm.Decl == nil || prm.Decl.Style == "") {
				c.warnf(valueAt, "parameter-object-value", "%s parameter %q gets an %s value; it is serialized with OpenAPI's default style for %s parameters (declare a style in the OpenAPI description to choose another)", p.In, p.Name, t, p.In)
			}
		}
		out = append(out, prm)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// paramKey is a parameter's identity: name and location, header names
// compared without case.
func paramKey(name, in string) string {
	if in == "header" {
		name = strings.ToLower(name)
	}
	return in + "\x00" + name
}

// mergeParams applies step parameters over workflow parameters with the
// same identity. For a step that calls a workflow, every parameter is an
// input and is matched by name alone.
func mergeParams(wf, step []*Param, byName bool) []*Param {
	key := func(p *Param) string {
		if byName {
			return p.Name
		}
		return paramKey(p.Name, p.In)
	}
	over := map[string]bool{}
	for _, p := range step {
		over[key(p)] = true
	}
	var out []*Param
	for _, p := range wf {
		if !over[key(p)] {
			out = append(out, p)
		}
	}
	return append(out, step...)
}

func (c *compiler) body(rb *document.RequestBody, s *Step) *Body {
	b := &Body{ContentType: rb.ContentType, HasPayload: rb.HasPayload}
	if b.ContentType == "" && s.Operation != nil && s.Operation.Op.RequestBody != nil && s.Operation.Op.RequestBody.Value != nil {
		var types []string
		for t := range s.Operation.Op.RequestBody.Value.Content {
			types = append(types, t)
		}
		sort.Strings(types)
		if len(types) > 0 {
			b.ContentType = types[0]
			c.warnf(rb.Pos, "request-body-content-type", "requestBody has no contentType; %s from the operation is used", b.ContentType)
		}
	}
	if text, ok := rb.Payload.(string); ok {
		for _, m := range quotedEmbedRE.FindAllStringSubmatch(text, -1) {
			if t := c.inputType(s.Workflow, m[1]); t == "object" || t == "array" {
				c.warnf(rb.At("payload"), "embed-quoted-object", "%s embeds an %s inside quotes: it is inserted as compact JSON within the string, which is not valid JSON; drop the quotes", m[0], t)
			}
		}
	}
	if rb.HasPayload {
		b.Payload = c.value(rb.Payload, rb.At("payload"), true)
	}
	for _, r := range rb.Replacements {
		if r.Target == "" {
			continue
		}
		rep, done := c.replacement11(r, b.ContentType)
		if done {
			b.Replacements = append(b.Replacements, rep)
			continue
		}
		if IsJSONMediaType(b.ContentType) || !isXMLType(b.ContentType) {
			if !strings.HasPrefix(r.Target, "/") {
				c.errorf(r.At("target"), "replacement-target", "replacement target %q is not a JSON pointer (it must start with /)", r.Target)
			} else if _, err := jsonpointer.Split(r.Target); err != nil {
				c.errorf(r.At("target"), "replacement-target", "replacement target %q: %s", r.Target, err.(*jsonpointer.SyntaxError).Msg)
			}
		}
		b.Replacements = append(b.Replacements, Replacement{Target: r.Target, Value: c.value(r.Value, r.At("value"), true)})
	}
	return b
}

func (c *compiler) criterion(cr *document.Criterion) *Criterion {
	ce, errs := expr.CompileCriterion(expr.CriterionSpec{Context: cr.Context, Condition: cr.Condition, Type: cr.Type, Version: cr.Version, Arazzo: c.ver})
	if ce.Unsupported != "" {
		c.unsupported(cr.At("type"), ce.Unsupported)
	}
	for _, e := range errs {
		pos := cr.At(e.Field)
		rule := "criterion"
		if e.Field == "context" && cr.Context != "" {
			rule = "expression"
		}
		if e.Field == "condition" && (ce.Kind == expr.Simple) {
			rule = "condition"
		}
		c.exprDiag(pos, e.Error, rule)
	}
	c.track(cr.At("condition"), false, ce.Expressions()...)
	c.checkJSONPath(cr, ce)
	return &Criterion{Criterion: ce, File: c.doc.File, Pos: cr.Pos}
}

// actions compiles an action list, resolving reusable references and
// targets. Targets that are steps must be in w.
func (c *compiler) actions(w *Workflow, list []*document.ActionRef, failure bool) []*Action {
	kind := "successActions"
	if failure {
		kind = "failureActions"
	}
	var out []*Action
	seen := map[string]document.Pos{}
	for _, ar := range list {
		a, at := ar.Action, document.Pos{}
		if ar.Reusable != nil {
			a, _ = c.component(ar.Reusable, kind).(*document.Action)
			if a == nil {
				continue
			}
			at = ar.Reusable.At("reference")
		} else {
			at = a.At("name")
		}
		if prev, dup := seen[a.Name]; dup && a.Name != "" {
			c.errorf(at, "duplicate-action", "action name %q is already used at line %d of this list", a.Name, prev.Line)
			continue
		}
		seen[a.Name] = at
		act := &Action{Name: a.Name, Type: ActionType(a.Type), StepID: a.StepID, RetryLimit: 1}
		switch a.Type {
		case "end", "goto":
		case "retry":
			if !failure {
				c.errorf(a.At("type"), "action-type", "retry is a failure action; on success use end or goto")
			}
		}
		if a.RetryAfter != nil {
			act.RetryAfter = *a.RetryAfter
		}
		if a.RetryLimit != nil {
			act.RetryLimit = int(*a.RetryLimit)
		}
		if a.Type == "goto" || a.Type == "retry" {
			switch {
			case a.StepID != "" && a.WorkflowID != "":
				c.errorf(a.At("stepId"), "action-target", "action %q gives both stepId and workflowId; give one", a.Name)
			case a.StepID != "":
				if act.Step = w.Step(a.StepID); act.Step == nil {
					c.errorf(a.At("stepId"), "action-target", "action %q targets step %q, which is not in workflow %q (steps: %s)", a.Name, a.StepID, w.ID, stepIDs(w))
				}
			case a.WorkflowID != "":
				act.TargetWorkflow = c.workflowRef(a.WorkflowID, a.At("workflowId"))
				c.call(w, act.TargetWorkflow, len(a.Criteria) > 0, a.At("workflowId"))
			}
		}
		for _, cr := range a.Criteria {
			act.Criteria = append(act.Criteria, c.criterion(cr))
		}
		act.Params = c.actionParams(a, act)
		out = append(out, act)
	}
	return out
}

func stepIDs(w *Workflow) string {
	var ids []string
	for _, s := range w.Steps {
		ids = append(ids, s.ID)
	}
	return strings.Join(ids, ", ")
}

// mergeActions is the step's actions followed by the workflow's actions
// whose names the step did not redefine.
func mergeActions(step, wf []*Action) []*Action {
	names := map[string]bool{}
	for _, a := range step {
		names[a.Name] = true
	}
	out := append([]*Action{}, step...)
	for _, a := range wf {
		if !names[a.Name] {
			out = append(out, a)
		}
	}
	return out
}

// pathParamLike finds the one path parameter of op whose name equals name
// once case, '_' and '-' are ignored (pet_id for petId): the intent of such
// a name is certain, since a path template variable must have a value.
func pathParamLike(op *source.Operation, name string) *openapi3.Parameter {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	var found *openapi3.Parameter
	for _, list := range []openapi3.Parameters{op.Op.Parameters, op.PathItem.Parameters} {
		for _, ref := range list {
			if p := ref.Value; p != nil && p.In == "path" && norm(p.Name) == norm(name) {
				if found != nil && found.Name != p.Name {
					return nil // two candidates: ambiguous
				}
				found = p
			}
		}
	}
	return found
}
