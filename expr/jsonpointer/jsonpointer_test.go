package jsonpointer

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestSplitAndFormat(t *testing.T) {
	for _, tc := range []struct {
		ptr  string
		toks []string
		bad  int // offset of the error, -1 for none
	}{
		{"", nil, -1},
		{"/", []string{""}, -1},
		{"/a/b", []string{"a", "b"}, -1},
		{"/a~1b/m~0n", []string{"a/b", "m~n"}, -1},
		{"/~01", []string{"~1"}, -1},
		{"a", nil, 0},
		{"/ok/x~2", nil, 5},
		{"/x~", nil, 2},
	} {
		toks, err := Split(tc.ptr)
		if tc.bad >= 0 {
			se, ok := err.(*SyntaxError)
			if !ok || se.Offset != tc.bad {
				t.Errorf("Split(%q) = %v, want an error at %d", tc.ptr, err, tc.bad)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(toks, tc.toks) {
			t.Errorf("Split(%q) = %q, %v; want %q", tc.ptr, toks, err, tc.toks)
		}
		if tc.ptr != "" && Format(toks...) != tc.ptr && tc.ptr != "/~01" {
			t.Errorf("Format(%q) = %q, want %q", toks, Format(toks...), tc.ptr)
		}
	}
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGet(t *testing.T) {
	doc := decode(t, `{"a":[{"b":1},{"c/d":2}],"":3,"01":4}`)
	for _, tc := range []struct {
		ptr  string
		want any
		ok   bool
	}{
		{"", doc, true},
		{"/a/0/b", 1.0, true},
		{"/a/1/c~1d", 2.0, true},
		{"/", 3.0, true},
		{"/01", 4.0, true},
		{"/a/01", nil, false},
		{"/a/-", nil, false},
		{"/a/2", nil, false},
		{"/a/0/b/x", nil, false},
		{"bad", nil, false},
	} {
		got, ok := Lookup(doc, tc.ptr)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tc.ptr, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSetCopiesThePath(t *testing.T) {
	orig := `{"a":{"list":[1,2]},"keep":{"x":1}}`
	root := decode(t, orig)
	for _, tc := range []struct {
		ptr, want, err string
	}{
		{"/a/list/-", `{"a":{"list":[1,2,3]},"keep":{"x":1}}`, ""},
		{"/a/list/0", `{"a":{"list":[3,2]},"keep":{"x":1}}`, ""},
		{"/a/new", `{"a":{"list":[1,2],"new":3},"keep":{"x":1}}`, ""},
		{"", `3`, ""},
		{"/missing/x", "", "/missing does not exist in the payload"},
		{"/a/list/9", "", `/a/list: index "9" is out of range (the array has 2 items)`},
		{"/keep/x/y", "", "/keep/x is not an object or an array, so /keep/x/y cannot be set"},
	} {
		toks, _ := Split(tc.ptr)
		got, err := Set(root, toks, 3.0)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Set(%q) error = %v, want %q", tc.ptr, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, decode(t, tc.want)) {
			t.Errorf("Set(%q) = %v, %v; want %s", tc.ptr, got, err, tc.want)
		}
		if !reflect.DeepEqual(root, decode(t, orig)) {
			t.Fatalf("Set(%q) changed its input: %v", tc.ptr, root)
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"", "/", "/a~1b", "/~0", "x", "/~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ptr string) {
		toks, err := Split(ptr)
		if err != nil {
			return
		}
		if Format(toks...) != ptr && ptr != "" {
			// Only ~01-style sequences may print differently; re-splitting
			// must give the same tokens.
			again, err := Split(Format(toks...))
			if err != nil || !reflect.DeepEqual(again, toks) {
				t.Fatalf("Split(Format(%q)) = %q, %v", toks, again, err)
			}
		}
	})
}
