// Package jsonpointer implements RFC 6901 JSON Pointers over the plain Go
// values encoding/json decodes into (map[string]any, []any, scalars).
//
// It is the one implementation the project uses: the `#/…` suffix of
// runtime expressions, payload replacement targets, operationPath
// fragments, and the positions that diagnostics and schema errors name.
package jsonpointer

import (
	"fmt"
	"strconv"
	"strings"
)

// SyntaxError says where a pointer is malformed.
type SyntaxError struct {
	Offset int // byte offset in the pointer text
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// Split splits a pointer into unescaped reference tokens. The empty pointer
// (the whole value) has no tokens.
func Split(ptr string) ([]string, error) {
	if ptr == "" {
		return nil, nil
	}
	if ptr[0] != '/' {
		return nil, &SyntaxError{0, "a JSON pointer must start with /"}
	}
	toks := strings.Split(ptr[1:], "/")
	off := 1
	for i, t := range toks {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 >= len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, &SyntaxError{off + j, "~ in a JSON pointer must be followed by 0 or 1"}
			}
		}
		off += len(t) + 1
		toks[i] = Unescape(t)
	}
	return toks, nil
}

// Unescape decodes one reference token (~1 is /, ~0 is ~).
func Unescape(tok string) string {
	if !strings.Contains(tok, "~") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// Escape encodes one reference token.
func Escape(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// Format joins tokens into a pointer.
func Format(toks ...string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(Escape(t))
	}
	return b.String()
}

// Get applies tokens to a value. An array index must be a canonical
// non-negative decimal (no sign, no leading zero); "-" selects nothing.
func Get(v any, toks []string) (any, bool) {
	for _, t := range toks {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[t]; !ok {
				return nil, false
			}
		case []any:
			i, ok := Index(t)
			if !ok || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// Lookup is Get for a pointer in text form; a malformed pointer finds
// nothing.
func Lookup(v any, ptr string) (any, bool) {
	toks, err := Split(ptr)
	if err != nil {
		return nil, false
	}
	return Get(v, toks)
}

// Index parses an array index token.
func Index(t string) (int, bool) {
	if t == "" || len(t) > 9 || (len(t) > 1 && t[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(t)
	return n, err == nil
}

// Set returns root with the member the tokens name replaced or added ("-"
// appends to an array). It copies the containers on the path and shares the
// rest, so root itself is never changed: payload templates and inputs can
// be shared between runs. A missing parent is an error.
func Set(root any, toks []string, val any) (any, error) {
	return set(root, toks, 0, val)
}

// set replaces toks[i:] under v; toks[:i] is the path to v, for errors.
func set(v any, toks []string, i int, val any) (any, error) {
	if i == len(toks) {
		return val, nil
	}
	t, last := toks[i], i == len(toks)-1
	switch x := v.(type) {
	case map[string]any:
		child, ok := x[t]
		if !ok && !last {
			return nil, fmt.Errorf("%s does not exist in the payload", Format(toks[:i+1]...))
		}
		nv, err := set(child, toks, i+1, val)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(x)+1)
		for k, e := range x {
			m[k] = e
		}
		m[t] = nv
		return m, nil
	case []any:
		if t == "-" && last {
			return append(append(make([]any, 0, len(x)+1), x...), val), nil
		}
		n, ok := Index(t)
		if !ok || n >= len(x) {
			return nil, fmt.Errorf("%s: index %q is out of range (the array has %d items)", Format(toks[:i]...), t, len(x))
		}
		nv, err := set(x[n], toks, i+1, val)
		if err != nil {
			return nil, err
		}
		a := append([]any(nil), x...)
		a[n] = nv
		return a, nil
	}
	return nil, fmt.Errorf("%s is not an object or an array, so %s cannot be set", orRoot(Format(toks[:i]...)), Format(toks...))
}

func orRoot(p string) string {
	if p == "" {
		return "the payload"
	}
	return p
}
