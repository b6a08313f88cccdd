package expr

import (
	"encoding/json"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// compare applies a comparison operator with the loose rules of simple
// conditions:
//   - undefined equals nothing (so `!=` against it is true), and null
//     equals only null;
//   - numbers compare numerically and exactly; a numeric string compared
//     with a number is read as a number;
//   - two strings compare case-insensitively (ordering too, lexically:
//     '10' < '9');
//   - booleans equal only booleans (true == 'true' is false);
//   - objects and arrays are equal when deeply equal;
//   - any other mix is simply false, never an error.
func compare(op string, l any, lok bool, r any, rok bool) bool {
	if op == "!=" {
		return !compare("==", l, lok, r, rok)
	}
	if !lok || !rok {
		return false
	}
	c, ok := order(l, r)
	switch op {
	case "==":
		if ok {
			return c == 0
		}
		return deepEqual(l, r)
	case "<":
		return ok && c < 0
	case "<=":
		return ok && c <= 0
	case ">":
		return ok && c > 0
	case ">=":
		return ok && c >= 0
	}
	return false
}

// order compares two scalars; ok is false when they cannot be ordered.
func order(l, r any) (int, bool) {
	// Fast path: two integers, the usual `$statusCode == 200`.
	if li, ok := asInt(l); ok {
		if ri, ok := asInt(r); ok {
			switch {
			case li < ri:
				return -1, true
			case li > ri:
				return 1, true
			}
			return 0, true
		}
	}
	ln, lnum := number(l)
	rn, rnum := number(r)
	switch {
	case lnum && rnum:
		return ln.Cmp(rn), true
	case lnum:
		if rs, isStr := r.(string); isStr {
			if x, ok := parseNumber(strings.TrimSpace(rs)); ok {
				return ln.Cmp(x), true
			}
		}
		return 0, false
	case rnum:
		if ls, isStr := l.(string); isStr {
			if x, ok := parseNumber(strings.TrimSpace(ls)); ok {
				return x.Cmp(rn), true
			}
		}
		return 0, false
	}
	ls, lstr := l.(string)
	rs, rstr := r.(string)
	if lstr && rstr {
		return strings.Compare(strings.ToLower(ls), strings.ToLower(rs)), true
	}
	return 0, false
}

// number reads a JSON number value (not a string) exactly.
func number(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case json.Number:
		return parseNumber(string(x))
	case int:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(x) == nil {
			return nil, false
		}
		return r, true
	}
	return nil, false
}

// asInt reads an integer-valued number without allocating.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		return i, err == nil
	}
	return 0, false
}

func parseNumber(s string) (*big.Rat, bool) {
	if s == "" || !json.Valid([]byte(s)) {
		return nil, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return new(big.Rat).SetInt64(i), true
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func deepEqual(l, r any) bool {
	switch l.(type) {
	case nil:
		return r == nil
	case bool:
		rb, ok := r.(bool)
		return ok && rb == l.(bool)
	case map[string]any, []any:
		return reflect.DeepEqual(normalize(l), normalize(r))
	}
	return false
}

// normalize rewrites numbers to one canonical text so 1 and 1.0 compare equal
// inside objects and arrays.
func normalize(v any) any {
	return mapLeaves(v, func(leaf any) any {
		if s, ok := leaf.(string); ok {
			return strings.ToLower(s)
		}
		if n, ok := number(leaf); ok {
			return n.RatString()
		}
		return leaf
	})
}

// mapLeaves returns a copy of a JSON value with f applied to every leaf
// (anything that is not an object or an array).
func mapLeaves(v any, f func(leaf any) any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = mapLeaves(e, f)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = mapLeaves(e, f)
		}
		return a
	}
	return f(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func itoa(i int) string { return strconv.Itoa(i) }
