package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/arazzo-go/arazzo/engine/diag"
)

// A run refuses only for errors that affect what it executes: the chosen
// workflows, the workflows they depend on, call, or go to, and the sources
// their steps use. Compile tags each diagnostic with the workflows it
// affects (diag.Diagnostic.Scoped, Workflows); Reach gives the set a run
// executes; diag.List.Within lowers the rest to warnings.

// PartialPlans makes LoadFile and LoadBytes return the plan even when it
// has errors, as long as each is confined to some workflows or sources.
// Plan.Run then refuses a workflow whose reach has an error.
func PartialPlans() CompileOption {
	return func(c *compiler) { c.partial = true }
}

// Reach returns the workflows that running ids executes or may execute:
// themselves, and transitively their dependencies, the workflows their
// steps call and those their actions go to or retry.
func (p *Plan) Reach(ids ...string) map[string]bool {
	seen := map[string]bool{}
	var visit func(w *Workflow)
	visit = func(w *Workflow) {
		if w == nil || w.Plan != p || seen[w.ID] {
			return
		}
		seen[w.ID] = true
		for _, d := range w.DependsOn {
			visit(d)
		}
		for _, a := range append(append([]*Action{}, w.SuccessActions...), w.FailureActions...) {
			visit(a.TargetWorkflow)
		}
		for _, s := range w.Steps {
			visit(s.Callee)
			for _, a := range append(append([]*Action{}, s.OnSuccess...), s.OnFailure...) {
				visit(a.TargetWorkflow)
			}
		}
	}
	for _, id := range ids {
		visit(p.Workflow(id))
	}
	return seen
}

// refusal is the first error that stops w from running, or nil.
func (p *Plan) refusal(w *Workflow) error {
	if len(p.errors) == 0 {
		return nil
	}
	reach := p.Reach(w.ID)
	errs := p.errors.Within(func(id string) bool { return reach[id] }).Errors()
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("workflow %s cannot run: %s", w.ID, errs.Error())
}

// scopeDiagnostics tags each diagnostic with the workflows it affects: by
// position, one inside a workflow affects that workflow; an OpenAPI source
// that cannot be loaded affects the workflows with a step it leaves
// unresolved; anything else (a nested Arazzo document with errors too)
// affects the whole document.
func scopeDiagnostics(plan *Plan, diags diag.List) {
	if plan == nil {
		return
	}
	doc := plan.Doc
	type span struct {
		first, last int
		id          string
	}
	spans := make([]span, len(doc.Workflows))
	for i, wd := range doc.Workflows {
		spans[i] = span{first: wd.Pos.Line, last: wd.Pos.Line, id: wd.WorkflowID}
	}
	for ptr, pos := range doc.Index {
		rest, ok := strings.CutPrefix(ptr, "/workflows/")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, "/")
		i, err := strconv.Atoi(num)
		if err != nil || i >= len(spans) {
			continue
		}
		spans[i].first = min(spans[i].first, pos.Line)
		spans[i].last = max(spans[i].last, pos.Line)
	}
	var unresolved []string
	for _, w := range plan.Workflows {
		for _, s := range w.Steps {
			if s.Kind == Unresolved {
				unresolved = append(unresolved, w.ID)
				break
			}
		}
	}
	for i := range diags {
		d := &diags[i]
		if d.File != doc.File {
			continue
		}
		switch d.Rule {
		case "source-unavailable":
			d.Scoped, d.Workflows = true, unresolved
			continue
		case "source-invalid", "source-cycle":
			// A nested Arazzo document with errors still resolves its
			// workflows: it stays an error for the whole document.
			continue
		}
		for _, s := range spans {
			if d.Line >= s.first && d.Line <= s.last && s.first > 0 {
				d.Scoped, d.Workflows = true, []string{s.id}
				break
			}
		}
	}
}
