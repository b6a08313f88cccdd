package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

const benchCheckAPI = `openapi: 3.0.3
info: {title: bench, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      responses:
        "200":
          description: items
          content:
            application/json:
              schema:
                type: object
                required: [items]
                properties:
                  items:
                    type: array
                    items:
                      type: object
                      required: [id, name]
                      properties:
                        id: {type: integer}
                        name: {type: string}
                        tags: {type: array, items: {type: string}}
`

const benchCheckFlow = `arazzo: 1.0.1
info: {title: bench, version: "1"}
sourceDescriptions:
  - {name: api, url: ./api.yaml, type: openapi}
workflows:
  - workflowId: list
    steps:
      - stepId: list
        operationId: listItems
        successCriteria:
          - condition: $statusCode == 200
`

// itemsBody is a valid response of about size bytes.
func itemsBody(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < size-2; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item-%d","tags":["a","b"]}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkResponseCheck is the cost per step of the contract checks on a
// response of 1 KB and of 1 MB, beside the same run with checks off, over
// loopback HTTP. The difference between the pairs is the checks' cost.
func BenchmarkResponseCheck(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(benchCheckAPI), 0o644); err != nil {
		b.Fatal(err)
	}
	plan, diags := engine.LoadBytes(context.Background(), filepath.Join(dir, "flow.arazzo.yaml"), []byte(benchCheckFlow), &source.Loader{})
	if plan == nil {
		b.Fatal(diags.Error())
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1 << 10}, {"1MB", 1 << 20}} {
		body := itemsBody(size.n)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}))
		all, _ := engine.ParseChecks(nil, "all=warn")
		for _, mode := range []struct {
			name   string
			checks engine.Checks
		}{{"checks=off", nil}, {"checks=on", all}} {
			b.Run(size.name+"/"+mode.name, func(b *testing.B) {
				opts := &engine.Options{Servers: map[string]string{"api": srv.URL}, Checks: mode.checks}
				var violations int
				opts.Observers = []engine.Observer{engine.ObserverFunc(func(e engine.Event) {
					if e.Kind == engine.CheckViolated {
						violations++
					}
				})}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := plan.Run(context.Background(), "list", nil, opts); err != nil {
						b.Fatal(err)
					}
				}
				if violations > 0 {
					b.Fatalf("%d violations on a valid response", violations)
				}
			})
		}
		srv.Close()
	}
}
