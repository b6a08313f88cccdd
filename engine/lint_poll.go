package engine

// A polling loop that tests a status against some values of an enum lets
// the others fall through: where no onSuccess action matches, the run goes
// on to the next step as if the poll had succeeded. A FAILED or CANCELLED
// job then passes for a finished one. The check below names the values
// that fall through, from the enum the response schema declares.

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

var (
	// $.A.B == "X" (jsonpath over $response.body)
	jsonPathEqRE = regexp.MustCompile(`^\s*\$((?:\.[A-Za-z_][\w-]*)+)\s*==\s*(["'])([^"']*)["']\s*$`)
	// $response.body#/A/B == 'X' (simple)
	pointerEqRE = regexp.MustCompile(`^\s*\$response\.body#(/[^\s=!<>]*)\s*==\s*(["'])([^"']*)["']\s*$`)
)

// checkPollCoverage warns when step s polls (an onSuccess goto back to
// itself) on a response member whose schema is an enum, and its onSuccess
// criteria leave some of the enum's values unhandled.
func (c *compiler) checkPollCoverage(s *Step) {
	if s.Operation == nil {
		return
	}
	polls := false
	for _, a := range s.OnSuccess {
		polls = polls || (a.Type == Goto && a.StepID == s.ID)
	}
	if !polls {
		return
	}
	covered := map[string][]string{} // pointer → values tested
	var order []string
	for _, a := range s.OnSuccess {
		if len(a.Criteria) != 1 {
			continue // several criteria narrow one another: not a plain status test
		}
		ptr, val, ok := statusTest(a.Criteria[0])
		if !ok {
			continue
		}
		if _, seen := covered[ptr]; !seen {
			order = append(order, ptr)
		}
		covered[ptr] = append(covered[ptr], val)
	}
	for _, ptr := range order {
		sch := responseMember(s.Operation.Op, ptr)
		if sch == nil || len(sch.Enum) == 0 {
			continue
		}
		var missing []string
		for _, e := range sch.Enum {
			if v, ok := e.(string); ok && !slices.Contains(covered[ptr], v) {
				missing = append(missing, v)
			}
		}
		if len(missing) == 0 {
			continue
		}
		c.warnf(s.Doc.At("onSuccess"), "poll-enum-coverage",
			"step %q polls on %s, but its onSuccess criteria test only %s of the %d values the response schema allows; %s match no action and fall through to the next step as success: add actions for them (an end, or a goto to a step that fails)",
			s.ID, ptr, strings.Join(covered[ptr], ", "), len(sch.Enum), strings.Join(missing, ", "))
	}
}

// statusTest reads a criterion that compares one response body member
// with a string literal, returning the member as a JSON pointer.
func statusTest(cr *Criterion) (ptr, val string, ok bool) {
	spec := cr.Spec
	switch strings.ToLower(spec.Type) {
	case "jsonpath":
		if strings.TrimSpace(spec.Context) != "$response.body" {
			return "", "", false
		}
		m := jsonPathEqRE.FindStringSubmatch(spec.Condition)
		if m == nil {
			return "", "", false
		}
		return strings.ReplaceAll(m[1], ".", "/"), m[3], true
	case "", "simple":
		m := pointerEqRE.FindStringSubmatch(spec.Condition)
		if m == nil {
			return "", "", false
		}
		return m[1], m[3], true
	}
	return "", "", false
}

// responseMember finds the schema at a JSON pointer into the operation's
// success response body (200, else the first 2xx, else default).
func responseMember(op *openapi3.Operation, ptr string) *openapi3.Schema {
	if op == nil || op.Responses == nil {
		return nil
	}
	var resp *openapi3.ResponseRef
	if r := op.Responses.Value("200"); r != nil {
		resp = r
	} else {
		for code := 201; code < 300 && resp == nil; code++ {
			resp = op.Responses.Value(strconv.Itoa(code))
		}
		if resp == nil {
			resp = op.Responses.Default()
		}
	}
	if resp == nil || resp.Value == nil {
		return nil
	}
	var sch *openapi3.Schema
	for mt, m := range resp.Value.Content {
		if isJSONType(mt) && m != nil && m.Schema != nil {
			sch = m.Schema.Value
			break
		}
	}
	toks, err := jsonpointer.Split(ptr)
	if err != nil {
		return nil
	}
	for _, t := range toks {
		if sch == nil {
			return nil
		}
		if p := sch.Properties[t]; p != nil {
			sch = p.Value
		} else if _, err := strconv.Atoi(t); err == nil && sch.Items != nil {
			sch = sch.Items.Value
		} else {
			return nil
		}
	}
	return sch
}
