package engine

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine/source"
)

// Hostile documents end in a clear diagnostic, quickly, without a panic.
// The policy (README, "Untrusted documents"): nesting and alias expansion
// are capped; local sources load anywhere unless a source root confines
// them; remote sources need an opt-in, and another for private addresses;
// $ref cycles in inputs are errors; cycles inside an OpenAPI description
// are left to kin-openapi, which loads them without looping.
func TestHostileDocuments(t *testing.T) {
	tests := []struct {
		file, root, want string
	}{
		{file: "deep.arazzo.yaml", want: "nests deeper than 200 levels"},
		{file: "laughs.arazzo.yaml", want: "YAML aliases expand the document to more than 250000 nodes"},
		{file: "outside.arazzo.yaml", root: "testdata/hostile", want: "outside the source root"},
		{file: "outside.arazzo.yaml", want: "not a YAML or JSON object"},
		{file: "inputs-loop.arazzo.yaml", want: "$ref cycle: #/workflows/0/inputs -> #/components/inputs/a -> #/components/inputs/b -> #/components/inputs/a"},
	}
	for _, tt := range tests {
		t.Run(tt.file+tt.root, func(t *testing.T) {
			start := time.Now()
			plan, diags := LoadFile(context.Background(), "testdata/hostile/"+tt.file, &source.Loader{Root: tt.root})
			if plan != nil || !strings.Contains(diags.Error(), tt.want) {
				t.Fatalf("want an error mentioning %q, got %v", tt.want, diags)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v", d)
			}
			if strings.Contains(diags.Error(), "module github.com") {
				t.Fatal("a diagnostic must not echo the content of a file it refused")
			}
		})
	}
	// A $ref cycle inside the OpenAPI description loads and runs.
	plan, diags := LoadFile(context.Background(), "testdata/hostile/openapi-loop.arazzo.yaml", &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	srv := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"GET /status": jsonHandler(200, `{}`)})
	if _, err := plan.Run(context.Background(), "w", nil, &Options{Servers: map[string]string{"api": srv.URL}}); err != nil {
		t.Fatal(err)
	}
}
