package engine

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// LoadFile reads, parses, checks and compiles the Arazzo document at path.
// The plan is nil when the document has errors; diagnostics (warnings too)
// are always returned.
func LoadFile(ctx context.Context, path string, loader *source.Loader) (*Plan, diag.List) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, diag.List{{File: path, Severity: diag.Error, Rule: "read", Message: err.Error()}}
	}
	return LoadBytes(ctx, path, data, loader)
}

// LoadBytes is LoadFile for a document already in memory; path is where it
// came from, for relative sources and for diagnostics.
func LoadBytes(ctx context.Context, path string, data []byte, loader *source.Loader) (*Plan, diag.List) {
	doc, diags := document.Parse(path, data)
	if doc == nil {
		return nil, diags
	}
	if loader == nil {
		loader = &source.Loader{}
	}
	plan, more := Compile(ctx, doc, loader)
	diags = mergeDiagnostics(diags, more)
	if diags.HasErrors() {
		return nil, diags
	}
	return plan, diags
}

// mergeDiagnostics joins parser, schema and semantic diagnostics, dropping
// a schema error that sits where a more specific error already points.
func mergeDiagnostics(first, rest diag.List) diag.List {
	taken := map[string]bool{}
	for _, d := range append(append(diag.List{}, first...), rest...) {
		if d.Severity == diag.Error && d.Rule != "schema" {
			taken[fmt.Sprintf("%d:%d", d.Line, d.Column)] = true
		}
	}
	var out diag.List
	seen := map[string]bool{}
	for _, d := range append(first, rest...) {
		if d.Rule == "schema" && taken[fmt.Sprintf("%d:%d", d.Line, d.Column)] {
			continue
		}
		if k := d.String(); !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	out.Sort()
	return out
}

// Compile checks a parsed document against the schema and the semantic
// rules, loads its sources, and builds the plan. The plan may be partial
// when there are errors.
func Compile(ctx context.Context, doc *document.Document, loader *source.Loader) (*Plan, diag.List) {
	c := &compiler{ctx: ctx, doc: doc, loader: loader, stack: map[string]bool{absPath(doc.File): true}}
	c.diags = append(c.diags, schema.ValidateDocument(doc)...)
	plan := c.compile()
	return plan, mergeDiagnostics(nil, c.diags)
}

func absPath(p string) string {
	if strings.Contains(p, "://") {
		return p
	}
	if cleaned, err := source.Resolve(p, p); err == nil {
		p = cleaned
	}
	return p
}

type compiler struct {
	ctx    context.Context
	doc    *document.Document
	loader *source.Loader
	plan   *Plan
	diags  diag.List
	stack  map[string]bool // nested Arazzo documents being compiled, for cycles
	// unavailable names sources that failed to load, so their operations
	// are not reported again step by step.
	unavailable map[string]bool
	// curStep is the step being compiled (nil at workflow level), and uses
	// the expressions met so far in the current workflow.
	curStep *Step
	uses    []exprUse
}

func (c *compiler) report(sev diag.Severity, pos document.Pos, rule, format string, args ...any) {
	c.diags = append(c.diags, diag.Diagnostic{
		File: c.doc.File, Line: pos.Line, Column: pos.Col, Severity: sev, Rule: rule,
		Message: fmt.Sprintf(format, args...),
	})
}

func (c *compiler) errorf(pos document.Pos, rule, format string, args ...any) {
	c.report(diag.Error, pos, rule, format, args...)
}

func (c *compiler) warnf(pos document.Pos, rule, format string, args ...any) {
	c.report(diag.Warning, pos, rule, format, args...)
}

// exprDiag reports an expression problem found at offset inside a field.
func (c *compiler) exprDiag(pos document.Pos, e *expr.Error, rule string) {
	if pos.IsValid() {
		pos.Col += e.Offset
	}
	if e.Warning {
		c.warnf(pos, "expression-style", "%s", e.Msg)
		return
	}
	c.errorf(pos, rule, "%s", e.Msg)
}

func (c *compiler) compile() *Plan {
	c.plan = &Plan{Doc: c.doc, byID: map[string]*Workflow{}, sources: map[string]*SourceRef{}}
	c.unavailable = map[string]bool{}
	c.loadSources()
	for _, wd := range c.doc.Workflows {
		w := &Workflow{ID: wd.WorkflowID, Doc: wd, Plan: c.plan, stepIndex: map[string]int{}}
		if prev, dup := c.plan.byID[wd.WorkflowID]; dup && wd.WorkflowID != "" {
			c.errorf(wd.At("workflowId"), "duplicate-workflow-id", "workflowId %q is already used by the workflow at line %d", wd.WorkflowID, prev.Doc.Pos.Line)
		} else if wd.WorkflowID != "" {
			c.plan.byID[wd.WorkflowID] = w
		}
		c.plan.Workflows = append(c.plan.Workflows, w)
		for i, sd := range wd.Steps {
			if prev, dup := w.stepIndex[sd.StepID]; dup && sd.StepID != "" {
				c.errorf(sd.At("stepId"), "duplicate-step-id", "stepId %q is already used in workflow %q at line %d", sd.StepID, wd.WorkflowID, wd.Steps[prev].Pos.Line)
				continue
			}
			w.stepIndex[sd.StepID] = i
		}
		for i, sd := range wd.Steps {
			w.Steps = append(w.Steps, &Step{ID: sd.StepID, Index: i, Doc: sd, Workflow: w})
		}
	}
	for i, w := range c.plan.Workflows {
		c.workflow(i, w)
	}
	c.checkDependsOn()
	return c.plan
}

func (c *compiler) loadSources() {
	for _, sd := range c.doc.SourceDescriptions {
		if _, dup := c.plan.sources[sd.Name]; dup {
			c.errorf(sd.At("name"), "duplicate-source", "source description name %q is used twice", sd.Name)
			continue
		}
		ref := &SourceRef{Name: sd.Name, URL: sd.URL, Type: sd.Type}
		c.plan.sources[sd.Name] = ref
		if sd.URL == "" {
			continue // the schema reports the missing url
		}
		loc, err := source.Resolve(c.doc.File, sd.URL)
		if err != nil {
			c.errorf(sd.At("url"), "source-unavailable", "source %q: %v", sd.Name, err)
			c.unavailable[sd.Name] = true
			continue
		}
		ref.Location = loc
		if ref.Type == "arazzo" || ref.Type == "" {
			if c.stack[absPath(loc)] {
				c.errorf(sd.At("url"), "source-cycle", "source %q refers back to a document that is already being loaded (%s)", sd.Name, loc)
				c.unavailable[sd.Name] = true
				continue
			}
		}
		src, err := c.loader.Load(c.ctx, loc, sd.Type)
		if err != nil {
			c.errorf(sd.At("url"), "source-unavailable", "source %q cannot be loaded: %v", sd.Name, err)
			c.unavailable[sd.Name] = true
			continue
		}
		ref.Source, ref.Type = src, src.Type
		if src.Type == "arazzo" {
			sub := &compiler{ctx: c.ctx, doc: src.Arazzo, loader: c.loader, stack: map[string]bool{}}
			for k := range c.stack {
				sub.stack[k] = true
			}
			sub.stack[absPath(loc)] = true
			ref.Plan = sub.compile()
			if errs := mergeDiagnostics(nil, append(schema.ValidateDocument(src.Arazzo), sub.diags...)).Errors(); len(errs) > 0 {
				c.errorf(sd.At("url"), "source-invalid", "source %q (%s) has %d error(s); first: %s", sd.Name, loc, len(errs), errs[0].String())
			}
		}
	}
}

func (c *compiler) workflow(index int, w *Workflow) {
	wd := w.Doc
	if wd.Inputs != nil {
		in, err := schema.CompileInputs(c.doc.File, c.doc.Raw, fmt.Sprintf("/workflows/%d/inputs", index))
		switch {
		case err != nil && strings.Contains(err.Error(), "is not valid against metaschema"):
			// The document schema check already points at the bad keyword.
		case err != nil:
			c.errorf(wd.At("inputs"), "inputs-schema", "the inputs schema does not compile: %v", oneLine(err))
		default:
			w.Inputs = in
		}
	}
	w.secretInputs = classifySecrets(w)
	for _, o := range outputsOf(wd.Outputs) {
		w.Outputs = append(w.Outputs, c.output(wd.Outputs, o))
	}
	w.Parameters = c.parameters(wd.Parameters, nil, "workflow")
	w.SuccessActions = c.actions(w, wd.SuccessActions, false)
	w.FailureActions = c.actions(w, wd.FailureActions, true)
	for _, s := range w.Steps {
		c.curStep = s
		c.step(w, s)
	}
	c.curStep = nil
	c.checkReferences(w)
}

func outputsOf(o *document.Outputs) []string {
	if o == nil {
		return nil
	}
	return o.Names
}

var quotedEmbedRE = regexp.MustCompile(`"\{\$inputs\.([^}#"]+)\}"`)

// inputType is the declared JSON type of a workflow input, or "".
func (c *compiler) inputType(w *Workflow, name string) string {
	if w == nil || w.Inputs == nil {
		return ""
	}
	props, _ := w.Inputs.Properties()
	p, _ := props[name].(map[string]any)
	t, _ := p["type"].(string)
	return t
}

// valueType is the JSON type a parameter value will have when it is known
// before running: a literal's, or a whole $inputs expression's declared type.
func (c *compiler) valueType(w *Workflow, raw any) string {
	switch x := raw.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		if e, err := expr.Parse(strings.TrimSpace(x)); err == nil && e.Source == expr.SrcInputs && !e.HasPointer {
			return c.inputType(w, e.Name)
		}
	}
	return ""
}

var outputNameRE = regexp.MustCompile(`^[a-zA-Z0-9.\-_]+$`)

func (c *compiler) output(o *document.Outputs, name string) Output {
	if !outputNameRE.MatchString(name) {
		c.errorf(o.At(name), "output-name", "output name %q may only contain letters, digits, '.', '-' and '_'", name)
	}
	t, errs := expr.ParseTemplate(o.Values[name])
	for _, e := range errs {
		c.exprDiag(o.At(name), e, "expression")
	}
	c.track(o.At(name), false, t.Expressions()...)
	return Output{Name: name, Value: t}
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func (c *compiler) step(w *Workflow, s *Step) {
	sd := s.Doc
	switch {
	case sd.OperationID != "":
		s.Operation = c.operationByID(sd)
	case sd.OperationPath != "":
		s.Operation = c.operationByPath(sd)
	case sd.WorkflowID != "":
		s.Callee = c.workflowRef(sd.WorkflowID, sd.At("workflowId"))
		if sd.RequestBody != nil {
			c.warnf(sd.At("requestBody"), "request-body-ignored", "a requestBody on a step that calls a workflow is ignored")
		}
	}
	if s.Operation != nil {
		for _, sdoc := range c.doc.SourceDescriptions {
			if ref := c.plan.sources[sdoc.Name]; ref != nil && ref.Source == s.Operation.Source {
				s.Source = ref
				break
			}
		}
		s.ProtocolContentType = protocolContentType(s.Operation.Source)
	}
	stepParams := c.parameters(sd.Parameters, s, "step")
	s.Params = mergeParams(w.Parameters, stepParams, s.Callee != nil)
	if s.Callee == nil && sd.RequestBody != nil {
		s.Body = c.body(sd.RequestBody, s)
	}
	for _, cr := range sd.SuccessCriteria {
		s.Success = append(s.Success, c.criterion(cr))
		if s.Callee != nil && strings.Contains(cr.Condition+cr.Context, "$statusCode") {
			c.warnf(cr.At("condition"), "workflow-step-status", "step %q calls a workflow: $statusCode here is the status of that workflow's last HTTP call", s.ID)
		}
	}
	s.OnSuccess = mergeActions(c.actions(w, sd.OnSuccess, false), w.SuccessActions)
	s.OnFailure = mergeActions(c.actions(w, sd.OnFailure, true), w.FailureActions)
	for _, o := range outputsOf(sd.Outputs) {
		s.Outputs = append(s.Outputs, c.output(sd.Outputs, o))
	}
}

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
		c.errorf(pos, "operation-unresolved", "source %q has no operation with operationId %q%s", name, opID, suggest(opID, ref.Source))
		return nil
	}
	var found []*source.Operation
	var names []string
	openapiSources, missing := 0, false
	for _, sdoc := range c.doc.SourceDescriptions {
		ref := c.plan.sources[sdoc.Name]
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
				c.errorf(p.Pos, "parameter-in", "parameter %q needs `in` (path, query, header or cookie) on a step that calls an operation", p.Name)
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
		v, errs := expr.CompileValue(raw)
		for _, e := range errs {
			pos := valueAt
			if e.Path != "" {
				e.Offset = 0
			}
			c.exprDiag(pos, e.Error, "expression")
		}
		c.track(valueAt, true, v.Expressions()...)
		prm := &Param{Name: p.Name, In: p.In, Value: v}
		if s != nil && s.Operation != nil && p.In != "" {
			prm.Decl = s.Operation.Parameter(p.Name, p.In)
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
		v, errs := expr.CompileValue(rb.Payload)
		for _, e := range errs {
			if e.Path != "" {
				e.Offset = 0
			}
			c.exprDiag(rb.At("payload"), e.Error, "expression")
		}
		c.track(rb.At("payload"), true, v.Expressions()...)
		b.Payload = v
	}
	for _, r := range rb.Replacements {
		if r.Target == "" {
			continue
		}
		if isJSONType(b.ContentType) || !isXMLType(b.ContentType) {
			if !strings.HasPrefix(r.Target, "/") {
				c.errorf(r.At("target"), "replacement-target", "replacement target %q is not a JSON pointer (it must start with /)", r.Target)
			} else if _, err := jsonpointer.Split(r.Target); err != nil {
				c.errorf(r.At("target"), "replacement-target", "replacement target %q: %s", r.Target, err.(*jsonpointer.SyntaxError).Msg)
			}
		}
		v, errs := expr.CompileValue(r.Value)
		for _, e := range errs {
			c.exprDiag(r.At("value"), e.Error, "expression")
		}
		c.track(r.At("value"), true, v.Expressions()...)
		b.Replacements = append(b.Replacements, Replacement{Target: r.Target, Value: v})
	}
	return b
}

func (c *compiler) criterion(cr *document.Criterion) *Criterion {
	ce, errs := expr.CompileCriterion(expr.CriterionSpec{Context: cr.Context, Condition: cr.Condition, Type: cr.Type, Version: cr.Version})
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
	return &Criterion{Criterion: ce, Pos: cr.Pos}
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
		act := &Action{Name: a.Name, Type: a.Type, StepID: a.StepID, RetryLimit: 1}
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
			}
		}
		for _, cr := range a.Criteria {
			act.Criteria = append(act.Criteria, c.criterion(cr))
		}
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

func (c *compiler) checkDependsOn() {
	for wi, w := range c.plan.Workflows {
		for i, d := range w.Doc.DependsOn {
			pos := c.doc.Index[fmt.Sprintf("/workflows/%d/dependsOn/%d", wi, i)]
			if t := c.workflowRef(d, pos); t != nil {
				w.DependsOn = append(w.DependsOn, t)
			}
		}
	}
	// Depth-first search for cycles among local workflows.
	state := map[*Workflow]int{}
	var visit func(w *Workflow, path []string) bool
	visit = func(w *Workflow, path []string) bool {
		switch state[w] {
		case 1:
			c.errorf(w.Doc.At("dependsOn"), "depends-on-cycle", "dependsOn forms a cycle: %s", strings.Join(append(path, w.ID), " -> "))
			return true
		case 2:
			return false
		}
		state[w] = 1
		for _, d := range w.DependsOn {
			if visit(d, append(path, w.ID)) {
				state[w] = 2
				return true
			}
		}
		state[w] = 2
		return false
	}
	for _, w := range c.plan.Workflows {
		visit(w, nil)
	}
}
