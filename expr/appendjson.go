package expr

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendJSON writes the value's JSON encoding to buf, as json.Marshal of
// Eval's result would (object keys sorted, HTML characters not escaped),
// without building the intermediate maps. ok is false when the whole value
// is undefined.
func (v *Value) AppendJSON(buf []byte, ctx Context) ([]byte, bool, error) {
	switch v.kind {
	case 'o':
		buf = append(buf, '{')
		first := true
		for i, k := range v.keys {
			mark := len(buf)
			if !first {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			var ok bool
			var err error
			if buf, ok, err = v.obj[i].AppendJSON(buf, ctx); err != nil {
				return buf, false, err
			}
			if !ok {
				buf = buf[:mark] // an undefined member is left out
				continue
			}
			first = false
		}
		return append(buf, '}'), true, nil
	case 'a':
		buf = append(buf, '[')
		first := true
		for _, e := range v.arr {
			mark := len(buf)
			if !first {
				buf = append(buf, ',')
			}
			var ok bool
			var err error
			if buf, ok, err = e.AppendJSON(buf, ctx); err != nil {
				return buf, false, err
			}
			if !ok {
				buf = buf[:mark]
				continue
			}
			first = false
		}
		return append(buf, ']'), true, nil
	case 't':
		x, ok := v.tmpl.Eval(ctx)
		if !ok {
			return buf, false, nil
		}
		b, err := appendJSONValue(buf, x)
		return b, true, err
	case 's':
		x, ok, err := v.sel.Eval(ctx)
		if err != nil || !ok {
			return buf, false, err
		}
		b, err := appendJSONValue(buf, x)
		return b, true, err
	}
	b, err := appendJSONValue(buf, v.lit)
	return b, true, err
}

// appendJSONValue encodes the common scalar types directly and anything
// else through encoding/json.
func appendJSONValue(buf []byte, x any) ([]byte, error) {
	switch t := x.(type) {
	case string:
		return appendJSONString(buf, t), nil
	case json.Number:
		if t == "" {
			return append(buf, '0'), nil
		}
		if !json.Valid([]byte(t)) {
			return buf, &json.UnsupportedValueError{Str: string(t)}
		}
		return append(buf, t...), nil
	case bool:
		return strconv.AppendBool(buf, t), nil
	case nil:
		return append(buf, "null"...), nil
	case int:
		return strconv.AppendInt(buf, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(buf, t, 10), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return buf, err
	}
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping off:
// control characters, quote and backslash escaped, invalid UTF-8 replaced,
// U+2028 and U+2029 escaped.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '\\', '"':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
