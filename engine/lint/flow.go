package lint

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr"
)

// actionPos is where an action of step s is written: in the step's list,
// else in its workflow's.
func actionPos(s *engine.Step, a *engine.Action, failure bool) document.Pos {
	stepList, wfList := s.Doc.OnSuccess, s.Workflow.Doc.SuccessActions
	if failure {
		stepList, wfList = s.Doc.OnFailure, s.Workflow.Doc.FailureActions
	}
	for _, refs := range [][]*document.ActionRef{stepList, wfList} {
		for _, r := range refs {
			if r.Reusable != nil {
				if strings.HasSuffix(strings.TrimSpace(r.Reusable.Reference), "."+a.Name) {
					return r.Reusable.At("reference")
				}
				continue
			}
			if r.Action != nil && r.Name == a.Name {
				return r.At("name")
			}
		}
	}
	return s.Doc.At("stepId")
}

// actionLabel names an action for a message; a nameless one (the schema
// reports the missing name) by its type and target.
func actionLabel(a *engine.Action) string {
	if a.Name != "" {
		return "action " + quote(a.Name)
	}
	if t := a.StepID; t != "" {
		return fmt.Sprintf("its %s action to %q", a.Type, t)
	}
	return fmt.Sprintf("its %s action", a.Type)
}

// leaves says whether action a (of a step inside the loop body
// from..to) takes the run out of the loop.
func leaves(a *engine.Action, from, to int) bool {
	switch a.Type {
	case engine.End:
		return true
	case engine.Goto:
		return a.TargetWorkflow != nil || (a.Step != nil && (a.Step.Index < from || a.Step.Index > to))
	}
	return false
}

func (l *linter) loops(w *engine.Workflow) {
	for _, s := range w.Steps {
		polls := false
		for i, a := range s.OnSuccess {
			if a.Type != engine.Goto || a.Step == nil || a.Step.Index > s.Index {
				continue
			}
			if !polls {
				l.enumFallthrough(s, a) // once per polling step, at its first way back
				polls = true
			}
			if len(a.Criteria) > 0 {
				continue
			}
			from, to := a.Step.Index, s.Index
			exit := false
			for _, b := range s.OnSuccess[:i] {
				exit = exit || leaves(b, from, to)
			}
			for _, t := range w.Steps[from:to] {
				for _, b := range t.OnSuccess {
					exit = exit || leaves(b, from, to)
				}
			}
			if !exit {
				where := "itself"
				if a.Step != s {
					where = fmt.Sprintf("step %q", a.Step.ID)
				}
				l.report("loop-no-exit", actionPos(s, a, false), fmt.Sprintf("%s of step %q always goes back to %s and nothing in the loop leaves it: it runs until a step fails or the step limit stops it (give the goto a criterion)", actionLabel(a), s.ID, where))
			}
		}
	}
}

// comparison is `<response field> == or != <literal>` in a criterion.
type comparison struct {
	field string // JSON pointer into the response body
	neg   bool   // !=
	value string
}

// Compiled on first use: every arazzo command links this package, few lint.
var (
	cmpFieldFirst = lazyRegexp(`^\(*\s*\$response\.body(#\S*?|(?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*(==|!=)\s*('[^']*'|"[^"]*"|[A-Za-z0-9_.+-]+)\s*\)*$`)
	cmpValueFirst = lazyRegexp(`^\(*\s*('[^']*'|"[^"]*"|[A-Za-z0-9_.+-]+)\s*(==|!=)\s*\$response\.body(#\S*?|(?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*\)*$`)
	cmpJSONPath   = lazyRegexp(`^\(*\s*\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*(==|!=)\s*('[^']*'|"[^"]*"|[A-Za-z0-9_.+-]+)\s*\)*$`)
	boolSplit     = lazyRegexp(`\|\||&&`)
)

// comparisons reads the field comparisons of a criterion; conditions
// joined by && or || each count (which is lenient: it may count a value
// as handled when it is not, never the other way round).
func comparisons(c *expr.Criterion) []comparison {
	var out []comparison
	norm := func(field string) string {
		if strings.HasPrefix(field, "#") {
			return field[1:]
		}
		return strings.ReplaceAll(field, ".", "/")
	}
	unq := func(v string) string {
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') {
			return v[1 : len(v)-1]
		}
		return v
	}
	for _, part := range boolSplit().Split(c.Spec.Condition, -1) {
		part = strings.TrimSpace(part)
		switch c.Kind {
		case expr.Simple:
			if m := cmpFieldFirst().FindStringSubmatch(part); m != nil {
				out = append(out, comparison{field: norm(m[1]), neg: m[2] == "!=", value: unq(m[3])})
			} else if m := cmpValueFirst().FindStringSubmatch(part); m != nil {
				out = append(out, comparison{field: norm(m[3]), neg: m[2] == "!=", value: unq(m[1])})
			}
		case expr.JSONPath:
			if strings.TrimSpace(c.Spec.Context) != "$response.body" {
				continue
			}
			if m := cmpJSONPath().FindStringSubmatch(part); m != nil {
				out = append(out, comparison{field: norm(m[1]), neg: m[2] == "!=", value: unq(m[3])})
			}
		}
	}
	return out
}

// enumFallthrough: the polling step s loops back with goto; its success
// criteria and success actions compare response fields; a field whose
// schema is an enum must have every value handled, or those values
// silently end the loop.
func (l *linter) enumFallthrough(s *engine.Step, back *engine.Action) {
	handled := map[string]map[string]bool{}
	compared := map[string]bool{}
	enums := map[string][]string{}
	enumOf := func(field string) []string {
		if e, ok := enums[field]; ok {
			return e
		}
		toks := strings.Split(strings.TrimPrefix(field, "/"), "/")
		e := responseEnum(s, toks)
		enums[field] = e
		if handled[field] == nil {
			handled[field] = map[string]bool{}
		}
		return e
	}
	mark := func(field string, all []string, except string, only string) {
		for _, v := range all {
			if (only != "" && v == only) || (only == "" && v != except) {
				handled[field][v] = true
			}
		}
	}
	for _, c := range s.Success {
		for _, cmp := range comparisons(c.Criterion) {
			all := enumOf(cmp.field)
			if cmp.neg {
				mark(cmp.field, all, "", cmp.value) // that value fails the step
			} else {
				mark(cmp.field, all, cmp.value, "") // every other value fails it
			}
		}
	}
	for _, a := range s.OnSuccess {
		if len(a.Criteria) == 0 {
			return // an unconditional action: nothing falls through
		}
		for _, c := range a.Criteria {
			for _, cmp := range comparisons(c.Criterion) {
				all := enumOf(cmp.field)
				compared[cmp.field] = true
				if cmp.neg {
					mark(cmp.field, all, cmp.value, "")
				} else {
					mark(cmp.field, all, "", cmp.value)
				}
			}
		}
	}
	fields := make([]string, 0, len(compared))
	for f := range compared {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		var left []string
		for _, v := range enums[f] {
			if !handled[f][v] {
				left = append(left, v)
			}
		}
		if len(left) > 0 && len(left) < len(enums[f]) {
			l.report("loop-enum-fallthrough", actionPos(s, back, false), fmt.Sprintf("step %q polls until $response.body#%s matches an action, but on %s (of the enum %s) no action matches and the run leaves the loop for the next step", s.ID, f, strings.Join(left, ", "), strings.Join(enums[f], ", ")))
		}
	}
}

// responseEnum is the enum of the response field at tokens, as text, when
// every response schema that has the field makes it an enum.
func responseEnum(s *engine.Step, tokens []string) []string {
	if s.Operation == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, sch := range responseSchemas(s.Operation.Op) {
		leaf := schemaAt(sch, tokens, 0)
		if leaf == nil {
			continue
		}
		if len(leaf.Enum) == 0 {
			return nil
		}
		for _, v := range leaf.Enum {
			t := expr.Text(v)
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// schemaAt finds the schema of the value at tokens (through properties,
// items and allOf/anyOf/oneOf members), or nil.
func schemaAt(sch *openapi3.Schema, tokens []string, depth int) *openapi3.Schema {
	if sch == nil || depth > 32 {
		return nil
	}
	if len(tokens) == 0 {
		if len(sch.Enum) == 0 {
			for _, refs := range []openapi3.SchemaRefs{sch.AllOf, sch.AnyOf, sch.OneOf} {
				for _, r := range refs {
					if r != nil && r.Value != nil && len(r.Value.Enum) > 0 {
						return r.Value
					}
				}
			}
		}
		return sch
	}
	if p := sch.Properties[tokens[0]]; p != nil {
		return schemaAt(p.Value, tokens[1:], depth+1)
	}
	if sch.Items != nil {
		return schemaAt(sch.Items.Value, tokens[1:], depth+1)
	}
	for _, refs := range []openapi3.SchemaRefs{sch.AllOf, sch.AnyOf, sch.OneOf} {
		for _, r := range refs {
			if r != nil {
				if found := schemaAt(r.Value, tokens, depth+1); found != nil {
					return found
				}
			}
		}
	}
	return nil
}

// unreachable reports steps no path reaches: not the first, not after a
// step that can go on to the next, not the target of any goto or retry.
func (l *linter) unreachable(w *engine.Workflow) {
	if len(w.Steps) == 0 {
		return
	}
	reached := make([]bool, len(w.Steps))
	why := make([]string, len(w.Steps))
	queue := []int{0}
	reached[0] = true
	visit := func(i int) {
		if i < len(w.Steps) && !reached[i] {
			reached[i] = true
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		s := w.Steps[i]
		next := true
		for _, a := range s.OnSuccess {
			if a.Step != nil {
				visit(a.Step.Index)
			}
			if len(a.Criteria) == 0 && (a.Type == engine.End || a.Type == engine.Goto) {
				next = false
				if i+1 < len(w.Steps) {
					why[i+1] = fmt.Sprintf("step %q before it always takes %s (it has no criteria)", s.ID, actionLabel(a))
				}
				break
			}
		}
		for _, a := range s.OnFailure {
			if a.Step != nil {
				visit(a.Step.Index)
			}
		}
		if next {
			visit(i + 1)
		}
	}
	for i, s := range w.Steps {
		if !reached[i] {
			reason := why[i]
			if reason == "" {
				reason = "no step before it goes on to it"
			}
			l.report("unreachable-step", s.Doc.At("stepId"), fmt.Sprintf("step %q can never run: %s, and no goto or retry targets it", s.ID, reason))
		}
	}
}

// expressions lists every runtime expression of a workflow that the plan
// keeps: parameters, bodies, criteria, actions, outputs.
func expressions(w *engine.Workflow) []*expr.Expression {
	var out []*expr.Expression
	crit := func(cs []*engine.Criterion) {
		for _, c := range cs {
			out = append(out, c.Expressions()...)
		}
	}
	acts := func(as []*engine.Action) {
		for _, a := range as {
			crit(a.Criteria)
		}
	}
	for _, p := range w.Parameters {
		out = append(out, p.Value.Expressions()...)
	}
	acts(w.SuccessActions)
	acts(w.FailureActions)
	for _, o := range w.Outputs {
		out = append(out, o.Value.Expressions()...)
	}
	for _, s := range w.Steps {
		for _, p := range s.Params {
			out = append(out, p.Value.Expressions()...)
		}
		if s.Body != nil {
			if s.Body.Payload != nil {
				out = append(out, s.Body.Payload.Expressions()...)
			}
			for _, r := range s.Body.Replacements {
				out = append(out, r.Value.Expressions()...)
			}
		}
		crit(s.Success)
		acts(s.OnSuccess)
		acts(s.OnFailure)
		for _, o := range s.Outputs {
			out = append(out, o.Value.Expressions()...)
		}
		if t, _ := expr.ParseTemplate(s.Doc.OperationPath); t != nil {
			out = append(out, t.Expressions()...)
		}
	}
	return out
}

func (l *linter) unusedInputs(w *engine.Workflow) {
	if w.Inputs == nil {
		return
	}
	props, _ := w.Inputs.Properties()
	if len(props) == 0 {
		return
	}
	used := map[string]bool{}
	for _, e := range expressions(w) {
		if e.Source == expr.SrcInputs {
			used[e.Name] = true
		}
	}
	for _, other := range l.plan.Workflows {
		for _, e := range expressions(other) {
			if e.Source == expr.SrcWorkflows && e.ID == w.ID && e.Part == "inputs" {
				used[e.Name] = true
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if used[name] {
			continue
		}
		pos := l.plan.Doc.Index[l.workflowPointer(w)+"/inputs/properties/"+escape(name)]
		if !pos.IsValid() {
			pos = w.Doc.At("inputs")
		}
		l.report("unused-input", pos, fmt.Sprintf("workflow %q declares input %q, which nothing reads", w.ID, name))
	}
}

func (l *linter) workflowPointer(w *engine.Workflow) string {
	for i, x := range l.plan.Workflows {
		if x == w {
			return fmt.Sprintf("/workflows/%d", i)
		}
	}
	return ""
}

func escape(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

func (l *linter) unusedOutputs() {
	for _, w := range l.plan.Workflows {
		read := map[string]bool{}
		for _, e := range expressions(w) {
			if e.Source == expr.SrcSteps {
				read[e.ID+"\x00"+e.Name] = true
			}
		}
		for _, s := range w.Steps {
			if s.Doc.Outputs == nil {
				continue
			}
			for _, n := range s.Doc.Outputs.Names {
				if !read[s.ID+"\x00"+n] {
					l.report("unused-output", s.Doc.Outputs.At(n), fmt.Sprintf("output %q of step %q is never read ($steps.%s.outputs.%s appears nowhere)", n, s.ID, s.ID, n))
				}
			}
		}
	}
}

// constantCriteria reports simple criteria with no runtime expression.
func (l *linter) constantCriteria(s *engine.Step) {
	check := func(cs []*engine.Criterion, what string) {
		for _, c := range cs {
			if c.Kind != expr.Simple || len(c.Expressions()) > 0 || strings.TrimSpace(c.Spec.Condition) == "" {
				continue
			}
			pass, err := c.Eval(noContext{})
			if err != nil {
				continue
			}
			l.report("constant-criterion", c.Pos, fmt.Sprintf("%s %q reads no runtime expression: it is always %v", what, c.Spec.Condition, pass))
		}
	}
	check(s.Success, "success criterion")
	for _, a := range s.OnSuccess {
		check(a.Criteria, "criterion of action "+quote(a.Name))
	}
	for _, a := range s.OnFailure {
		check(a.Criteria, "criterion of action "+quote(a.Name))
	}
}

// noContext answers nothing: a criterion without expressions never asks.
type noContext struct{}

func (noContext) URL() (string, bool)                                { return "", false }
func (noContext) Method() (string, bool)                             { return "", false }
func (noContext) StatusCode() (int, bool)                            { return 0, false }
func (noContext) Message(bool) expr.Message                          { return nil }
func (noContext) Inputs() map[string]any                             { return nil }
func (noContext) Outputs() map[string]any                            { return nil }
func (noContext) StepOutputs(string) (map[string]any, bool)          { return nil, false }
func (noContext) WorkflowValues(string, bool) (map[string]any, bool) { return nil, false }
func (noContext) SourceDescription(string, string) (any, bool)       { return nil, false }
func (noContext) Component(string, string) (any, bool)               { return nil, false }

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
