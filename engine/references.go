package engine

import (
	"strings"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr"
)

// exprUse is an expression found while compiling, with where it sits and
// whether it is evaluated before the step's call (parameters, body) or after.
type exprUse struct {
	e      *expr.Expression
	pos    document.Pos
	step   *Step
	before bool
}

func (c *compiler) track(pos document.Pos, before bool, es ...*expr.Expression) {
	for _, e := range es {
		c.uses = append(c.uses, exprUse{e: e, pos: pos, step: c.curStep, before: before})
	}
}

// checkReferences checks that what each expression of w names exists:
// steps of the same workflow and their declared outputs, workflows, inputs
// the inputs schema declares, sources and components.
func (c *compiler) checkReferences(w *Workflow) {
	uses := c.uses
	c.uses = nil
	var inputNames map[string]any
	strictInputs := false
	if w.Inputs != nil {
		inputNames, _ = w.Inputs.Properties()
		strictInputs = inputNames != nil
	} else {
		strictInputs = true // no inputs declared at all
	}
	for _, u := range uses {
		e := u.e
		switch e.Source {
		case expr.SrcSteps:
			t := w.Step(e.ID)
			if t == nil {
				c.errorf(u.pos, "expression-reference", "%s names step %q, which is not in workflow %q (steps: %s)", e.Text, e.ID, w.ID, stepIDs(w))
				continue
			}
			if !declaresOutput(t.Doc.Outputs, e.Name) {
				c.errorf(u.pos, "undeclared-output", "%s reads output %q, which step %q does not declare%s", e.Text, e.Name, t.ID, declaredList(t.Doc.Outputs))
				continue
			}
			if u.before && u.step == t {
				c.warnf(u.pos, "self-reference", "%s reads step %q's own output before its request is sent: it is undefined on the first visit", e.Text, t.ID)
			}
			c.implicitDeps(w, u, t)
		case expr.SrcWorkflows:
			if c.plan.byID[e.ID] == nil && !c.externalWorkflow(e.ID) {
				c.errorf(u.pos, "expression-reference", "%s names workflow %q, which is not in this document", e.Text, e.ID)
			}
		case expr.SrcInputs:
			if !strictInputs {
				continue
			}
			if !declaresName(inputNames, e.Name) {
				if w.Inputs == nil {
					c.errorf(u.pos, "expression-reference", "%s reads input %q, but workflow %q declares no inputs", e.Text, e.Name, w.ID)
				} else {
					c.errorf(u.pos, "expression-reference", "%s reads input %q, which the inputs schema of workflow %q does not declare", e.Text, e.Name, w.ID)
				}
			}
		case expr.SrcSourceDescriptions:
			if c.plan.sources[e.ID] == nil {
				c.errorf(u.pos, "expression-reference", "%s names source %q, which is not declared (sources: %s)", e.Text, e.ID, c.sourceNames())
			}
		case expr.SrcComponents:
			if !c.hasComponent(e.Part, e.Name) {
				c.errorf(u.pos, "expression-reference", "%s does not exist in this document's components", e.Text)
			}
		}
	}
}

// declaresOutput accepts the exact name, or a declared name followed by
// property navigation (`body.items`).
func declaresOutput(o *document.Outputs, name string) bool {
	if o == nil {
		return false
	}
	if _, ok := o.Values[name]; ok {
		return true
	}
	for i := strings.IndexByte(name, '.'); i > 0; i = nextDot(name, i) {
		if _, ok := o.Values[name[:i]]; ok {
			return true
		}
	}
	return false
}

func declaresName(m map[string]any, name string) bool {
	if _, ok := m[name]; ok {
		return true
	}
	for i := strings.IndexByte(name, '.'); i > 0; i = nextDot(name, i) {
		if _, ok := m[name[:i]]; ok {
			return true
		}
	}
	return false
}

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func declaredList(o *document.Outputs) string {
	if o == nil || len(o.Names) == 0 {
		return " (it declares no outputs)"
	}
	return " (it declares: " + strings.Join(o.Names, ", ") + ")"
}

func (c *compiler) hasComponent(kind, key string) bool {
	comp := c.doc.Components
	if comp == nil {
		return false
	}
	var ok bool
	switch kind {
	case "parameters":
		_, ok = comp.Parameters[key]
	case "successActions":
		_, ok = comp.SuccessActions[key]
	case "failureActions":
		_, ok = comp.FailureActions[key]
	case "inputs":
		_, ok = comp.Inputs[key]
	}
	return ok
}

// externalWorkflow reports whether a workflow of that id lives in one of the
// document's Arazzo sources; once called, its values are visible by id too.
func (c *compiler) externalWorkflow(id string) bool {
	for _, ref := range c.plan.sources {
		if ref.Plan != nil && ref.Plan.Workflow(id) != nil {
			return true
		}
	}
	return false
}
