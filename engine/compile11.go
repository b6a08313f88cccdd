package engine

import (
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	rfcjsonpath "github.com/theory/jsonpath"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// What Arazzo 1.1 adds to compilation: Selector Objects in values, step
// timeouts and dependencies, AsyncAPI steps (checked, then refused at run
// time), replacement target types, action parameters and the base URI.
// Each is reached only from a 1.1 document: the parser rejects the fields
// in a 1.0 one.

// value compiles a parameter, payload, replacement or output value in the
// document's grammar (Selector Objects from 1.1 on) and tracks what its
// expressions read.
func (c *compiler) value(raw any, pos document.Pos, before bool) *expr.Value {
	v, errs := expr.CompileValueVersion(raw, c.ver)
	for _, e := range errs {
		if e.Path != "" {
			e.Offset = 0
		}
		c.exprDiag(pos, e.Error, "expression")
	}
	for _, s := range v.Selectors() {
		if s.Unsupported != "" {
			c.unsupported(pos, s.Unsupported)
		}
	}
	c.track(pos, before, v.Expressions()...)
	return v
}

// unsupported records something the current step (or workflow) asks for
// that this tool cannot perform: validate warns, run refuses.
func (c *compiler) unsupported(pos document.Pos, why string) {
	c.warnf(pos, "unsupported", "%s; `run` refuses a workflow that reaches it", why)
	switch {
	case c.curStep != nil:
		c.curStep.Unsupported = append(c.curStep.Unsupported, why)
	case c.curWF != nil:
		c.curWF.unsupported = append(c.curWF.unsupported, why)
	}
}

// locations lists the parameter locations of the document's version.
func (c *compiler) locations() string {
	if c.ver >= expr.V11 {
		return "path, query, querystring, header or cookie"
	}
	return "path, query, header or cookie"
}

// asyncStep reports whether a step is an AsyncAPI step: it has an action
// or a channelPath, or its operationId names an AsyncAPI source.
func (c *compiler) asyncStep(sd *document.Step) bool {
	if sd.Action != "" || sd.ChannelPath != "" {
		return true
	}
	if rest, ok := strings.CutPrefix(sd.OperationID, "$sourceDescriptions."); ok {
		name, _, _ := strings.Cut(rest, ".")
		if ref := c.plan.sources[name]; ref != nil && ref.Type == "asyncapi" {
			return true
		}
	}
	return false
}

// step11 compiles a step's 1.1 fields: timeout and explicit dependsOn.
func (c *compiler) step11(s *Step) {
	sd := s.Doc
	if sd.Timeout != nil {
		if *sd.Timeout <= 0 {
			c.errorf(sd.At("timeout"), "step-timeout", "timeout is in milliseconds and must be positive, found %d", *sd.Timeout)
		} else {
			s.Timeout = time.Duration(*sd.Timeout) * time.Millisecond
			if s.perform != nil {
				s.perform = timed{s.perform}
			}
		}
	}
	for i, d := range sd.DependsOn {
		pos := c.doc.Index[fmt.Sprintf("%s/dependsOn/%d", c.stepPointer(s), i)]
		if !pos.IsValid() {
			pos = sd.At("dependsOn")
		}
		if t := c.stepRef(s, d, pos); t != nil {
			s.After = append(s.After, t)
			s.AfterText = append(s.AfterText, d)
		}
	}
}

func (c *compiler) stepPointer(s *Step) string {
	for wi, w := range c.plan.Workflows {
		if w == s.Workflow {
			return fmt.Sprintf("/workflows/%d/steps/%d", wi, s.Index)
		}
	}
	return ""
}

// stepRef resolves a dependsOn entry: a stepId of the same workflow,
// $workflows.<workflowId>.steps.<stepId>, or
// $sourceDescriptions.<name>.<workflowId>.steps.<stepId>.
func (c *compiler) stepRef(s *Step, ref string, pos document.Pos) *Step {
	var w *Workflow
	var id string
	switch {
	case strings.HasPrefix(ref, "$workflows."):
		wf, step, ok := strings.Cut(strings.TrimPrefix(ref, "$workflows."), ".steps.")
		if !ok || wf == "" || step == "" {
			c.errorf(pos, "depends-on", "a step of another workflow is $workflows.<workflowId>.steps.<stepId>, found %q", ref)
			return nil
		}
		if w = c.plan.byID[wf]; w == nil {
			c.errorf(pos, "depends-on", "dependsOn %q names workflow %q, which is not in this document", ref, wf)
			return nil
		}
		id = step
	case strings.HasPrefix(ref, "$sourceDescriptions."):
		rest := strings.TrimPrefix(ref, "$sourceDescriptions.")
		name, rest, _ := strings.Cut(rest, ".")
		wf, step, ok := strings.Cut(rest, ".steps.")
		src := c.plan.sources[name]
		switch {
		case !ok || wf == "" || step == "":
			c.errorf(pos, "depends-on", "a step of another document is $sourceDescriptions.<name>.<workflowId>.steps.<stepId>, found %q", ref)
			return nil
		case src == nil:
			c.errorf(pos, "depends-on", "dependsOn %q names source %q, which is not declared (sources: %s)", ref, name, c.sourceNames())
			return nil
		case c.unavailable[name]:
			return nil
		case src.Plan == nil:
			c.errorf(pos, "depends-on", "dependsOn %q names source %q, which is not an Arazzo document", ref, name)
			return nil
		}
		if w = src.Plan.Workflow(wf); w == nil {
			c.errorf(pos, "depends-on", "source %q has no workflow %q", name, wf)
			return nil
		}
		id = step
	case strings.HasPrefix(ref, "$"):
		c.errorf(pos, "depends-on", "dependsOn %q: write a stepId, $workflows.<workflowId>.steps.<stepId> or $sourceDescriptions.<name>.<workflowId>.steps.<stepId>", ref)
		return nil
	default:
		w, id = s.Workflow, ref
	}
	t := w.Step(id)
	switch {
	case t == nil:
		c.errorf(pos, "depends-on", "dependsOn %q: workflow %q has no step %q (steps: %s)", ref, w.ID, id, stepIDs(w))
	case t == s:
		c.errorf(pos, "depends-on", "step %q depends on itself", s.ID)
		return nil
	}
	return t
}

// implicitDeps adds, per 1.1, each $steps reference as a dependency of
// the step that holds it, and reports a forward reference in a workflow
// that declares no dependsOn (the steps run in document order then).
func (c *compiler) implicitDeps(w *Workflow, u exprUse, t *Step) {
	if c.ver < expr.V11 || u.step == nil || u.step == t {
		return
	}
	for _, a := range u.step.After {
		if a == t {
			return
		}
	}
	if t.Index > u.step.Index && !usesDependsOn(w) {
		c.errorf(u.pos, "forward-reference", "%s reads step %q, which comes later in workflow %q: steps run in document order, so add dependsOn: [%s] to step %q (or move it)", u.e.Text, t.ID, w.ID, t.ID, u.step.ID)
		return
	}
	u.step.After = append(u.step.After, t)
	u.step.AfterText = append(u.step.AfterText, t.ID)
}

func usesDependsOn(w *Workflow) bool {
	for _, s := range w.Steps {
		if len(s.Doc.DependsOn) > 0 {
			return true
		}
	}
	return false
}

// orderSteps sets the execution order: with dependencies inside the
// workflow, a topological order that keeps document order among steps
// that do not depend on each other; a cycle is an error.
func (c *compiler) orderSteps(w *Workflow) {
	if !usesDependsOn(w) {
		return
	}
	state := map[*Step]int{}
	var order []*Step
	var visit func(s *Step, path []string) bool
	visit = func(s *Step, path []string) bool {
		switch state[s] {
		case 1:
			c.errorf(s.Doc.At("dependsOn"), "depends-on-cycle", "step dependencies form a cycle: %s", strings.Join(append(path, s.ID), " -> "))
			return false
		case 2:
			return true
		}
		state[s] = 1
		for _, d := range s.After {
			if d.Workflow == w && !visit(d, append(path, s.ID)) {
				return false
			}
		}
		state[s] = 2
		order = append(order, s)
		return true
	}
	for _, s := range w.Steps {
		if !visit(s, nil) {
			return
		}
	}
	for i, s := range order {
		s.pos = i
	}
	w.order = order
}

// checkQuerystring warns about a querystring parameter beside query
// parameters (OpenAPI 3.2 forbids the mix: the querystring is the whole
// query) or beside another querystring.
func (c *compiler) checkQuerystring(s *Step) {
	var qs, q int
	for _, p := range s.Params {
		switch p.In {
		case "querystring":
			qs++
		case "query":
			q++
		}
	}
	if qs > 1 || (qs == 1 && q > 0) {
		c.warnf(s.Doc.At("parameters"), "querystring-mix", "step %q sends a querystring parameter with %d other query or querystring parameter(s): a querystring is the whole query (OpenAPI 3.2), so they are appended to it", s.ID, qs+q-1)
	}
}

// replacement11 compiles a replacement whose target type is not the 1.0
// default (a JSON pointer for JSON, XPath 1.0 for XML). done is false when
// the 1.0 rules apply.
func (c *compiler) replacement11(r *document.Replacement, contentType string) (Replacement, bool) {
	if c.ver < expr.V11 {
		return Replacement{}, false
	}
	typ := r.TargetType
	if typ == "" && isXMLType(contentType) {
		typ = "xpath"
	}
	rep := Replacement{Target: r.Target, TargetType: typ}
	pos := r.At("targetSelectorType")
	switch typ {
	case "", "jsonpointer":
		if r.TargetVersion != "" && r.TargetVersion != expr.VersionRFC6901 {
			c.errorf(pos, "replacement-target", "unknown JSON Pointer version %q (rfc6901)", r.TargetVersion)
		}
		return Replacement{}, false
	case "jsonpath":
		switch r.TargetVersion {
		case "", expr.VersionRFC9535:
			p, err := rfcjsonpath.Parse(r.Target)
			if err != nil {
				c.errorf(r.At("target"), "replacement-target", "replacement target %q is not an RFC 9535 JSONPath query: %v", r.Target, err)
			}
			rep.jp = p
		default:
			c.unsupported(pos, fmt.Sprintf("a replacement target in JSONPath %s cannot be located (only RFC 9535 queries locate nodes)", r.TargetVersion))
		}
	case "xpath":
		switch v := r.TargetVersion; {
		case v == expr.VersionXPath10, expr.PlainXPath(r.Target):
		default:
			if v == "" {
				v = expr.VersionXPath31
			}
			c.unsupported(r.At("target"), fmt.Sprintf("replacement target %q is XPath %s, which is not supported: only XPath 1.0 and plain location paths are evaluated", r.Target, v))
		}
	default:
		c.errorf(pos, "replacement-target", "unknown targetSelectorType %q (jsonpointer, jsonpath or xpath)", typ)
	}
	rep.Value = c.value(r.Value, r.At("value"), true)
	return rep, true
}

// locate lists the JSON pointers an RFC 9535 replacement target selects.
func (rep *Replacement) locate(v any) [][]string {
	var out [][]string
	for _, n := range rep.jp.SelectLocated(v) {
		toks, err := jsonpointer.Split(n.Path.Pointer())
		if err == nil {
			out = append(out, toks)
		}
	}
	return out
}

// actionParams compiles a 1.1 action's parameters: the inputs of the
// workflow a goto or retry transfers to.
func (c *compiler) actionParams(a *document.Action, act *Action) []*Param {
	if len(a.Parameters) == 0 {
		return nil
	}
	for _, pr := range a.Parameters {
		if pr.Parameter != nil && pr.Parameter.In != "" {
			c.errorf(pr.Parameter.At("in"), "parameter-in", "parameter %q of action %q is an input of the target workflow: remove `in: %s`", pr.Parameter.Name, a.Name, pr.Parameter.In)
		}
	}
	if a.WorkflowID == "" {
		c.errorf(a.At("parameters"), "action-parameters", "action %q has parameters but no workflowId: parameters are the inputs of the workflow it transfers to", a.Name)
	}
	return c.parameters(a.Parameters, nil, "action")
}

// baseURI is what relative references in the document resolve against
// (1.1 "Establishing the Base URI"): $self, itself resolved against the
// retrieval location when relative; else the retrieval location.
func (c *compiler) baseURI() string {
	if !c.doc.Version.AtLeast11() {
		return c.doc.File // a 1.0 document's $self is an error, not a base
	}
	return resolveBase(c.doc.File, c.doc.Self)
}

// resolveBase applies RFC 3986 §5.1 to a retrieval location (a path or a
// URL) and a $self value; file: URLs come back as paths, which is how the
// source loader reads local files.
func resolveBase(retrieval, self string) string {
	base := filePath(retrieval)
	if self == "" {
		return base
	}
	if u, err := url.Parse(self); err == nil && u.IsAbs() {
		return filePath(self)
	}
	if b, err := url.Parse(base); err == nil && b.IsAbs() {
		if u, err := url.Parse(self); err == nil {
			return b.ResolveReference(u).String()
		}
	}
	if r, err := source.Resolve(base, self); err == nil {
		return r
	}
	return base
}

func filePath(loc string) string {
	if u, err := url.Parse(loc); err == nil && u.Scheme == "file" {
		return filepath.Clean(u.Path)
	}
	return loc
}

// selfURI is the document's $self resolved to an absolute URI (a local
// file as a file: URI), undefined when it has none: what `$self` gives.
func (p *Plan) selfURI() (string, bool) {
	if p.Doc == nil || p.Doc.Self == "" || !p.Version.AtLeast11() {
		return "", false
	}
	if u, err := url.Parse(p.Self); err == nil && u.IsAbs() {
		return p.Self, true
	}
	abs, err := filepath.Abs(p.Self)
	if err != nil {
		return p.Self, true
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), true
}

// reachable lists the workflows a run of w can enter: w, what it depends
// on, calls, and transfers to, transitively.
func reachable(w *Workflow) []*Workflow {
	seen := map[*Workflow]bool{}
	var out []*Workflow
	var walk func(*Workflow)
	walk = func(w *Workflow) {
		if w == nil || seen[w] {
			return
		}
		seen[w] = true
		out = append(out, w)
		for _, d := range w.DependsOn {
			walk(d)
		}
		for _, s := range w.Steps {
			walk(s.Callee)
			for _, a := range append(append([]*Action{}, s.OnSuccess...), s.OnFailure...) {
				walk(a.TargetWorkflow)
			}
		}
	}
	walk(w)
	return out
}

// checkSupported refuses, before anything is sent, a run that could reach
// something this tool cannot perform.
func checkSupported(w *Workflow) error {
	var reasons []string
	for _, x := range reachable(w) {
		for _, why := range x.unsupported {
			reasons = append(reasons, fmt.Sprintf("workflow %s: %s", x.ID, why))
		}
		for _, s := range x.Steps {
			for _, why := range s.Unsupported {
				reasons = append(reasons, fmt.Sprintf("workflow %s, step %s: %s", x.ID, s.ID, why))
			}
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	sort.Strings(reasons)
	return &UnsupportedError{Reasons: reasons}
}
