// Package sourcetest loads OpenAPI descriptions written inline in tests,
// through the same loader the engine uses (operations indexed).
package sourcetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/arazzo-go/arazzo/engine/source"
)

// Load writes doc to a temporary file and loads it as an OpenAPI source.
func Load(t testing.TB, doc string) *source.Source {
	t.Helper()
	f := filepath.Join(t.TempDir(), "api.openapi.yaml")
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := (&source.Loader{}).Load(context.Background(), f, source.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
