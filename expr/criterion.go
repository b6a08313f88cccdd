package expr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/PaesslerAG/gval"
	pjsonpath "github.com/PaesslerAG/jsonpath"
	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
	rfcjsonpath "github.com/theory/jsonpath"
)

// CriterionKind is a criterion's type, as the document spells it.
type CriterionKind string

// Criterion kinds.
const (
	Simple   CriterionKind = "simple"
	Regex    CriterionKind = "regex"
	JSONPath CriterionKind = "jsonpath"
	XPath    CriterionKind = "xpath"
)

func (k CriterionKind) String() string { return string(k) }

// JSONPath dialects a criterion can end up using.
const (
	DialectRFC9535  = "rfc9535"
	DialectGoessner = "goessner"
)

// CriterionSpec is a criterion as the document writes it.
type CriterionSpec struct {
	Context   string
	Condition string
	Type      string // "" means simple
	Version   string
	// Arazzo is the grammar and rules of the document's version: 1.1
	// reads jsonpath as RFC 9535 (nodelist truthiness), xpath as XPath 3.1
	// unless a version says otherwise, and `{$...}` embeds in regex,
	// jsonpath and xpath conditions.
	Arazzo Version
}

// Criterion is a compiled criterion, immutable and safe for concurrent use.
type Criterion struct {
	Spec    CriterionSpec
	Kind    CriterionKind
	Dialect string // for jsonpath: which engine evaluates it

	context *Expression
	simple  *Condition
	re      *regexp.Regexp
	rfc     *rfcjsonpath.Path
	gval    gval.Evaluable
	xp      *xpath.Expr
	fast    *fastCond // the plain-comparison shortcut, when it applies
	// For jsonpath conditions that embed runtime expressions, the text is
	// rebuilt and parsed at evaluation time.
	jpParts []jpPart
	// embeds are the 1.1 `{$...}` parts of a regex, jsonpath or xpath
	// condition, substituted as text before it is compiled (at evaluation).
	embeds []jpPart
	// Unsupported says why the criterion cannot be evaluated here (an
	// XPath version without an honest implementation); Eval fails with it.
	Unsupported string
}

type jpPart struct {
	lit    string
	expr   *Expression
	quoted bool // a whole "..." string that is an expression: insert as a JSON literal
}

// Field names the field an Error belongs to.
type FieldError struct {
	Field string // "context" or "condition" or "type"
	*Error
}

// goessner is the PaesslerAG JSONPath language with boolean operators, plus
// `contains` (string contains, or array contains an equal element), as real
// AWS workflows write it.
var goessner = gval.NewLanguage(gval.Full(), pjsonpath.Language(),
	gval.InfixOperator("contains", func(a, b any) (any, error) {
		switch x := a.(type) {
		case string:
			s, ok := b.(string)
			return ok && strings.Contains(x, s), nil
		case []any:
			for _, e := range x {
				if compare("==", e, true, b, true) {
					return true, nil
				}
			}
		}
		return false, nil
	}),
	jsonpathFunctions)

// ErrNothingSelected marks a jsonpath comparison whose path selected
// nothing in the value it was evaluated on: the criterion is false, and
// the caller reports why rather than failing silently.
var ErrNothingSelected = errors.New("the path selects nothing")

// CompileCriterion compiles a criterion. It returns problems as
// errors (the criterion cannot work) and warnings (accepted slips).
func CompileCriterion(spec CriterionSpec) (*Criterion, []FieldError) {
	c := &Criterion{Spec: spec, Kind: CriterionKind(spec.Type)}
	if c.Kind == "" {
		c.Kind = Simple
	}
	var errs []FieldError
	add := func(field string, es ...*Error) {
		for _, e := range es {
			errs = append(errs, FieldError{Field: field, Error: e})
		}
	}
	if spec.Arazzo >= V11 && c.Kind != Simple {
		errs = append(errs, c.compile11()...)
		if spec.Context == "" {
			errs = append(errs, FieldError{Field: "context", Error: errAt(0, "a %s criterion needs a context (for example $response.body)", c.Kind)})
		} else if e, err := parseV(strings.TrimSpace(spec.Context), V11); err != nil {
			add("context", err)
		} else {
			c.context = e
		}
		return c, errs
	}
	if spec.Context != "" {
		e, err := parseV(strings.TrimSpace(spec.Context), spec.Arazzo)
		if err != nil {
			add("context", err)
		} else {
			c.context = e
			add("context", e.Warnings...)
		}
	} else if c.Kind != Simple {
		add("context", errAt(0, "a %s criterion needs a context (for example $response.body)", c.Kind))
	}
	switch c.Kind {
	case Simple:
		cond, err := parseConditionV(spec.Condition, spec.Arazzo)
		if err != nil {
			add("condition", err)
			break
		}
		c.simple = cond
		add("condition", cond.Warnings...)
	case Regex:
		re, err := regexp.Compile(spec.Condition)
		if err != nil {
			add("condition", errAt(0, "invalid regular expression (Go RE2 syntax): %v", err))
			break
		}
		c.re = re
	case JSONPath:
		add("condition", c.compileJSONPath()...)
	case XPath:
		switch spec.Version {
		case "", "xpath-10":
		default:
			add("type", errAt(0, "XPath version %s is unsupported: only XPath 1.0 (xpath-10) is implemented", spec.Version))
			return c, errs
		}
		x, err := xpath.Compile(spec.Condition)
		if err != nil {
			add("condition", errAt(0, "invalid XPath 1.0 expression: %v", err))
			break
		}
		c.xp = x
	default:
		add("type", errAt(0, "unknown criterion type %q (simple, regex, jsonpath or xpath)", spec.Type))
	}
	return c, errs
}

// compile11 compiles a regex, jsonpath or xpath condition by the 1.1 rules.
func (c *Criterion) compile11() []FieldError {
	fe := func(field string, e *Error) []FieldError { return []FieldError{{Field: field, Error: e}} }
	switch c.Kind {
	case Regex, JSONPath, XPath:
	default:
		return fe("type", errAt(0, "unknown criterion type %q (simple, regex, jsonpath or xpath)", c.Spec.Type))
	}
	cond := c.Spec.Condition
	if c.Kind != Regex {
		cond = strings.TrimSpace(cond)
		engine, unsupported, err := engineFor(string(c.Kind), c.Spec.Version, cond)
		if err != nil {
			return fe("type", err)
		}
		if unsupported != "" {
			c.Unsupported, c.Dialect = unsupported, c.Spec.Version
			return nil
		}
		c.Dialect = engine
		if engine == DialectGoessner {
			var out []FieldError
			for _, e := range c.compileJSONPath() {
				out = append(out, fe("condition", e)...)
			}
			return out
		}
	}
	parts, has, errs := splitEmbeds(cond)
	if len(errs) > 0 {
		return fe("condition", errs[0])
	}
	if has {
		c.embeds = parts
		// Check the shape with each embed replaced by a neutral 0.
		var b strings.Builder
		for _, p := range parts {
			if p.expr == nil {
				b.WriteString(p.lit)
			} else {
				b.WriteString("0")
			}
		}
		cond = b.String()
	}
	if err := c.compileText(cond, !has); err != nil {
		if c.Kind == JSONPath && c.Spec.Version == "" {
			// Forgiving to run: a Goessner-style comparison (the 1.1
			// specification's own examples write `$.token != null`) runs
			// as one, and validate says how to make it exact.
			c.embeds, c.Dialect = nil, DialectGoessner
			if errs := c.compileJSONPath(); len(errs) == 0 {
				return fe("condition", warnAt(0, "%s is not an RFC 9535 query, which Arazzo 1.1 reads jsonpath as; it is evaluated as a JSONPath comparison (pin that with type: {type: jsonpath, version: %s})", c.Spec.Condition, VersionGoessner))
			}
			c.Dialect = DialectRFC9535
		}
		return fe("condition", err)
	}
	return nil
}

// compileText compiles a regex, RFC 9535 or XPath 1.0 condition; keep
// stores the result (a condition without embeds is compiled once).
func (c *Criterion) compileText(cond string, keep bool) *Error {
	switch c.Kind {
	case Regex:
		re, err := regexp.Compile(cond)
		if err != nil {
			return errAt(0, "invalid regular expression (Go RE2 syntax): %v", err)
		}
		if keep {
			c.re = re
		}
	case JSONPath:
		p, err := rfcjsonpath.Parse(cond)
		if err != nil {
			return errAt(0, "invalid RFC 9535 JSONPath query: %v (Arazzo 1.1 reads jsonpath as RFC 9535; a comparison such as $.a == 1 needs type: {type: jsonpath, version: %s})", err, VersionGoessner)
		}
		if keep {
			c.rfc = p
		}
	case XPath:
		x, err := xpath.Compile(cond)
		if err != nil {
			return errAt(0, "invalid XPath 1.0 expression: %v", err)
		}
		if keep {
			c.xp = x
		}
	}
	return nil
}

// splitEmbeds finds the 1.1 `{$...}` embeds of a condition.
func splitEmbeds(s string) ([]jpPart, bool, []*Error) {
	var parts []jpPart
	lit, has := 0, false
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '{' || s[i+1] != '$' {
			continue
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, false, []*Error{errAt(i, "unclosed {$ embed: add the closing }")}
		}
		e, err := parseV(s[i+1:i+j], V11)
		if err != nil {
			err.Offset += i + 1
			return nil, false, []*Error{err}
		}
		parts = append(parts, jpPart{lit: s[lit:i]}, jpPart{expr: e})
		lit, has = i+j+1, true
		i += j
	}
	return append(parts, jpPart{lit: s[lit:]}), has, nil
}

// eval11 evaluates a 1.1 regex, jsonpath or xpath condition whose context
// value is val: embeds are substituted as text, then the condition is
// compiled and applied. An RFC 9535 query passes on a non-empty nodelist.
func (c *Criterion) eval11(ctx Context, val any) (bool, error) {
	if c.embeds != nil {
		var b strings.Builder
		for _, p := range c.embeds {
			if p.expr == nil {
				b.WriteString(p.lit)
			} else if v, ok := p.expr.Eval(ctx); ok {
				b.WriteString(Text(v))
			}
		}
		cp := *c
		if err := cp.compileText(b.String(), true); err != nil {
			return false, fmt.Errorf("%s condition after substitution: %s", c.Kind, err.Msg)
		}
		c = &cp
	}
	switch c.Kind {
	case Regex:
		return c.re.MatchString(Text(val)), nil
	case JSONPath:
		return len(c.rfc.Select(jsonText(val))) > 0, nil
	}
	return evalXPath(c.xp, val)
}

func (c *Criterion) compileJSONPath() []*Error {
	cond := strings.TrimSpace(c.Spec.Condition)
	// PATH.length is the Goessner idiom for a length, not a member: the
	// rewritten condition is never an RFC 9535 query.
	rewritten := rewriteLength(cond)
	if rewritten != cond {
		c.Spec.Version = "draft-goessner-dispatch-jsonpath-00"
	}
	parts, hasExpr, errs := splitJSONPathExprs(cond)
	if len(errs) > 0 {
		return errs
	}
	goessnerOnly := c.Spec.Version == "draft-goessner-dispatch-jsonpath-00" || rewritten != cond
	if hasExpr {
		c.jpParts = parts
		c.Dialect = DialectGoessner
		// Check that it parses with a placeholder for each expression.
		var b strings.Builder
		for _, p := range parts {
			switch {
			case p.expr == nil:
				b.WriteString(p.lit)
			case p.quoted:
				b.WriteString(`"x"`)
			default:
				b.WriteString("x")
			}
		}
		if _, err := goessner.NewEvaluable(toDoubleQuotes(rewriteLength(b.String()))); err != nil {
			return []*Error{errAt(0, "invalid JSONPath condition: %v", err)}
		}
		return nil
	}
	if !goessnerOnly {
		if p, err := rfcjsonpath.Parse(cond); err == nil {
			c.rfc, c.Dialect = p, DialectRFC9535
			return nil
		}
	}
	ev, err := goessner.NewEvaluable(toDoubleQuotes(rewritten))
	if err != nil {
		return []*Error{errAt(0, "invalid JSONPath condition (neither an RFC 9535 query nor a JSONPath comparison): %v", err)}
	}
	c.gval, c.Dialect = ev, DialectGoessner
	c.fast = compileFast(rewritten)
	return nil
}

// splitJSONPathExprs finds runtime expressions inside a jsonpath condition:
// a quoted string that is exactly an expression, and `{$...}` embeds.
func splitJSONPathExprs(s string) ([]jpPart, bool, []*Error) {
	var parts []jpPart
	var has bool
	var inStr byte
	lit := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inStr != 0 && c == inStr:
			inStr = 0
		case inStr == 0 && (c == '"' || c == '\''):
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, false, []*Error{errAt(i, "unterminated string")}
			}
			inner := s[i+1 : i+1+j]
			if !strings.HasPrefix(inner, "$") || !looksLikeExpression(inner) {
				inStr = c // scan on: `{$...}` embeds inside are still found
				continue
			}
			e, err := parse(inner)
			if err != nil {
				err.Offset += i + 1
				return nil, false, []*Error{err}
			}
			parts = append(parts, jpPart{lit: s[lit:i]}, jpPart{expr: e, quoted: true})
			lit, has = i+j+2, true
			i += j + 1
		case c == '{' && i+1 < len(s) && s[i+1] == '$':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return nil, false, []*Error{errAt(i, "unclosed {$ embed")}
			}
			e, err := parse(s[i+1 : i+j])
			if err != nil {
				err.Offset += i + 1
				return nil, false, []*Error{err}
			}
			parts = append(parts, jpPart{lit: s[lit:i]}, jpPart{expr: e})
			lit, has = i+j+1, true
			i += j
		}
	}
	parts = append(parts, jpPart{lit: s[lit:]})
	return parts, has, nil
}

// toDoubleQuotes rewrites single-quoted strings as double-quoted ones, which
// is all the PaesslerAG language accepts outside filters.
func toDoubleQuotes(s string) string {
	if !strings.Contains(s, "'") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(s[i : i+j+2])
			i += j + 1
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			q, _ := json.Marshal(s[i+1 : i+1+j])
			b.Write(q)
			i += j + 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// Describe names the criterion's kind and, for jsonpath, the dialect that
// evaluates it: "simple", "regex", "jsonpath (rfc9535)", "jsonpath
// (goessner)", "xpath".
func (c *Criterion) Describe() string {
	if c.Dialect != "" {
		return string(c.Kind) + " (" + c.Dialect + ")"
	}
	return string(c.Kind)
}

// Expressions lists the runtime expressions the criterion reads.
func (c *Criterion) Expressions() []*Expression {
	var out []*Expression
	if c.context != nil {
		out = append(out, c.context)
	}
	if c.simple != nil {
		out = append(out, c.simple.Expressions()...)
	}
	for _, p := range c.jpParts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Eval evaluates the criterion. It never panics; any evaluation problem
// makes the criterion fail and is returned for reporting.
func (c *Criterion) Eval(ctx Context) (pass bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			pass, err = false, fmt.Errorf("%s criterion failed to evaluate: %v", c.Kind, r)
		}
	}()
	if c.Unsupported != "" {
		return false, fmt.Errorf("%s criterion cannot be evaluated: %s", c.Kind, c.Unsupported)
	}
	var val any
	var ok bool
	if c.context != nil {
		val, ok = c.context.Eval(ctx)
	}
	if c.Spec.Arazzo >= V11 && c.Kind != Simple && c.Dialect != DialectGoessner {
		if !ok || val == nil {
			return false, fmt.Errorf("%s context %s is undefined or null", c.Kind, c.Spec.Context)
		}
		return c.eval11(ctx, val)
	}
	switch c.Kind {
	case Simple:
		if c.simple == nil {
			return false, fmt.Errorf("invalid condition %q", c.Spec.Condition)
		}
		return c.simple.Eval(ctx), nil
	case Regex:
		if c.re == nil {
			return false, fmt.Errorf("invalid regular expression %q", c.Spec.Condition)
		}
		if !ok || val == nil {
			return false, fmt.Errorf("regex context %s is undefined", c.Spec.Context)
		}
		return c.re.MatchString(Text(val)), nil
	case JSONPath:
		if !ok {
			return false, fmt.Errorf("jsonpath context %s is undefined", c.Spec.Context)
		}
		return c.evalJSONPath(ctx, val)
	case XPath:
		if c.xp == nil {
			return false, fmt.Errorf("xpath criterion cannot run: %s", c.Spec.Condition)
		}
		if !ok {
			return false, fmt.Errorf("xpath context %s is undefined", c.Spec.Context)
		}
		return evalXPath(c.xp, val)
	}
	return false, fmt.Errorf("unknown criterion type %q", c.Kind)
}

// jsonText reads a JSON value kept as text (a body with a wrong content
// type is still JSON often); any other value is returned as it is.
func jsonText(val any) any {
	if s, isStr := val.(string); isStr {
		var v any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if d.Decode(&v) == nil {
			return v
		}
	}
	return val
}

func (c *Criterion) evalJSONPath(ctx Context, val any) (bool, error) {
	val = jsonText(val)
	if c.rfc != nil {
		return len(c.rfc.Select(val)) > 0, nil
	}
	if c.fast != nil {
		if pass, decided := c.fast.eval(val); decided {
			return pass, nil
		}
	}
	ev := c.gval
	if c.jpParts != nil {
		var b strings.Builder
		for _, p := range c.jpParts {
			if p.expr == nil {
				b.WriteString(p.lit)
				continue
			}
			v, _ := p.expr.Eval(ctx)
			if p.quoted {
				q, _ := json.Marshal(Text(v))
				b.Write(q)
				continue
			}
			b.WriteString(Text(v))
		}
		var err error
		if ev, err = goessner.NewEvaluable(toDoubleQuotes(rewriteLength(b.String()))); err != nil {
			return false, fmt.Errorf("jsonpath condition after substitution: %v", err)
		}
	}
	res, err := ev(context.Background(), floatView(ctx, c.context, val))
	if err != nil {
		// PaesslerAG reports a missing key as an error: that is simply
		// "nothing selected".
		if strings.Contains(err.Error(), "unknown key") || strings.Contains(err.Error(), "out of bounds") {
			return false, fmt.Errorf("%w in %s (%v), so %q is false", ErrNothingSelected, c.contextName(), err, c.Spec.Condition)
		}
		return false, fmt.Errorf("jsonpath: %v", err)
	}
	switch r := res.(type) {
	case bool:
		return r, nil
	case nil:
		return false, nil
	case float64:
		// A number alone (a length): true when not zero.
		return r != 0, nil
	case []any:
		// A query with a wildcard or filter: passes when it selected something.
		return len(r) > 0, nil
	}
	return true, nil
}

func (c *Criterion) contextName() string {
	if c.Spec.Context == "" {
		return "the value"
	}
	return c.Spec.Context
}

// Memoizer is an optional Context extension: it caches a value derived from
// the current response, so several criteria over one body convert it once.
type Memoizer interface {
	Memo(key any, compute func() any) any
}

type floatKey struct{ text string }

// floatView is floatNumbers(val), computed once per context expression and
// response when the Context can memoize.
func floatView(ctx Context, e *Expression, val any) any {
	m, ok := ctx.(Memoizer)
	if !ok || e == nil {
		return floatNumbers(val)
	}
	return m.Memo(floatKey{e.Text}, func() any { return floatNumbers(val) })
}

// floatNumbers converts json.Number to float64 for the gval engine, whose
// operators know Go numbers only.
func floatNumbers(v any) any {
	return mapLeaves(v, func(leaf any) any {
		n, ok := leaf.(json.Number)
		if !ok {
			return leaf
		}
		f, err := n.Float64()
		if err != nil {
			return n.String()
		}
		return f
	})
}

func evalXPath(x *xpath.Expr, val any) (bool, error) {
	s, isStr := val.(string)
	if !isStr {
		return false, fmt.Errorf("xpath context is not XML text")
	}
	doc, err := xmlquery.Parse(strings.NewReader(s))
	if err != nil {
		return false, fmt.Errorf("xpath context is not well-formed XML: %v", err)
	}
	res := x.Evaluate(xmlquery.CreateXPathNavigator(doc))
	switch r := res.(type) {
	case bool:
		return r, nil
	case float64:
		return r != 0 && r == r, nil
	case string:
		return r != "", nil
	case *xpath.NodeIterator:
		return r.MoveNext(), nil
	}
	return false, nil
}

// Observed says what the criterion looked at in ctx, for a person
// wondering why it did or did not pass: the values of the runtime
// expressions of a simple condition, the values at the paths of a plain
// JSONPath comparison, else the context's value, each cut short.
func (c *Criterion) Observed(ctx Context) string {
	const max = 80
	show := func(v any, ok bool) string {
		if !ok {
			return "undefined"
		}
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte(Text(v))
		}
		if len(b) > max {
			return string(b[:max]) + "…"
		}
		return string(b)
	}
	var parts []string
	seen := map[string]bool{}
	add := func(name string, v any, ok bool) {
		if !seen[name] {
			seen[name] = true
			parts = append(parts, name+" = "+show(v, ok))
		}
	}
	var val any
	var ok bool
	if c.context != nil {
		val, ok = c.context.Eval(ctx)
	}
	switch {
	case c.Kind == Simple && c.simple != nil:
		for _, e := range c.simple.Expressions() {
			v, ok := e.Eval(ctx)
			add(e.Text, v, ok)
		}
	case c.Kind == JSONPath && c.fast != nil && ok:
		val = jsonText(val)
		for _, conj := range c.fast.or {
			for _, cmp := range conj {
				v, found := val, true
				name := "$"
				for _, n := range cmp.path {
					if n.IsIdx {
						name += fmt.Sprintf("[%d]", n.Index)
					} else {
						name += "." + n.Key
					}
					if found {
						v, found = navigate(v, n)
					}
				}
				add(name, v, found)
			}
		}
	case c.context != nil:
		add(c.Spec.Context, val, ok)
	}
	return strings.Join(parts, ", ")
}
