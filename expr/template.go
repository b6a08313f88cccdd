package expr

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Template is a string value as Arazzo fields hold them: a literal, exactly
// one runtime expression (which yields a typed value), or text with
// `{$...}` embeds (which yields a string).
type Template struct {
	Text  string
	whole *Expression
	parts []part // for embeds; nil for a plain literal
}

type part struct {
	lit  string
	expr *Expression
	off  int
}

// ParseTemplate compiles a string value. Problems come back as warnings or
// errors with offsets into s; a string that starts with `$` but is not a
// valid expression stays a literal with a warning (RX13), while a broken
// `{$...}` embed is an error.
func ParseTemplate(s string) (*Template, []*Error) { return ParseTemplateVersion(s, V10) }

// ParseTemplateVersion is ParseTemplate in the grammar of Arazzo version v.
func ParseTemplateVersion(s string, v Version) (*Template, []*Error) {
	t := &Template{Text: s}
	trimmed := strings.TrimSpace(s)
	if strings.HasPrefix(trimmed, "$") {
		lead := strings.Index(s, "$")
		e, err := parseV(trimmed, v)
		if err == nil {
			t.whole = e
			return t, shift(e.Warnings, lead)
		}
		if looksLikeExpression(trimmed) {
			err.Offset += lead
			return t, []*Error{err}
		}
		return t, []*Error{warnAt(lead, "%q starts with $ but is not a runtime expression; it is sent as literal text", s)}
	}
	var errs []*Error
	rest, off := s, 0
	for {
		i := strings.Index(rest, "{$")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			errs = append(errs, errAt(off+i, "unclosed {$ embed: add the closing }"))
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		src := rest[i+1 : i+j]
		e, err := parseV(src, v)
		if err != nil {
			err.Offset += off + i + 1
			errs = append(errs, err)
			t.parts = append(t.parts, part{lit: rest[i : i+j+1]})
		} else {
			errs = append(errs, shift(e.Warnings, off+i+1)...)
			t.parts = append(t.parts, part{expr: e, off: off + i + 1})
		}
		rest, off = rest[i+j+1:], off+i+j+1
	}
	if t.parts != nil && rest != "" {
		t.parts = append(t.parts, part{lit: rest})
	}
	return t, errs
}

// looksLikeExpression tells a mistyped expression (`$steps.x.response`)
// from a literal that merely starts with a dollar (`$100`).
func looksLikeExpression(s string) bool {
	for _, p := range []string{"$url", "$method", "$statusCode", "$request", "$response", "$inputs", "$outputs", "$steps", "$workflows", "$sourceDescriptions", "$components", "$message", "$self"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func shift(errs []*Error, by int) []*Error {
	out := make([]*Error, len(errs))
	for i, e := range errs {
		c := *e
		c.Offset += by
		out[i] = &c
	}
	return out
}

// IsLiteral reports whether the template contains no expression.
func (t *Template) IsLiteral() bool { return t.whole == nil && t.parts == nil }

// Expressions lists the expressions the template uses, with their offsets.
func (t *Template) Expressions() []*Expression {
	if t.whole != nil {
		return []*Expression{t.whole}
	}
	var out []*Expression
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Eval produces the value: typed for a whole expression (ok false when it
// is undefined), a string otherwise. An undefined embed renders as nothing.
func (t *Template) Eval(ctx Context) (any, bool) {
	if t.whole != nil {
		return t.whole.Eval(ctx)
	}
	if t.parts == nil {
		return t.Text, true
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.lit)
			continue
		}
		if v, ok := p.expr.Eval(ctx); ok {
			b.WriteString(Text(v))
		}
	}
	return b.String(), true
}

// Text renders a value for insertion into text: strings raw (no quotes, no
// escaping), numbers and booleans in JSON form, null as null, objects and
// arrays as compact JSON.
func Text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []byte:
		return string(x)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// Value is a compiled payload or parameter value: a tree of maps, lists and
// templates. Keys are never evaluated.
type Value struct {
	lit  any
	tmpl *Template
	sel  *Selector
	keys []string
	obj  []*Value
	arr  []*Value
	kind byte // 'l' literal, 't' template, 'o' object, 'a' array, 's' selector
}

// CompileValue compiles a plain JSON value whose string leaves may be
// expressions or templates. Errors name the path of the leaf.
func CompileValue(v any) (*Value, []PathError) { return CompileValueVersion(v, V10) }

// CompileValueVersion is CompileValue in the grammar of Arazzo version v;
// from 1.1 on, an object shaped as a Selector Object is one.
func CompileValueVersion(v any, ver Version) (*Value, []PathError) {
	var errs []PathError
	c := valueCompiler{v: ver, errs: &errs}
	out := c.compile(v, "")
	return out, errs
}

type valueCompiler struct {
	v    Version
	errs *[]PathError
}

// Selector returns the Selector Object the value is, or nil.
func (v *Value) Selector() *Selector { return v.sel }

// Template is the value's template when it is a string with expressions
// (or a plain string), else nil: an object, an array, a selector or a
// non-string literal.
func (v *Value) Template() *Template {
	if v == nil {
		return nil
	}
	return v.tmpl
}

// PathError is an expression problem at a JSON pointer inside a value.
type PathError struct {
	Path string
	*Error
}

func (c valueCompiler) compile(v any, path string) *Value {
	errs := c.errs
	switch x := v.(type) {
	case string:
		t, es := ParseTemplateVersion(x, c.v)
		for _, e := range es {
			*errs = append(*errs, PathError{Path: path, Error: e})
		}
		if t.IsLiteral() {
			return &Value{kind: 'l', lit: x}
		}
		return &Value{kind: 't', tmpl: t}
	case map[string]any:
		if c.v >= V11 && IsSelector(x) {
			sel, es := CompileSelector(x)
			for _, e := range es {
				*errs = append(*errs, PathError{Path: path + "/" + e.Field, Error: e.Error})
			}
			return &Value{kind: 's', sel: sel}
		}
		keys := sortedKeys(x)
		o := &Value{kind: 'o', keys: keys}
		for _, k := range keys {
			o.obj = append(o.obj, c.compile(x[k], path+"/"+jsonpointer.Escape(k)))
		}
		return o
	case []any:
		a := &Value{kind: 'a'}
		for i, e := range x {
			a.arr = append(a.arr, c.compile(e, path+"/"+itoa(i)))
		}
		return a
	}
	return &Value{kind: 'l', lit: v}
}

// Expressions lists every expression inside the value.
func (v *Value) Expressions() []*Expression {
	switch v.kind {
	case 't':
		return v.tmpl.Expressions()
	case 's':
		return v.sel.Expressions()
	case 'o':
		var out []*Expression
		for _, c := range v.obj {
			out = append(out, c.Expressions()...)
		}
		return out
	case 'a':
		var out []*Expression
		for _, c := range v.arr {
			out = append(out, c.Expressions()...)
		}
		return out
	}
	return nil
}

// Selectors lists every Selector Object inside the value.
func (v *Value) Selectors() []*Selector {
	switch v.kind {
	case 's':
		return []*Selector{v.sel}
	case 'o', 'a':
		var out []*Selector
		for _, c := range append(append([]*Value{}, v.obj...), v.arr...) {
			out = append(out, c.Selectors()...)
		}
		return out
	}
	return nil
}

// IsContainer reports whether the value is an object or array template
// (rather than a string, a literal scalar or one whole expression).
func (v *Value) IsContainer() bool { return v.kind == 'o' || v.kind == 'a' }

// IsLiteral reports whether evaluating the value can only return what was written.
func (v *Value) IsLiteral() bool { return len(v.Expressions()) == 0 }

// Eval produces the typed value. Members and elements that are undefined
// are left out, so an optional input that was not given is not sent.
func (v *Value) Eval(ctx Context) (any, bool) {
	switch v.kind {
	case 't':
		return v.tmpl.Eval(ctx)
	case 's':
		x, ok, _ := v.sel.Eval(ctx)
		return x, ok
	case 'o':
		m := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			if x, ok := v.obj[i].Eval(ctx); ok {
				m[k] = x
			}
		}
		return m, true
	case 'a':
		a := make([]any, 0, len(v.arr))
		for _, e := range v.arr {
			if x, ok := e.Eval(ctx); ok {
				a = append(a, x)
			}
		}
		return a, true
	}
	return v.lit, true
}
