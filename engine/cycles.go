package engine

import (
	"fmt"
	"strings"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
)

// callEdge is one way a workflow enters another: a step with a workflowId,
// or a goto or retry action that names a workflow. guarded says the action
// has criteria, so the call happens only when they hold.
type callEdge struct {
	from, to *Workflow
	guarded  bool
	pos      document.Pos
}

func (c *compiler) call(from, to *Workflow, guarded bool, pos document.Pos) {
	if from != nil && to != nil && to.Plan == from.Plan {
		c.calls = append(c.calls, callEdge{from, to, guarded, pos})
	}
}

// checkCallCycles finds workflows that can enter themselves again through
// calls, gotos and retries. A cycle of unconditional calls can only end at
// the run's nesting limit: an error. A cycle that passes through an action
// with criteria may be a deliberate loop that ends when they stop holding:
// a warning, since the run's nesting limit (Options.MaxDepth) bounds it.
func (c *compiler) checkCallCycles() {
	for _, guardedToo := range []bool{false, true} {
		out := map[*Workflow][]callEdge{}
		for _, e := range c.calls {
			if !e.guarded || guardedToo {
				out[e.from] = append(out[e.from], e)
			}
		}
		for _, w := range c.plan.Workflows {
			path := findCycle(w, out)
			if path == nil || (guardedToo && !anyGuarded(path)) {
				continue // unguarded cycles were reported in the first pass
			}
			if !reportedCycle(c, path) {
				c.reportCycle(path, guardedToo)
			}
		}
	}
}

// findCycle returns the edges of a path from w back to w, or nil.
func findCycle(w *Workflow, out map[*Workflow][]callEdge) []callEdge {
	seen := map[*Workflow]bool{}
	var path []callEdge
	var dfs func(v *Workflow) bool
	dfs = func(v *Workflow) bool {
		for _, e := range out[v] {
			path = append(path, e)
			if e.to == w {
				return true
			}
			if !seen[e.to] {
				seen[e.to] = true
				if dfs(e.to) {
					return true
				}
			}
			path = path[:len(path)-1]
		}
		return false
	}
	if dfs(w) {
		return path
	}
	return nil
}

func anyGuarded(path []callEdge) bool {
	for _, e := range path {
		if e.guarded {
			return true
		}
	}
	return false
}

// reportedCycle says whether the cycle's first edge already carries a
// cycle diagnostic: each cycle is reported once, not once per member.
func reportedCycle(c *compiler, path []callEdge) bool {
	for _, e := range path {
		for _, d := range c.diags {
			if (d.Rule == "workflow-cycle") && d.Line == e.pos.Line && d.Column == e.pos.Col {
				return true
			}
		}
	}
	return false
}

func (c *compiler) reportCycle(path []callEdge, guarded bool) {
	ids := []string{path[0].from.ID}
	for _, e := range path {
		ids = append(ids, e.to.ID)
	}
	chain := strings.Join(ids, " → ")
	if !guarded {
		c.errorf(path[0].pos, "workflow-cycle", "workflow %s enters itself again with no criteria on the way (%s): it can only stop at the nesting limit", path[0].from.ID, chain)
		return
	}
	c.report(diag.Warning, path[0].pos, "workflow-cycle", "%s", fmt.Sprintf("workflow %s can enter itself again (%s); it stops when the criteria on the way fail, or at the run's nesting limit", path[0].from.ID, chain))
}
