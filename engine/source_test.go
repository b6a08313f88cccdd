package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine/source"
)

// A description spread over documents: a nested Arazzo source (type
// sniffed), a second OpenAPI source with clashing operationIds, a
// percent-encoded operationPath and $sourceDescriptions values.
func TestMultiDocumentDescription(t *testing.T) {
	var hits []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.Host+" "+r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"token":"tok-1"}`))
	}))
	defer api.Close()
	plan, diags := LoadFile(context.Background(), "testdata/multi/main.arazzo.yaml", &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	if plan.Source("shared").Type != "arazzo" || plan.Source("api").Type != "openapi" {
		t.Fatal("source types are sniffed when absent")
	}
	res, err := plan.Run(context.Background(), "main", nil, &Options{PollInterval: -1, Servers: map[string]string{
		"api": api.URL + "/api", "other": api.URL + "/other", "auth": api.URL + "/auth"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"token": "tok-1", "url": api.URL + "/api/items/3", "srcUrl": "../testapi.openapi.yaml", "opRef": "url", "viaWorkflows": "tok-1"}
	for k, v := range want {
		if res.Outputs[k] != v {
			t.Errorf("output %s = %v, want %v", k, res.Outputs[k], v)
		}
	}
	paths := strings.Join(hits, "\n")
	for _, p := range []string{"POST /auth/token", "GET /other/status", "GET /api/items/3 Bearer tok-1"} {
		if !strings.Contains(paths, p) {
			t.Errorf("missing request %q in\n%s", p, paths)
		}
	}
}

func TestRemoteSourcesPolicyTimeoutAndSizeCap(t *testing.T) {
	spec, _ := os.ReadFile("testdata/testapi.openapi.yaml")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow.yaml":
			time.Sleep(300 * time.Millisecond)
		case "/big.yaml":
			w.Write([]byte(strings.Repeat("#", 4096)))
		}
		w.Write(spec)
	}))
	defer srv.Close()
	doc := func(path string) []byte {
		return []byte("arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions:\n  - {name: api, url: '" + srv.URL + path + "'}\nworkflows:\n  - workflowId: w\n    steps:\n      - {stepId: s, operationId: getStatus}\n")
	}
	ctx := context.Background()
	if _, diags := LoadBytes(ctx, "remote.arazzo.yaml", doc("/api.yaml"), &source.Loader{}); len(diags) == 0 || !errors.Is(diags[0].Cause, source.ErrRemoteOff) {
		t.Fatalf("remote sources need an opt-in: %v", diags)
	}
	if _, diags := LoadBytes(ctx, "remote.arazzo.yaml", doc("/api.yaml"), &source.Loader{AllowRemote: true}); len(diags) == 0 || !errors.Is(diags[0].Cause, source.ErrPrivateAddress) {
		t.Fatalf("a remote source on a loopback address needs a second opt-in: %v", diags)
	}
	if p, diags := LoadBytes(ctx, "remote.arazzo.yaml", doc("/api.yaml"), &source.Loader{AllowRemote: true, AllowPrivate: true}); p == nil {
		t.Fatalf("with the opt-ins a remote source loads: %v", diags)
	}
	if _, diags := LoadBytes(ctx, "remote.arazzo.yaml", doc("/slow.yaml"), &source.Loader{AllowRemote: true, AllowPrivate: true, Timeout: 50 * time.Millisecond}); !strings.Contains(diags.Error(), "deadline exceeded") {
		t.Fatalf("a slow source times out: %v", diags)
	}
	if _, diags := LoadBytes(ctx, "remote.arazzo.yaml", doc("/big.yaml"), &source.Loader{AllowRemote: true, AllowPrivate: true, MaxBytes: 2048}); !strings.Contains(diags.Error(), "larger than the 2048-byte limit") {
		t.Fatalf("a large source is refused: %v", diags)
	}
}

// validate on many documents that share one source parses it once.
func TestLoaderParsesASharedSourceOnce(t *testing.T) {
	loader := &source.Loader{}
	var first *source.Source
	for i := 0; i < 5; i++ {
		plan, diags := LoadFile(context.Background(), "testdata/invalid/duplicate-action.arazzo.yaml", loader)
		_ = plan
		_ = diags
		src, err := loader.Load(context.Background(), "testdata/testapi.openapi.yaml", "openapi")
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = src
		} else if src != first {
			t.Fatal("the loader must return the cached source")
		}
	}
}
