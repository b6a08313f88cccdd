package expr

import (
	"encoding/json"
	"strconv"
	"strings"
)

// fastCond evaluates the commonest jsonpath condition shape directly:
// comparisons of plain paths with literals (`$.A.B == "X"`), joined by &&
// and ||, as real workflows write their polling criteria. It reads the
// parsed body as it is (no float64 copy) and answers exactly what the gval
// engine answers; for anything it is unsure of (mixed types, ordering of
// strings) it declines and gval decides. A differential test pins this.
type fastCond struct {
	or [][]fastCmp
}

type fastCmp struct {
	path []NavElem
	op   string
	lit  any // string, json.Number, bool or nil
}

// compileFast recognises the shape; nil means "not this shape".
func compileFast(s string) *fastCond {
	p := &fastParser{s: s}
	var fc fastCond
	for {
		var conj []fastCmp
		for {
			cmp, ok := p.cmp()
			if !ok {
				return nil
			}
			conj = append(conj, cmp)
			if !p.eat("&&") {
				break
			}
		}
		fc.or = append(fc.or, conj)
		if !p.eat("||") {
			break
		}
	}
	p.space()
	if p.i != len(p.s) {
		return nil
	}
	return &fc
}

type fastParser struct {
	s string
	i int
}

func (p *fastParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *fastParser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *fastParser) cmp() (fastCmp, bool) {
	var c fastCmp
	p.space()
	if !p.eat("$") {
		return c, false
	}
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '.':
			j := p.i + 1
			for j < len(p.s) && isIdentByte(p.s[j]) && p.s[j] != '-' {
				j++
			}
			if j == p.i+1 {
				return c, false
			}
			c.path = append(c.path, NavElem{Key: p.s[p.i+1 : j]})
			p.i = j
			continue
		case '[':
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return c, false
			}
			inner := p.s[p.i+1 : p.i+end]
			if n, err := strconv.Atoi(inner); err == nil && n >= 0 && inner == strconv.Itoa(n) {
				c.path = append(c.path, NavElem{Index: n, IsIdx: true})
			} else if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] && !strings.ContainsAny(inner[1:len(inner)-1], `'"\`) {
				c.path = append(c.path, NavElem{Key: inner[1 : len(inner)-1]})
			} else {
				return c, false
			}
			p.i += end + 1
			continue
		}
		break
	}
	if len(c.path) == 0 {
		return c, false
	}
	p.space()
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			c.op = op
			p.i += len(op)
			break
		}
	}
	if c.op == "" {
		return c, false
	}
	p.space()
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, `"`):
		j := strings.IndexByte(rest[1:], '"')
		if j < 0 || strings.ContainsRune(rest[1:j+1], '\\') {
			return c, false
		}
		c.lit, p.i = rest[1:j+1], p.i+j+2
	case strings.HasPrefix(rest, "'"):
		j := strings.IndexByte(rest[1:], '\'')
		if j < 0 || strings.ContainsRune(rest[1:j+1], '\\') {
			return c, false
		}
		c.lit, p.i = rest[1:j+1], p.i+j+2
	case strings.HasPrefix(rest, "true"):
		c.lit, p.i = true, p.i+4
	case strings.HasPrefix(rest, "false"):
		c.lit, p.i = false, p.i+5
	case strings.HasPrefix(rest, "null"):
		c.lit, p.i = nil, p.i+4
	default:
		j := 0
		for j < len(rest) && strings.IndexByte("+-0123456789.eE", rest[j]) >= 0 {
			j++
		}
		if j == 0 || !json.Valid([]byte(rest[:j])) {
			return c, false
		}
		c.lit, p.i = json.Number(rest[:j]), p.i+j
	}
	if _, isStr := c.lit.(string); isStr && c.op != "==" && c.op != "!=" {
		return c, false // string ordering: leave to gval
	}
	return c, true
}

// eval returns the result and whether the fast path could decide. Like
// gval it goes left to right and short-circuits; a missing path that it
// reaches fails the whole condition, as gval's "unknown key" error does.
func (f *fastCond) eval(root any) (bool, bool) {
	for _, conj := range f.or {
		all := true
		for _, c := range conj {
			v := root
			ok := true
			for _, n := range c.path {
				if v, ok = navigate(v, n); !ok {
					return false, false // the slow path says what is missing
				}
			}
			res, decided := c.decide(v)
			if !decided {
				return false, false
			}
			if !res {
				all = false
				break
			}
		}
		if all {
			return true, true
		}
	}
	return false, true
}

func (c *fastCmp) decide(v any) (bool, bool) {
	switch lit := c.lit.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return false, false
		}
		return (s == lit) == (c.op == "=="), true
	case json.Number:
		if _, ok := v.(json.Number); !ok {
			return false, false
		}
		cmp, ok := order(v, lit)
		if !ok {
			return false, false
		}
		switch c.op {
		case "==":
			return cmp == 0, true
		case "!=":
			return cmp != 0, true
		case "<":
			return cmp < 0, true
		case "<=":
			return cmp <= 0, true
		case ">":
			return cmp > 0, true
		}
		return cmp >= 0, true
	case bool:
		b, ok := v.(bool)
		if !ok || (c.op != "==" && c.op != "!=") {
			return false, false
		}
		return (b == lit) == (c.op == "=="), true
	case nil:
		if v != nil || (c.op != "==" && c.op != "!=") {
			return false, false
		}
		return c.op == "==", true
	}
	return false, false
}
