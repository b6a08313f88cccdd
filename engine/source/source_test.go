package source

import (
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct{ base, ref, want string }{
		{"workflows/a.yaml", "../openapi/b.yaml", filepath.Clean("openapi/b.yaml")},
		{"/x/y/a.yaml", "./b%20c.yaml", "/x/y/b c.yaml"},
		{"/x/y/a.yaml", "/abs/b.yaml", "/abs/b.yaml"},
		{"/x/y/a.yaml", "file:///etc/b.yaml", "/etc/b.yaml"},
		{"https://h/specs/a.yaml", "b.yaml", "https://h/specs/b.yaml"},
		{"/x/a.yaml", "https://h/b.yaml", "https://h/b.yaml"},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.base, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tt.base, tt.ref, got, err, tt.want)
		}
	}
	if _, err := Resolve("/a.yaml", "ftp://h/b.yaml"); err == nil {
		t.Error("unsupported schemes are refused")
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]string{"openapi: 3.1.0\n": "openapi", `{"arazzo": "1.0.1"}`: "arazzo", "swagger: '2.0'\n": "", "a: 1\n": "", "[": ""} {
		got, err := sniff([]byte(in))
		if got != want || (want == "" && err == nil) {
			t.Errorf("sniff(%q) = %q, %v", in, got, err)
		}
	}
}

func TestInsideRoot(t *testing.T) {
	dir := t.TempDir()
	if err := inside(dir, filepath.Join(dir, "a", "b.yaml")); err != nil {
		t.Error(err)
	}
	if err := inside(dir, filepath.Join(dir, "..", "x.yaml")); err == nil {
		t.Error("a path outside the root is refused")
	}
}
