package protocol

import "testing"

func TestTopKeys(t *testing.T) {
	for _, tc := range []struct {
		in      string
		obj     bool
		members int
		first   string
	}{
		{`{}`, true, 0, ""},
		{` {"a":1}`, true, 1, "a"},
		{`{"w\"x":{"b":[1,{"c":"}"}]}}`, true, 1, `w"x`},
		{`{"a":{"x":1,"y":2},"b":"q,\"r"}`, true, 2, "a"},
		{`{"a":1,"b":2,"c":3}`, true, 2, "a"},
		{`[{"a":1}]`, false, 0, ""},
		{`"text"`, false, 0, ""},
	} {
		obj, n, first := TopKeys([]byte(tc.in))
		if obj != tc.obj || n != tc.members || first != tc.first {
			t.Errorf("TopKeys(%s) = %v, %d, %q; want %v, %d, %q", tc.in, obj, n, first, tc.obj, tc.members, tc.first)
		}
	}
}
