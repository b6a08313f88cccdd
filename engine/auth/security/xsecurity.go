package security

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr"
)

// Redocly's x-security extension, on a step or a workflow:
//
//	x-security:
//	  - schemeName: ApiKeyAuth          # a scheme of the step's source
//	    values: {apiKey: $inputs.key}
//	  - scheme: {type: http, scheme: bearer}   # or one written inline
//	    values: {token: $inputs.token}
//
// The entries replace the operation's security requirement for the step
// (all of them apply); a step's entries come before its workflow's, which
// apply unless the step names the same scheme. Values are runtime
// expressions or templates, evaluated for each request; --auth, the
// --auth-file and the environment win over them for a named scheme.

// xValueFields maps Redocly's value names (and this package's field
// names) to fields.
var xValueFields = map[string]string{
	"apiKey": "key", "token": "token", "accessToken": "token",
	"username": "username", "password": "password",
	"clientId": "clientId", "clientSecret": "clientSecret",
}

type xEntry struct {
	index  int    // 1-based, for messages
	where  string // file:line:col of the x-security list
	name   string // schemeName
	inline *Scheme
	values map[string]*expr.Template
}

type xResult struct {
	entries []xEntry // nil: no x-security applies
	err     error
}

// xSecurity compiles the x-security entries that apply to a step, once.
func (a *Auth) xSecurity(step *engine.Step) ([]xEntry, error) {
	if v, ok := a.xsec.Load(step); ok {
		r := v.(*xResult)
		return r.entries, r.err
	}
	r := &xResult{}
	file := ""
	if step.Workflow != nil && step.Workflow.Plan != nil && step.Workflow.Plan.Doc != nil {
		file = step.Workflow.Plan.Doc.File
	}
	var own, inherited []xEntry
	var ownSet, inhSet bool
	if step.Doc != nil {
		own, ownSet, r.err = parseX(&step.Doc.Node, file)
	}
	if r.err == nil && step.Workflow != nil && step.Workflow.Doc != nil {
		inherited, inhSet, r.err = parseX(&step.Workflow.Doc.Node, file)
	}
	if r.err == nil && (ownSet || inhSet) {
		r.entries = append([]xEntry{}, own...)
		named := map[string]bool{}
		for _, e := range own {
			named[e.name] = e.name != ""
		}
		for _, e := range inherited {
			if e.name == "" || !named[e.name] {
				r.entries = append(r.entries, e)
			}
		}
	}
	a.xsec.Store(step, r)
	return r.entries, r.err
}

// parseX reads an object's x-security list; set is false when it has none.
func parseX(n *document.Node, file string) ([]xEntry, bool, error) {
	raw, ok := n.Extensions["x-security"]
	if !ok {
		return nil, false, nil
	}
	pos := n.At("x-security")
	where := fmt.Sprintf("%s:%d:%d", file, pos.Line, pos.Col)
	list, ok := raw.([]any)
	if !ok {
		return nil, true, fmt.Errorf("%s: x-security must be a list of {schemeName or scheme, values}", where)
	}
	entries := []xEntry{}
	for i, item := range list {
		m, ok := item.(map[string]any)
		e := xEntry{index: i + 1, where: where, values: map[string]*expr.Template{}}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s: x-security entry %d: %s", where, e.index, fmt.Sprintf(format, args...))
		}
		if !ok {
			return nil, true, bad("want an object with schemeName or scheme, and values")
		}
		name, hasName := m["schemeName"].(string)
		def, hasDef := m["scheme"].(map[string]any)
		switch {
		case hasName && hasDef:
			return nil, true, bad("give schemeName or scheme, not both")
		case hasName:
			e.name = name
		case hasDef:
			data, _ := json.Marshal(def)
			var ss openapi3.SecurityScheme
			if err := json.Unmarshal(data, &ss); err != nil {
				return nil, true, bad("scheme: %v", err)
			}
			k, err := KindOf(&ss)
			if err != nil {
				return nil, true, bad("scheme: %v", err)
			}
			e.inline = &Scheme{Kind: k, Def: &ss}
		default:
			return nil, true, bad("want schemeName or scheme")
		}
		vals, _ := m["values"].(map[string]any)
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			field, ok := xValueFields[k]
			if !ok {
				return nil, true, bad("unknown value %q (known: apiKey, token, accessToken, username, password, clientId, clientSecret)", k)
			}
			text, ok := vals[k].(string)
			if !ok {
				text = fmt.Sprint(vals[k])
			}
			t, errs := expr.ParseTemplate(text)
			for _, err := range errs {
				if !err.Warning {
					return nil, true, bad("values.%s: %v", k, err)
				}
			}
			e.values[field] = t
		}
		entries = append(entries, e)
	}
	return entries, true, nil
}

// xNeeds resolves a step's x-security entries: all of them apply.
func (a *Auth) xNeeds(step *engine.Step, entries []xEntry, schemes []*Scheme, values expr.Context, known bool) ([]need, error) {
	var needs []need
	for _, e := range entries {
		s := e.inline
		if s == nil {
			if s = find(schemes, e.name); s == nil {
				return nil, fmt.Errorf("%s: x-security entry %d names security scheme %q, which source %s does not define", e.where, e.index, e.name, step.Source.Name)
			}
		}
		extra := map[string]string{}
		var undefined []string
		for field, t := range e.values {
			if !known && !t.IsLiteral() {
				extra[field] = unknownValue
				continue
			}
			if values == nil {
				continue
			}
			if v, ok := t.Eval(values); ok {
				extra[field] = expr.Text(v)
			} else {
				undefined = append(undefined, t.Text)
			}
		}
		f, err := resolve(a.cfg.Layers, s, extra)
		if err != nil {
			return nil, err
		}
		if !present(s, f) {
			detail := fmt.Sprintf("x-security entry %d (%s, at %s) gives no complete credential", e.index, s.Describe(), e.where)
			if len(undefined) > 0 {
				sort.Strings(undefined)
				detail += "; undefined: " + strings.Join(undefined, ", ")
			}
			if s.Source != "" {
				detail += "; " + howToGive(s)
			}
			return nil, &MissingError{WorkflowID: step.Workflow.ID, StepID: step.ID, Source: step.Source.Name, Detail: detail}
		}
		needs = append(needs, need{scheme: s, fields: f})
	}
	return needs, nil
}

// unknownValue stands, at Prepare time, for an x-security value that only
// the running workflow's inputs can give. It is shorter than anything the
// run's masking takes.
const unknownValue = "\x00"
