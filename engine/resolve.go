package engine

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Resolution: what a step or an action names (operations by id or path,
// workflows, components) found once, at compile time, with a diagnostic
// that says what exists when it is not found.

// operationByID resolves `opId` or `$sourceDescriptions.<name>.<opId>`.
func (c *compiler) operationByID(sd *document.Step) *source.Operation {
	id, pos := sd.OperationID, sd.At("operationId")
	if strings.HasPrefix(id, "$sourceDescriptions.") {
		rest := strings.TrimPrefix(id, "$sourceDescriptions.")
		name, opID, ok := strings.Cut(rest, ".")
		if !ok || opID == "" {
			c.errorf(pos, "operation-unresolved", "a qualified operationId is $sourceDescriptions.<source>.<operationId>, found %q", id)
			return nil
		}
		ref := c.plan.sources[name]
		switch {
		case ref == nil:
			c.errorf(pos, "operation-unresolved", "operationId %q names source %q, which is not declared (sources: %s)", id, name, c.sourceNames())
			return nil
		case c.unavailable[name]:
			return nil
		case ref.Type != "openapi" || ref.Source == nil:
			c.errorf(pos, "operation-unresolved", "operationId %q names source %q, which is not an OpenAPI description", id, name)
			return nil
		}
		if op := ref.Source.ByID(opID); op != nil {
			return op
		}
		if u := ref.Source.UnusableByID(opID); u != nil {
			c.unusableOp(pos, name, u)
			return nil
		}
		c.errorf(pos, "operation-unresolved", "source %q has no operation with operationId %q%s", name, opID, suggest(opID, ref.Source))
		return nil
	}
	var found []*source.Operation
	var names []string
	openapiSources, missing := 0, false
	for _, sdoc := range c.doc.SourceDescriptions {
		ref := c.plan.sources[sdoc.Name]
		if ref != nil && ref.Type == "asyncapi" {
			continue
		}
		if ref != nil && (c.unavailable[sdoc.Name] || ref.Source == nil) {
			missing = true
			continue
		}
		if ref == nil || ref.Type == "arazzo" {
			continue
		}
		openapiSources++
		if op := ref.Source.ByID(id); op != nil {
			found = append(found, op)
			names = append(names, sdoc.Name)
		}
	}
	switch {
	case len(found) == 1:
		if openapiSources > 1 {
			c.warnf(pos, "operation-unqualified", "with several OpenAPI sources an operationId must be qualified: write $sourceDescriptions.%s.%s", names[0], id)
		}
		return found[0]
	case len(found) > 1:
		c.errorf(pos, "operation-ambiguous", "operationId %q is defined in sources %s; qualify it as $sourceDescriptions.<source>.%s", id, strings.Join(names, " and "), id)
	case !missing:
		for _, sdoc := range c.doc.SourceDescriptions {
			if ref := c.plan.sources[sdoc.Name]; ref != nil && ref.Source != nil {
				if u := ref.Source.UnusableByID(id); u != nil {
					c.unusableOp(pos, sdoc.Name, u)
					return nil
				}
			}
		}
		hint := ""
		for _, sdoc := range c.doc.SourceDescriptions {
			if ref := c.plan.sources[sdoc.Name]; ref != nil && ref.Source != nil && ref.Type == "openapi" {
				if h := suggest(id, ref.Source); h != "" {
					hint = h
					break
				}
			}
		}
		c.errorf(pos, "operation-unresolved", "no OpenAPI source has an operation with operationId %q%s", id, hint)
	}
	return nil
}

// unusableOp reports a step that uses an operation the source description
// defines, but so malformed that it was left out.
func (c *compiler) unusableOp(pos document.Pos, src string, u *source.Unusable) {
	c.errorf(pos, "operation-unusable", "operation %s of source %q cannot be used: its definition is malformed: %s", u, src, u.Reason)
}

// suggest finds an operationId that differs only in case.
func suggest(id string, src *source.Source) string {
	for _, op := range src.Operations() {
		if strings.EqualFold(op.ID, id) {
			return fmt.Sprintf(" (did you mean %q? operationIds are case-sensitive)", op.ID)
		}
	}
	return ""
}

func (c *compiler) sourceNames() string {
	var n []string
	for _, s := range c.doc.SourceDescriptions {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

// operationByPath resolves `{$sourceDescriptions.x.url}#/paths/~1pets/get`.
func (c *compiler) operationByPath(sd *document.Step) *source.Operation {
	text, pos := sd.OperationPath, sd.At("operationPath")
	hash := strings.IndexByte(text, '#')
	if hash < 0 {
		c.errorf(pos, "operation-path", "operationPath needs a JSON pointer after #: {$sourceDescriptions.<name>.url}#/paths/<path>/<method>")
		return nil
	}
	base, frag := text[:hash], text[hash+1:]
	var ref *SourceRef
	if t, errs := expr.ParseTemplate(base); len(errs) > 0 {
		for _, e := range errs {
			c.exprDiag(pos, e, "expression")
		}
		return nil
	} else if es := t.Expressions(); len(es) == 1 && es[0].Source == expr.SrcSourceDescriptions && es[0].Name == "url" && strings.TrimSpace(base) == "{"+es[0].Text+"}" {
		if ref = c.plan.sources[es[0].ID]; ref == nil {
			c.errorf(pos, "operation-path", "operationPath names source %q, which is not declared (sources: %s)", es[0].ID, c.sourceNames())
			return nil
		}
	} else {
		for _, sdoc := range c.doc.SourceDescriptions {
			if sdoc.URL == base {
				ref = c.plan.sources[sdoc.Name]
			}
		}
		if ref == nil {
			c.errorf(pos, "operation-path", "operationPath must start with {$sourceDescriptions.<name>.url} (or a source's url), found %q", base)
			return nil
		}
	}
	decoded, err := url.PathUnescape(frag)
	if err != nil {
		decoded = frag
	}
	toks, perr := jsonpointer.Split(decoded)
	if perr != nil {
		c.errorf(pos, "operation-path", "operationPath fragment %q is not a JSON pointer: %s", frag, perr.(*jsonpointer.SyntaxError).Msg)
		return nil
	}
	if len(toks) == 2 && toks[0] == "paths" {
		c.errorf(pos, "operation-path", "operationPath %q points at a Path Item, not an operation: add the method (for example %s/get)", text, text)
		return nil
	}
	if len(toks) != 3 || toks[0] != "paths" || !httpMethods[toks[2]] {
		c.errorf(pos, "operation-path", "operationPath must point at #/paths/<escaped path>/<method>, found #%s", frag)
		return nil
	}
	if c.unavailable[ref.Name] || ref.Source == nil {
		return nil
	}
	if ref.Type != "openapi" {
		c.errorf(pos, "operation-path", "operationPath names source %q, which is not an OpenAPI description", ref.Name)
		return nil
	}
	op := ref.Source.ByPath(toks[1], toks[2])
	if u := ref.Source.UnusableByPath(toks[1], toks[2]); op == nil && u != nil {
		c.unusableOp(pos, ref.Name, u)
		return nil
	}
	if op == nil {
		c.errorf(pos, "operation-unresolved", "source %q has no operation %s %s", ref.Name, strings.ToUpper(toks[2]), toks[1])
	}
	return op
}

// workflowRef resolves a bare local workflowId or
// `$sourceDescriptions.<name>.<workflowId>` for an Arazzo source.
func (c *compiler) workflowRef(id string, pos document.Pos) *Workflow {
	if strings.HasPrefix(id, "$sourceDescriptions.") {
		name, wfID, ok := strings.Cut(strings.TrimPrefix(id, "$sourceDescriptions."), ".")
		ref := c.plan.sources[name]
		switch {
		case !ok || wfID == "":
			c.errorf(pos, "workflow-unresolved", "a qualified workflowId is $sourceDescriptions.<source>.<workflowId>, found %q", id)
		case ref == nil:
			c.errorf(pos, "workflow-unresolved", "workflowId %q names source %q, which is not declared (sources: %s)", id, name, c.sourceNames())
		case c.unavailable[name]:
		case ref.Plan == nil:
			c.errorf(pos, "workflow-unresolved", "workflowId %q names source %q, which is not an Arazzo document", id, name)
		default:
			if w := ref.Plan.Workflow(wfID); w != nil {
				return w
			}
			c.errorf(pos, "workflow-unresolved", "source %q has no workflow %q", name, wfID)
		}
		return nil
	}
	if w := c.plan.byID[id]; w != nil {
		return w
	}
	for name, ref := range c.plan.sources {
		if ref.Plan != nil && ref.Plan.Workflow(id) != nil {
			c.errorf(pos, "workflow-unresolved", "workflow %q lives in source %q: write $sourceDescriptions.%s.%s", id, name, name, id)
			return nil
		}
	}
	var ids []string
	for _, w := range c.plan.Workflows {
		ids = append(ids, w.ID)
	}
	c.errorf(pos, "workflow-unresolved", "no workflow %q in this document (workflows: %s)", id, strings.Join(ids, ", "))
	return nil
}

// component resolves a Reusable Object's reference to the component of the
// expected kind.
func (c *compiler) component(r *document.Reusable, want string) any {
	pos := r.At("reference")
	e, err := expr.Parse(strings.TrimSpace(r.Reference))
	if err != nil {
		c.exprDiag(pos, err.(*expr.Error), "reusable-reference")
		return nil
	}
	if e.Source != expr.SrcComponents {
		c.errorf(pos, "reusable-reference", "a reference must be $components.%s.<key>, found %q", want, r.Reference)
		return nil
	}
	if e.Part != want {
		c.errorf(pos, "reusable-reference", "%q refers to %s, but only $components.%s may be used here", r.Reference, e.Part, want)
		return nil
	}
	comp := c.doc.Components
	var v any
	var ok bool
	if comp != nil {
		switch want {
		case "parameters":
			v, ok = comp.Parameters[e.Name]
		case "successActions":
			v, ok = comp.SuccessActions[e.Name]
		case "failureActions":
			v, ok = comp.FailureActions[e.Name]
		}
	}
	if !ok {
		c.errorf(pos, "reusable-reference", "%q does not exist in this document's components", r.Reference)
		return nil
	}
	if r.HasValue && want != "parameters" {
		c.warnf(r.At("value"), "reusable-value-ignored", "value applies only to parameter references; it is ignored here")
	}
	return v
}
