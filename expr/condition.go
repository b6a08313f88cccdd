package expr

import (
	"encoding/json"
	"strings"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Condition is a parsed simple condition (the Arazzo criterion language
// without a type): literals, runtime expressions, == != < <= > >=, !, &&,
// ||, parentheses, and `[n]` / `.name` navigation.
//
// Precedence, highest first: postfix navigation, !, comparisons, &&, ||.
// A runtime expression inside a condition ends at whitespace or at the
// first character that starts an operator (= ! < > & | ( ) [), so a JSON
// pointer in a condition cannot contain those characters.
type Condition struct {
	Text     string
	root     node
	Warnings []*Error
}

type node interface{ eval(Context) (any, bool) }

type (
	litNode  struct{ v any }
	exprNode struct{ e *Expression }
	notNode  struct{ x node }
	navNode  struct {
		x   node
		nav NavElem
	}
	binNode struct {
		op   string
		l, r node
	}
)

// ParseCondition parses a simple condition. A condition wrapped whole in
// braces (`{$statusCode == 200}`) is accepted, as the spec's own JSON
// example writes one.
func ParseCondition(text string) (*Condition, error) {
	c, err := parseCondition(text)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func parseCondition(text string) (*Condition, *Error) { return parseConditionV(text, V10) }

func parseConditionV(text string, v Version) (*Condition, *Error) {
	src, base := text, 0
	// Nothing in the grammar starts with {, so outer braces can only be
	// a wrapper.
	if t := strings.TrimSpace(text); len(t) > 1 && t[0] == '{' && t[len(t)-1] == '}' {
		src, base = t[1:len(t)-1], strings.IndexByte(text, '{')+1
	}
	p := &condParser{src: src, base: base, v: v}
	p.next()
	if p.err != nil {
		return nil, p.err
	}
	if p.tok.kind == tEOF {
		return nil, errAt(base, "the condition is empty")
	}
	root := p.or()
	if p.err == nil && p.tok.kind != tEOF {
		p.fail(p.tok.off, "unexpected %q", p.tok.text)
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Condition{Text: text, root: root, Warnings: p.warns}, nil
}

// Eval evaluates the condition; it passes only when the result is boolean true.
func (c *Condition) Eval(ctx Context) bool {
	v, ok := c.root.eval(ctx)
	b, isBool := v.(bool)
	return ok && isBool && b
}

// Expressions lists the runtime expressions in the condition.
func (c *Condition) Expressions() []*Expression {
	var out []*Expression
	var walk func(n node)
	walk = func(n node) {
		switch x := n.(type) {
		case exprNode:
			out = append(out, x.e)
		case notNode:
			walk(x.x)
		case navNode:
			walk(x.x)
		case binNode:
			walk(x.l)
			walk(x.r)
		}
	}
	walk(c.root)
	return out
}

func (n litNode) eval(Context) (any, bool)      { return n.v, true }
func (n exprNode) eval(ctx Context) (any, bool) { return n.e.Eval(ctx) }
func (n notNode) eval(ctx Context) (any, bool) {
	v, ok := n.x.eval(ctx)
	b, isBool := v.(bool)
	return !(ok && isBool && b), true
}
func (n navNode) eval(ctx Context) (any, bool) {
	v, ok := n.x.eval(ctx)
	if !ok {
		return nil, false
	}
	return navigate(v, n.nav)
}
func (n binNode) eval(ctx Context) (any, bool) {
	switch n.op {
	case "&&":
		l, lok := n.l.eval(ctx)
		if !truth(l, lok) {
			return false, true
		}
		r, rok := n.r.eval(ctx)
		return truth(r, rok), true
	case "||":
		l, lok := n.l.eval(ctx)
		if truth(l, lok) {
			return true, true
		}
		r, rok := n.r.eval(ctx)
		return truth(r, rok), true
	}
	l, lok := n.l.eval(ctx)
	r, rok := n.r.eval(ctx)
	return compare(n.op, l, lok, r, rok), true
}

func truth(v any, ok bool) bool {
	b, isBool := v.(bool)
	return ok && isBool && b
}

type tokKind int

const (
	tEOF tokKind = iota
	tExpr
	tNum
	tStr
	tIdent
	tOp
	tLParen
	tRParen
	tLBrack
	tRBrack
	tDot
)

type token struct {
	kind tokKind
	text string
	val  any
	off  int
}

type condParser struct {
	v     Version
	src   string
	base  int
	pos   int
	tok   token
	err   *Error
	warns []*Error
}

func (p *condParser) fail(off int, format string, args ...any) {
	if p.err == nil {
		p.err = errAt(p.base+off, format, args...)
		p.tok = token{kind: tEOF, off: len(p.src)}
	}
}

const exprStop = " \t\r\n=!<>&|()["

func (p *condParser) next() {
	if p.err != nil {
		return
	}
	s := p.src
	for p.pos < len(s) && strings.IndexByte(" \t\r\n", s[p.pos]) >= 0 {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(s) {
		p.tok = token{kind: tEOF, off: start}
		return
	}
	c := s[p.pos]
	switch {
	case c == '$':
		for p.pos < len(s) && strings.IndexByte(exprStop, s[p.pos]) < 0 {
			p.pos++
		}
		text := s[start:p.pos]
		e, err := parseV(text, p.v)
		if err != nil {
			p.fail(start+err.Offset, "%s", err.Msg)
			return
		}
		for _, w := range e.Warnings {
			p.warns = append(p.warns, warnAt(p.base+start+w.Offset, "%s", w.Msg))
		}
		p.tok = token{kind: tExpr, text: text, val: e, off: start}
	case c == '\'':
		var b strings.Builder
		p.pos++
		for {
			if p.pos >= len(s) {
				p.fail(start, "unterminated string: add the closing '")
				return
			}
			if s[p.pos] == '\'' {
				if p.pos+1 < len(s) && s[p.pos+1] == '\'' {
					b.WriteByte('\'')
					p.pos += 2
					continue
				}
				p.pos++
				break
			}
			b.WriteByte(s[p.pos])
			p.pos++
		}
		p.tok = token{kind: tStr, text: s[start:p.pos], val: b.String(), off: start}
	case c == '"':
		// Not Arazzo syntax, but real documents write it; accepted with a
		// warning. Backslash escapes follow JSON.
		end := start + 1
		for end < len(s) && s[end] != '"' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(s) {
			p.fail(start, "unterminated string: add the closing \"")
			return
		}
		var v string
		if err := json.Unmarshal([]byte(s[start:end+1]), &v); err != nil {
			v = s[start+1 : end]
		}
		p.pos = end + 1
		p.warns = append(p.warns, warnAt(p.base+start, "strings in simple conditions are single-quoted in Arazzo; %s is read as '%s'", s[start:p.pos], v))
		p.tok = token{kind: tStr, text: s[start:p.pos], val: v, off: start}
	case c == '-' || (c >= '0' && c <= '9'):
		p.pos++
		for p.pos < len(s) && strings.IndexByte("0123456789.eE+-", s[p.pos]) >= 0 {
			if (s[p.pos] == '+' || s[p.pos] == '-') && s[p.pos-1] != 'e' && s[p.pos-1] != 'E' {
				break
			}
			p.pos++
		}
		text := s[start:p.pos]
		if !json.Valid([]byte(text)) {
			p.fail(start, "%q is not a JSON number", text)
			return
		}
		p.tok = token{kind: tNum, text: text, val: json.Number(text), off: start}
	case strings.HasPrefix(s[p.pos:], "==") || strings.HasPrefix(s[p.pos:], "!=") || strings.HasPrefix(s[p.pos:], "<=") ||
		strings.HasPrefix(s[p.pos:], ">=") || strings.HasPrefix(s[p.pos:], "&&") || strings.HasPrefix(s[p.pos:], "||"):
		p.pos += 2
		p.tok = token{kind: tOp, text: s[start:p.pos], off: start}
	case c == '<' || c == '>' || c == '!':
		p.pos++
		p.tok = token{kind: tOp, text: s[start:p.pos], off: start}
	case c == '(':
		p.pos++
		p.tok = token{kind: tLParen, text: "(", off: start}
	case c == ')':
		p.pos++
		p.tok = token{kind: tRParen, text: ")", off: start}
	case c == '[':
		p.pos++
		p.tok = token{kind: tLBrack, text: "[", off: start}
	case c == ']':
		p.pos++
		p.tok = token{kind: tRBrack, text: "]", off: start}
	case c == '.':
		p.pos++
		p.tok = token{kind: tDot, text: ".", off: start}
	case isIdentByte(c):
		for p.pos < len(s) && isIdentByte(s[p.pos]) {
			p.pos++
		}
		p.tok = token{kind: tIdent, text: s[start:p.pos], off: start}
	case c == '=':
		p.fail(start, "use == to compare (a single = is not an operator)")
	default:
		p.fail(start, "unexpected %q", c)
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *condParser) or() node {
	l := p.and()
	for p.err == nil && p.tok.kind == tOp && p.tok.text == "||" {
		p.next()
		l = binNode{op: "||", l: l, r: p.and()}
	}
	return l
}

func (p *condParser) and() node {
	l := p.cmp()
	for p.err == nil && p.tok.kind == tOp && p.tok.text == "&&" {
		p.next()
		l = binNode{op: "&&", l: l, r: p.cmp()}
	}
	return l
}

func (p *condParser) cmp() node {
	l := p.unary()
	for p.err == nil && p.tok.kind == tOp {
		switch op := p.tok.text; op {
		case "==", "!=", "<", "<=", ">", ">=":
			p.next()
			l = binNode{op: op, l: l, r: p.unary()}
			continue
		}
		break
	}
	return l
}

func (p *condParser) unary() node {
	if p.tok.kind == tOp && p.tok.text == "!" {
		p.next()
		return notNode{x: p.unary()}
	}
	return p.postfix()
}

func (p *condParser) postfix() node {
	n := p.primary()
	for p.err == nil {
		switch p.tok.kind {
		case tLBrack:
			p.next()
			if p.tok.kind != tNum {
				p.fail(p.tok.off, "an index in [] must be a non-negative integer")
				return n
			}
			i, ok := jsonpointer.Index(p.tok.text)
			if !ok {
				p.fail(p.tok.off, "an index in [] must be a non-negative integer")
				return n
			}
			p.next()
			if p.tok.kind != tRBrack {
				p.fail(p.tok.off, "expected ]")
				return n
			}
			p.next()
			n = navNode{x: n, nav: NavElem{Index: i, IsIdx: true}}
		case tDot:
			p.next()
			if p.tok.kind != tIdent && p.tok.kind != tNum {
				p.fail(p.tok.off, "a property name is required after .")
				return n
			}
			n = navNode{x: n, nav: NavElem{Key: p.tok.text}}
			p.next()
		default:
			return n
		}
	}
	return n
}

func (p *condParser) primary() node {
	t := p.tok
	switch t.kind {
	case tExpr:
		p.next()
		return exprNode{e: t.val.(*Expression)}
	case tNum, tStr:
		p.next()
		return litNode{v: t.val}
	case tIdent:
		p.next()
		switch t.text {
		case "true":
			return litNode{v: true}
		case "false":
			return litNode{v: false}
		case "null":
			return litNode{v: nil}
		}
		p.fail(t.off, "%q is not a value: quote strings with single quotes ('%s')", t.text, t.text)
		return litNode{}
	case tLParen:
		p.next()
		n := p.or()
		if p.err == nil && p.tok.kind != tRParen {
			p.fail(p.tok.off, "expected )")
		}
		p.next()
		return n
	case tEOF:
		p.fail(t.off, "the condition ends where a value was expected")
	default:
		p.fail(t.off, "expected a value, found %q", t.text)
	}
	return litNode{}
}
