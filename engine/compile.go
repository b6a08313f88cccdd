package engine

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/dialect"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
)

// CompileOption configures compilation.
type CompileOption func(*compiler)

// StrictDialects makes each dialect finding (see package dialect) an
// error, as validate reports them; without it they are warnings and the
// document runs in its canonical form.
func StrictDialects() CompileOption {
	return func(c *compiler) { c.strictDialects = true }
}

func dialectDiagnostics(path string, found []dialect.Finding, opts []CompileOption) diag.List {
	var cfg compiler
	for _, o := range opts {
		o(&cfg)
	}
	sev := diag.Warning
	if cfg.strictDialects {
		sev = diag.Error
	}
	var out diag.List
	for _, f := range found {
		msg := f.Message
		if f.Rewrites() {
			msg = fmt.Sprintf("%s: write %q for %q (arazzo fix rewrites it)", f.Message, f.New, f.Old)
		}
		out = append(out, diag.Diagnostic{File: path, Line: f.Line, Column: f.Col, Severity: sev, Rule: f.Rule, Message: msg})
	}
	return out
}

// dropSchemaAtLiterals drops the schema's "want string" where a literal
// output is reported as a dialect: the dialect finding says it better.
func dropSchemaAtLiterals(diags diag.List, found []dialect.Finding) diag.List {
	at := map[[2]int]bool{}
	for _, f := range found {
		if f.Rule == dialect.RuleLiteralOutput {
			at[[2]int{f.Line, f.Col}] = true
		}
	}
	if len(at) == 0 {
		return diags
	}
	out := diags[:0]
	for _, d := range diags {
		if d.Rule == "schema" && at[[2]int{d.Line, d.Column}] {
			continue
		}
		out = append(out, d)
	}
	return out
}

// WithProtocols adds wire protocols: each OpenAPI source speaks the
// protocol of the first detector that claims it, else protocol.HTTP.
func WithProtocols(detectors ...protocol.Detector) CompileOption {
	return func(c *compiler) { c.protocols = append(c.protocols, detectors...) }
}

// SchemaCache remembers documents that passed the Arazzo JSON Schema, by a
// key that digests their bytes and the schemas (schema.CacheKey), so that a
// document loaded again skips the schema's compile and walk: a few
// milliseconds, the largest part of a cold start. Only documents with no
// schema diagnostic are remembered; a nil cache checks every time.
type SchemaCache interface {
	Passed(key string) bool
	Remember(key string)
}

// WithSchemaCache sets the cache LoadFile and LoadBytes consult (Compile
// has no bytes to key on and always checks).
func WithSchemaCache(cache SchemaCache) CompileOption {
	return func(c *compiler) { c.schemaCache = cache }
}

// LoadFile reads, parses, checks and compiles the Arazzo document at path.
// The plan is nil when the document has errors; diagnostics (warnings too)
// are always returned.
func LoadFile(ctx context.Context, path string, loader *source.Loader, opts ...CompileOption) (*Plan, diag.List) {
	if loader == nil {
		loader = &source.Loader{}
	}
	data, err := loader.ReadFile(path)
	if err != nil {
		return nil, diag.List{{File: path, Severity: diag.Error, Rule: "read", Message: err.Error(), Cause: err}}
	}
	return LoadBytes(ctx, path, data, loader, opts...)
}

// LoadBytes is LoadFile for a document already in memory; path is where it
// came from, for relative sources and for diagnostics.
func LoadBytes(ctx context.Context, path string, data []byte, loader *source.Loader, opts ...CompileOption) (*Plan, diag.List) {
	var cfg compiler
	for _, o := range opts {
		o(&cfg)
	}
	passed := false
	if cfg.schemaCache != nil {
		key := schema.CacheKey(data)
		passed = cfg.schemaCache.Passed(key)
		opts = append(opts[:len(opts):len(opts)], func(c *compiler) { c.schemaKey, c.schemaPassed = key, passed })
	}
	if !passed {
		schema.Prepare() // compile the schema while the document parses
	}
	// A dialect whose intent is certain is compiled in its canonical form
	// and reported where the document says it.
	root, err := document.DecodeYAML(data)
	var found []dialect.Finding
	if err == nil {
		found = dialect.FindIn(data, root)
	}
	if len(found) > 0 {
		data = dialect.Apply(data, found)
		root, err = document.DecodeYAML(data)
	}
	doc, diags := document.ParseDecoded(path, root, err)
	if doc == nil {
		return nil, diags
	}
	diags = append(diags, dialectDiagnostics(path, found, opts)...)
	if loader == nil {
		loader = &source.Loader{}
	}
	plan, more := Compile(ctx, doc, loader, opts...)
	diags = mergeDiagnostics(diags, more)
	diags = dropSchemaAtLiterals(diags, found)
	scopeDiagnostics(plan, diags)
	if errs := diags.Errors(); len(errs) > 0 {
		for _, d := range errs {
			if !cfg.partial || !d.Scoped {
				return nil, diags
			}
		}
		plan.errors = errs
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
func Compile(ctx context.Context, doc *document.Document, loader *source.Loader, opts ...CompileOption) (*Plan, diag.List) {
	c := &compiler{ctx: ctx, doc: doc, loader: loader, stack: map[string]bool{absPath(doc.File): true}}
	for _, o := range opts {
		o(c)
	}
	// The schema check reads only the parsed document, so it runs while
	// the sources load and the plan is built: on a cold start the schema's
	// compile and walk take about as long as loading an OpenAPI
	// description.
	checked := make(chan diag.List, 1)
	if c.schemaPassed {
		checked <- nil
	} else {
		go func() { checked <- schema.ValidateDocument(doc) }()
	}
	plan := c.compile()
	found := <-checked
	if len(found) == 0 && c.schemaCache != nil && c.schemaKey != "" && !c.schemaPassed {
		c.schemaCache.Remember(c.schemaKey)
	}
	c.diags = append(c.diags, found...)
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
	// calls are the edges of the workflow call graph, for cycles.
	calls []callEdge
	// protocols detect the wire protocol of each OpenAPI source.
	protocols []protocol.Detector
	// strictDialects: dialect findings are errors (validate).
	strictDialects bool
	// partial: return a plan whose errors are confined (scope.go).
	partial bool
	// schemaCache, and the document's key in it (LoadBytes): a document
	// that passed the schema before is not checked again.
	schemaCache  SchemaCache
	schemaKey    string
	schemaPassed bool
	// transports exchange the messages of AsyncAPI sources.
	transports []message.Transport
	// msgSchemas are the compiled schemas of AsyncAPI messages.
	msgSchemas map[*source.AsyncMessage]messageSchemas
	// unavailable names sources that failed to load, so their operations
	// are not reported again step by step.
	unavailable map[string]bool
	// curStep is the step being compiled (nil at workflow level), and uses
	// the expressions met so far in the current workflow.
	curStep *Step
	uses    []exprUse
	curWF   *Workflow
	// ver is the expression grammar of the document's Arazzo version.
	ver expr.Version
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

// dialectf reports a deviation whose intent is certain: a warning (run
// executes the canonical form) unless StrictDialects makes it an error.
func (c *compiler) dialectf(pos document.Pos, rule, format string, args ...any) {
	sev := diag.Warning
	if c.strictDialects {
		sev = diag.Error
	}
	c.report(sev, pos, rule, format, args...)
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
	c.plan = &Plan{Doc: c.doc, Version: c.doc.Version, byID: map[string]*Workflow{}, sources: map[string]*SourceRef{}}
	if c.doc.Version.AtLeast11() {
		c.ver = expr.V11
	}
	c.plan.Self = c.baseURI()
	if c.doc.Version.AtLeast11() && c.doc.Self != "" && c.loader != nil {
		c.loader.Identify(c.plan.Self, absPath(c.doc.File))
	}
	c.unavailable = map[string]bool{}
	c.plan.transports = c.transports
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
			w.Steps = append(w.Steps, &Step{ID: sd.StepID, Index: i, pos: i, Doc: sd, Workflow: w})
		}
		w.order = w.Steps
	}
	for i, w := range c.plan.Workflows {
		c.workflow(i, w)
	}
	c.checkDependsOn()
	c.checkCallCycles()
	for _, w := range c.plan.Workflows {
		w.refusal = checkSupported(w) // once: runs only read it
	}
	return c.plan
}

func (c *compiler) loadSources() {
	for _, sd := range c.doc.SourceDescriptions {
		if _, dup := c.plan.sources[sd.Name]; dup {
			c.errorf(sd.At("name"), "duplicate-source", "source description name %q is used twice", sd.Name)
			continue
		}
		ref := &SourceRef{Name: sd.Name, URL: sd.URL, Type: source.Type(sd.Type)}
		c.plan.sources[sd.Name] = ref
		if sd.URL == "" {
			continue // the schema reports the missing url
		}
		loc, err := source.Resolve(c.plan.Self, sd.URL)
		if err != nil {
			c.errorf(sd.At("url"), "source-unavailable", "source %q: %v", sd.Name, err)
			c.unavailable[sd.Name] = true
			continue
		}
		if known, ok := c.loader.Locate(loc); ok {
			loc = known // a 1.1 reference by identity ($self), not location
		}
		ref.Location = loc
		if ref.Type == "arazzo" || ref.Type == "" {
			if c.stack[absPath(loc)] {
				c.errorf(sd.At("url"), "source-cycle", "source %q refers back to a document that is already being loaded (%s)", sd.Name, loc)
				c.unavailable[sd.Name] = true
				continue
			}
		}
		src, err := c.loader.Load(c.ctx, loc, source.Type(sd.Type))
		if err != nil {
			c.errorf(sd.At("url"), "source-unavailable", "source %q cannot be loaded: %v", sd.Name, err)
			c.diags[len(c.diags)-1].Cause = err
			c.unavailable[sd.Name] = true
			continue
		}
		ref.Source, ref.Type = src, src.Type
		if src.Type == source.OpenAPI {
			ref.Protocol = c.protocolOf(src)
			for _, u := range src.Unusable() {
				c.warnf(sd.At("url"), "source-operation-unusable", "source %q: operation %s is left out, its definition is malformed (a step that uses it is an error): %s", sd.Name, u, u.Reason)
			}
		}
		if src.Type == source.AsyncAPI {
			c.chooseServer(ref)
		}
		if src.Type == source.Arazzo {
			sub := &compiler{ctx: c.ctx, doc: src.Arazzo, loader: c.loader, stack: map[string]bool{}, protocols: c.protocols, transports: c.transports}
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

// protocolOf is the wire protocol the first detector claims, else HTTP.
func (c *compiler) protocolOf(src *source.Source) protocol.Protocol {
	for _, d := range c.protocols {
		if p := d(src); p != nil {
			return p
		}
	}
	return protocol.HTTP
}

func (c *compiler) workflow(index int, w *Workflow) {
	wd := w.Doc
	c.curWF = w
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
	c.orderSteps(w)
	markBackground(w)
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
		if c.ver >= expr.V11 && expr.IsSelector(x) {
			return "" // known only once it has selected
		}
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
		// The name is still a name: run keeps it (a warning), validate errs.
		c.dialectf(o.At(name), "output-name", "output name %q may only contain letters, digits, '.', '-' and '_'", name)
	}
	v := c.value(o.Raw[name], o.At(name), false)
	return Output{Name: name, Value: v}
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func (c *compiler) step(w *Workflow, s *Step) {
	sd := s.Doc
	switch {
	case c.asyncStep(sd):
		c.messageStep(s)
	case sd.OperationID != "":
		s.Operation = c.operationByID(sd)
	case sd.OperationPath != "":
		s.Operation = c.operationByPath(sd)
	case sd.WorkflowID != "":
		s.Callee = c.workflowRef(sd.WorkflowID, sd.At("workflowId"))
		c.call(w, s.Callee, false, sd.At("workflowId"))
		if sd.RequestBody != nil {
			c.warnf(sd.At("requestBody"), "request-body-ignored", "a requestBody on a step that calls a workflow is ignored")
		}
	}
	switch {
	case s.Operation != nil:
		s.Kind, s.perform, s.route = OperationStep, operationCall{}, stepRoute(s.Operation)
		for _, sdoc := range c.doc.SourceDescriptions {
			if ref := c.plan.sources[sdoc.Name]; ref != nil && ref.Source == s.Operation.Source {
				s.Source = ref
				break
			}
		}
	case s.Callee != nil:
		s.Kind, s.perform = WorkflowStep, workflowCall{}
	}
	c.step11(s)
	stepParams := c.parameters(sd.Parameters, s, "step")
	s.Params = mergeParams(w.Parameters, stepParams, s.Callee != nil)
	c.checkQuerystring(s)
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
