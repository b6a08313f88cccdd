package expr

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/PaesslerAG/gval"
)

// JSONPath as real documents write it, on top of the PaesslerAG language:
//
//   - the Goessner idiom PATH.length: the length of an array or string (a
//     member called length when the value is an object that has one);
//   - RFC 9535's functions length(), count(), match(), search(), value();
//   - a comparison between the values a wildcard or filter selects and a
//     single value passes when any selected value passes it ("$.Items[*].State
//     == 'ACTIVE'": some item is active); != passes when none is equal.

var jsonpathFunctions = gval.NewLanguage(
	gval.Function("length", func(v any) any { return lengthOf(v) }),
	gval.Function("goessnerLength", func(v any) any {
		if m, ok := v.(map[string]any); ok {
			if l, has := m["length"]; has {
				return l
			}
		}
		return lengthOf(v)
	}),
	gval.Function("count", func(v any) any {
		if a, ok := v.([]any); ok {
			return float64(len(a))
		}
		if v == nil {
			return float64(0)
		}
		return float64(1)
	}),
	gval.Function("match", func(s, re any) (any, error) { return regexCall(s, re, true) }),
	gval.Function("search", func(s, re any) (any, error) { return regexCall(s, re, false) }),
	gval.Function("value", func(v any) any {
		if a, ok := v.([]any); ok {
			if len(a) == 1 {
				return a[0]
			}
			return nil
		}
		return v
	}),
	anyElement("=="), anyElement("<"), anyElement("<="), anyElement(">"), anyElement(">="),
	gval.InfixOperator("!=", func(a, b any) (any, error) {
		eq, err := elementwise("==", a, b)
		if err != nil {
			return nil, err
		}
		return !eq, nil
	}),
)

// lengthOf is RFC 9535's length(): characters of a string, elements of an
// array, members of an object; nil (Nothing) for anything else.
func lengthOf(v any) any {
	switch x := v.(type) {
	case string:
		return float64(utf8.RuneCountInString(x))
	case []any:
		return float64(len(x))
	case map[string]any:
		return float64(len(x))
	}
	return nil
}

func regexCall(s, re any, full bool) (any, error) {
	str, ok1 := s.(string)
	pat, ok2 := re.(string)
	if !ok1 || !ok2 {
		return false, nil
	}
	if full {
		pat = `^(?:` + pat + `)$`
	}
	r, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", pat, err)
	}
	return r.MatchString(str), nil
}

// anyElement is the fallback of a comparison operator for operands the
// typed operators do not take: an array on one side is compared element by
// element.
func anyElement(op string) gval.Language {
	return gval.InfixOperator(op, func(a, b any) (any, error) { return elementwise(op, a, b) })
}

func elementwise(op string, a, b any) (bool, error) {
	xs, aIsArray := a.([]any)
	ys, bIsArray := b.([]any)
	switch {
	case aIsArray && !bIsArray:
		return slices.ContainsFunc(xs, func(x any) bool { return scalarCompare(op, x, b) }), nil
	case bIsArray && !aIsArray:
		return slices.ContainsFunc(ys, func(y any) bool { return scalarCompare(op, a, y) }), nil
	}
	if op == "==" {
		return reflect.DeepEqual(a, b), nil
	}
	if a == nil || b == nil {
		return false, nil // nothing selected compares false; reported by the caller
	}
	return false, fmt.Errorf("cannot compare %s %s %s", jsonKind(a), op, jsonKind(b))
}

func scalarCompare(op string, a, b any) bool {
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok {
			return ordered(op, x < y, x == y)
		}
	case string:
		if y, ok := b.(string); ok {
			return ordered(op, x < y, x == y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			return op == "==" && x == y
		}
	}
	return op == "==" && reflect.DeepEqual(a, b)
}

func ordered(op string, less, eq bool) bool {
	switch op {
	case "==":
		return eq
	case "<":
		return less
	case "<=":
		return less || eq
	case ">":
		return !less && !eq
	case ">=":
		return !less
	}
	return false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// rewriteLength turns each operand PATH.length into goessnerLength(PATH),
// inside filters too; quoted strings are left alone.
func rewriteLength(s string) string {
	if !strings.Contains(s, ".length") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(s[i : i+j+2])
			i += j + 2
		case c == '$' || c == '@':
			end := pathEnd(s, i)
			path := s[i:end]
			inner := rewritePathFilters(path)
			if base, ok := strings.CutSuffix(inner, ".length"); ok {
				inner = "goessnerLength(" + base + ")"
			}
			b.WriteString(inner)
			i = end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// pathEnd is where the JSONPath operand starting at i ends: after its
// names, dots, wildcards and bracketed segments.
func pathEnd(s string, i int) int {
	i++
	for i < len(s) {
		c := s[i]
		switch {
		case c == '.' || c == '*' || isNameByte(c):
			i++
		case c == '[':
			i = bracketEnd(s, i)
		default:
			return i
		}
	}
	return i
}

// bracketEnd is the index after the ] that closes the [ at i.
func bracketEnd(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case '"', '\'':
			if j := strings.IndexByte(s[i+1:], s[i]); j >= 0 {
				i += j + 1
			}
		}
		i++
		if depth == 0 {
			return i
		}
	}
	return i
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// rewritePathFilters applies rewriteLength inside a path's bracketed
// segments (filters such as [?(@.tags.length > 0)]).
func rewritePathFilters(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] != '[' {
			b.WriteByte(path[i])
			continue
		}
		end := bracketEnd(path, i)
		if end-1 <= i || path[end-1] != ']' {
			b.WriteString(path[i:])
			break
		}
		b.WriteString("[" + rewriteLength(path[i+1:end-1]) + "]")
		i = end - 1
	}
	return b.String()
}
