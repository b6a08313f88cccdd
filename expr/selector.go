package expr

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/PaesslerAG/gval"
	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
	rfcjsonpath "github.com/theory/jsonpath"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Expression types and versions, as the 1.1 Expression Type Object names
// them. A type written without a version takes the 1.1 default.
const (
	VersionRFC9535  = "rfc9535"
	VersionGoessner = "draft-goessner-dispatch-jsonpath-00"
	VersionXPath10  = "xpath-10"
	VersionXPath31  = "xpath-31"
	VersionRFC6901  = "rfc6901"
)

// plainPathRE matches an XPath location path of element and attribute
// names, `*`, and positional predicates only. Such a path selects the same
// nodes in XPath 1.0, 2.0, 3.0 and 3.1 (and a non-empty node set is true in
// every version), so an XPath 1.0 engine evaluates it honestly whatever
// version the document names.
var plainPathRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(/{1,2}(@?[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?|\*|@\*)(\[[1-9][0-9]*\])?)+$`)
})

// PlainXPath reports whether an XPath expression is a plain location path
// (see plainPathRE), which every XPath version evaluates alike.
func PlainXPath(text string) bool { return plainPathRE().MatchString(strings.TrimSpace(text)) }

// engineFor names what evaluates an expression of type typ and version
// version, or why nothing here can: XPath 2.0, 3.0 and 3.1 have no honest
// Go implementation (antchfx/xpath is XPath 1.0 with a few 2.0 functions,
// and its answers differ from 2.0+ in types, sequences and comparisons), so
// they are refused rather than approximated, except for a plain location
// path, which means the same in every version.
func engineFor(typ, version, text string) (engine, unsupported string, err *Error) {
	switch typ {
	case "jsonpath":
		switch version {
		case "", VersionRFC9535:
			return DialectRFC9535, "", nil
		case VersionGoessner:
			return DialectGoessner, "", nil
		}
		return "", "", errAt(0, "unknown JSONPath version %q (rfc9535 or %s)", version, VersionGoessner)
	case "xpath":
		switch version {
		case VersionXPath10:
			return VersionXPath10, "", nil
		case "", "xpath-20", "xpath-30", VersionXPath31:
			if version == "" {
				version = VersionXPath31
			}
			if PlainXPath(text) {
				return VersionXPath10, "", nil
			}
			return "", fmt.Sprintf("XPath %s is not supported: only XPath 1.0 is evaluated, and plain location paths (/a/b[1]/@c) in any version; write type: {type: xpath, version: xpath-10} if the expression is XPath 1.0", version), nil
		}
		return "", "", errAt(0, "unknown XPath version %q (xpath-10, xpath-20, xpath-30 or xpath-31)", version)
	case "jsonpointer":
		if version == "" || version == VersionRFC6901 {
			return VersionRFC6901, "", nil
		}
		return "", "", errAt(0, "unknown JSON Pointer version %q (rfc6901)", version)
	}
	return "", "", errAt(0, "unknown selector type %q (jsonpath, xpath or jsonpointer)", typ)
}

// IsSelector reports whether v is shaped as a 1.1 Selector Object: an
// object with exactly context (a runtime expression), selector and type,
// plus x- extensions. Anything else is a plain value.
func IsSelector(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	c, ok1 := m["context"].(string)
	_, ok2 := m["selector"].(string)
	_, ok3 := m["type"]
	if !ok1 || !ok2 || !ok3 || !strings.HasPrefix(strings.TrimSpace(c), "$") {
		return false
	}
	for k := range m {
		switch k {
		case "context", "selector", "type":
		default:
			if !strings.HasPrefix(k, "x-") {
				return false
			}
		}
	}
	return true
}

// PlaceholderContext is an optional Context extension: a dry run, where
// values only a response could give are placeholder strings "<$...>"; a
// selector over one gives a placeholder naming itself.
type PlaceholderContext interface {
	Placeholders() bool
}

// Selector is a compiled 1.1 Selector Object.
type Selector struct {
	Context *Expression
	Text    string // the selector expression
	Type    string // jsonpath, xpath or jsonpointer
	Version string // as written ("" for the default)
	Engine  string // what evaluates it: rfc9535, goessner, xpath-10, rfc6901
	// Unsupported says why the selector cannot be evaluated; Eval then
	// fails with it. The validator reports it as a warning.
	Unsupported string

	rfc  *rfcjsonpath.Path
	gval gval.Evaluable
	xp   *xpath.Expr
	ptr  []string
}

// ExprType reads a `type` written as a plain string or as an Expression
// Type Object ({type, version}).
func ExprType(v any) (typ, version string) {
	switch x := v.(type) {
	case string:
		return x, ""
	case map[string]any:
		typ, _ = x["type"].(string)
		version, _ = x["version"].(string)
	}
	return typ, version
}

// CompileSelector compiles a Selector Object given as plain values. Errors
// name the field they belong to.
func CompileSelector(m map[string]any) (*Selector, []FieldError) {
	s := &Selector{}
	s.Text, _ = m["selector"].(string)
	s.Type, s.Version = ExprType(m["type"])
	var errs []FieldError
	ctx, _ := m["context"].(string)
	e, err := parseV(strings.TrimSpace(ctx), V11)
	if err != nil {
		errs = append(errs, FieldError{Field: "context", Error: err})
	} else {
		s.Context = e
	}
	engine, unsupported, terr := engineFor(s.Type, s.Version, s.Text)
	if terr != nil {
		return s, append(errs, FieldError{Field: "type", Error: terr})
	}
	s.Engine, s.Unsupported = engine, unsupported
	if unsupported != "" {
		return s, errs
	}
	if cerr := s.compileText(); cerr != nil {
		errs = append(errs, FieldError{Field: "selector", Error: cerr})
	}
	return s, errs
}

func (s *Selector) compileText() *Error {
	var err error
	switch s.Engine {
	case DialectRFC9535:
		if s.rfc, err = rfcjsonpath.Parse(s.Text); err != nil {
			return errAt(0, "invalid RFC 9535 JSONPath selector: %v", err)
		}
	case DialectGoessner:
		if s.gval, err = goessner.NewEvaluable(toDoubleQuotes(s.Text)); err != nil {
			return errAt(0, "invalid JSONPath selector: %v", err)
		}
	case VersionXPath10:
		if s.xp, err = xpath.Compile(s.Text); err != nil {
			return errAt(0, "invalid XPath 1.0 selector: %v", err)
		}
	case VersionRFC6901:
		if s.ptr, err = jsonpointer.Split(s.Text); err != nil {
			se := err.(*jsonpointer.SyntaxError)
			return errAt(se.Offset, "%s", se.Msg)
		}
	}
	return nil
}

// Expressions lists the runtime expression the selector reads.
func (s *Selector) Expressions() []*Expression {
	if s.Context == nil {
		return nil
	}
	return []*Expression{s.Context}
}

// Eval applies the selector to its context. One selected node gives its
// value; several give an array of them; none gives undefined. An error
// says why nothing could be selected (unsupported, not JSON, not XML).
func (s *Selector) Eval(ctx Context) (v any, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, ok, err = nil, false, fmt.Errorf("selector %s failed to evaluate: %v", s.Text, r)
		}
	}()
	if s.Unsupported != "" {
		return nil, false, fmt.Errorf("selector %s: %s", s.Text, s.Unsupported)
	}
	if s.Context == nil {
		return nil, false, fmt.Errorf("selector %s has no valid context", s.Text)
	}
	val, ok := s.Context.Eval(ctx)
	if !ok || val == nil {
		return nil, false, nil
	}
	if p, isDry := ctx.(PlaceholderContext); isDry && p.Placeholders() {
		if text, isStr := val.(string); isStr && strings.HasPrefix(text, "<$") {
			return "<" + s.Type + " " + s.Text + " of " + s.Context.Text + ">", true, nil
		}
	}
	switch s.Engine {
	case VersionXPath10:
		return selectXPath(s.xp, val)
	case VersionRFC6901:
		v, ok := jsonpointer.Get(jsonText(val), s.ptr)
		return v, ok, nil
	case DialectRFC9535:
		return nodes(s.rfc.Select(jsonText(val)))
	case DialectGoessner:
		res, err := s.gval(context.Background(), floatNumbers(jsonText(val)))
		if err != nil {
			if strings.Contains(err.Error(), "unknown key") || strings.Contains(err.Error(), "out of bounds") {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("selector %s: %v", s.Text, err)
		}
		if list, isList := res.([]any); isList {
			return nodes(list)
		}
		return res, true, nil
	}
	return nil, false, fmt.Errorf("selector %s cannot be evaluated", s.Text)
}

func nodes[T ~[]any](list T) (any, bool, error) {
	switch len(list) {
	case 0:
		return nil, false, nil
	case 1:
		return list[0], true, nil
	}
	return []any(list), true, nil
}

// selectXPath evaluates an XPath 1.0 expression over XML text: a node-set
// gives the string value of its node (an array for several), a number,
// string or boolean gives itself.
func selectXPath(x *xpath.Expr, val any) (any, bool, error) {
	s, isStr := val.(string)
	if !isStr {
		return nil, false, fmt.Errorf("xpath selector: the context is not XML text")
	}
	doc, err := xmlquery.Parse(strings.NewReader(s))
	if err != nil {
		return nil, false, fmt.Errorf("xpath selector: the context is not well-formed XML: %v", err)
	}
	switch r := x.Evaluate(xmlquery.CreateXPathNavigator(doc)).(type) {
	case *xpath.NodeIterator:
		var list []any
		for r.MoveNext() {
			list = append(list, r.Current().Value())
		}
		return nodes(list)
	case float64:
		return json.Number(fmt.Sprint(r)), true, nil
	case string, bool:
		return r, true, nil
	}
	return nil, false, nil
}
