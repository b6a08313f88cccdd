package main

import (
	"os"
	"path/filepath"
	"runtime"

	"github.com/arazzo-go/arazzo/engine"
)

// fileCache is the CLI's engine.SchemaCache: an empty file per document
// that passed the Arazzo schema, named by its key (a digest of the
// document's bytes and of the schemas), under the cache directory. A
// document run again, as a CI job or a script does, then skips the schema's
// compile and walk, most of a cold start. Only that verdict is stored,
// never the document. Errors are ignored: without a cache every document
// is checked, as before.
type fileCache struct{ dir string }

func (c fileCache) path(key string) string { return filepath.Join(c.dir, "schema", key[:2], key) }

func (c fileCache) Passed(key string) bool {
	_, err := os.Stat(c.path(key))
	return err == nil
}

func (c fileCache) Remember(key string) {
	p := c.path(key)
	if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
		return
	}
	if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		f.Close()
	}
}

// cacheDir is $ARAZZO_CACHE, else the user's cache directory as
// os.UserCacheDir finds it (read through the host's environment) plus
// "arazzo"; "" (no cache) for ARAZZO_CACHE=off or when there is no home.
func (h host) cacheDir() string {
	if v := h.getenv("ARAZZO_CACHE"); v == "off" {
		return ""
	} else if v != "" {
		return v
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = h.getenv("LocalAppData")
	case "darwin", "ios":
		if home := h.getenv("HOME"); home != "" {
			base = filepath.Join(home, "Library", "Caches")
		}
	default:
		base = h.getenv("XDG_CACHE_HOME")
		if !filepath.IsAbs(base) {
			base = ""
			if home := h.getenv("HOME"); filepath.IsAbs(home) {
				base = filepath.Join(home, ".cache")
			}
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "arazzo")
}

// compileOptions are the CLI's compile options: its wire protocols and
// transports (protocols), and the schema cache.
func (h host) compileOptions() []engine.CompileOption {
	opts := protocols()
	if dir := h.cacheDir(); dir != "" {
		opts = append(opts, engine.WithSchemaCache(fileCache{dir}))
	}
	return opts
}
