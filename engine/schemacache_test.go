package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
)

// memCache is an engine.SchemaCache in memory that counts its calls.
type memCache struct {
	mu             sync.Mutex
	keys           map[string]bool
	asked, learned int
}

func (c *memCache) Passed(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	return c.keys[key]
}

func (c *memCache) Remember(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.learned++
	c.keys[key] = true
}

func TestSchemaCache(t *testing.T) {
	dir := t.TempDir()
	api := "openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths:\n  /p:\n    get:\n      operationId: ping\n      responses: {'200': {description: ok}}\n"
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(api), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := func(extra string) []byte {
		return []byte("arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions:\n  - {name: api, url: ./api.yaml, type: openapi" + extra + "}\n" +
			"workflows:\n  - workflowId: w\n    steps:\n      - {stepId: s, operationId: ping}\n")
	}
	cache := &memCache{keys: map[string]bool{}}
	load := func(data []byte) []string {
		_, diags := engine.LoadBytes(context.Background(), filepath.Join(dir, "doc.arazzo.yaml"), data, &source.Loader{}, engine.WithSchemaCache(cache))
		var out []string
		for _, d := range diags {
			out = append(out, d.String())
		}
		return out
	}
	good, bad := doc(""), doc(", bogus: 1")
	if d := load(good); len(d) != 0 || cache.learned != 1 {
		t.Fatalf("a clean document: %v, remembered %d", d, cache.learned)
	}
	if d := load(good); len(d) != 0 || cache.learned != 1 || cache.asked != 2 {
		t.Fatalf("loaded again: %v, asked %d, remembered %d", d, cache.asked, cache.learned)
	}
	// A schema error is reported and not remembered.
	if d := strings.Join(load(bad), "\n"); !strings.Contains(d, "[schema]") || cache.learned != 1 {
		t.Fatalf("a schema error: %s (remembered %d)", d, cache.learned)
	}
	// The cache is trusted: a key it says passed skips the schema (here a
	// planted verdict hides the error, which proves the check did not run;
	// the compile's own checks still do).
	cache.keys[schema.CacheKey(bad)] = true
	if d := load(bad); len(d) != 0 {
		t.Fatalf("a remembered key was checked again: %v", d)
	}
	semantic := []byte(strings.Replace(string(good), "operationId: ping", "operationId: nowhere", 1))
	cache.keys[schema.CacheKey(semantic)] = true
	if d := strings.Join(load(semantic), "\n"); !strings.Contains(d, "nowhere") {
		t.Fatalf("a remembered document skipped the semantic checks: %s", d)
	}
	// Keys are per byte.
	if schema.CacheKey(good) == schema.CacheKey(append(good, ' ')) {
		t.Fatal("two documents share a key")
	}
}
