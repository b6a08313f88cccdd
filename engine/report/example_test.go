package report_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/report"
)

// An embedder runs a workflow with the writers it wants as observers: here
// the text log on stdout and a HAR trace, then the text result.
func Example() {
	// The API answers in-process; a real program leaves Caller nil.
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"sku": "pen", "count": 3}`)
	})
	caller := engine.CallerFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, r)
		return rec.Result(), nil
	})
	plan, diags := engine.LoadBytes(context.Background(), "testdata/stock.arazzo.yaml", []byte(`
arazzo: 1.0.1
info: {title: stock, version: '1'}
sourceDescriptions:
  - {name: api, url: ./api.openapi.yaml, type: openapi}
workflows:
  - workflowId: stock
    steps:
      - stepId: count
        operationId: getStock
        parameters:
          - {name: sku, in: path, value: pen}
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          count: $response.body#/count
    outputs:
      count: $steps.count.outputs.count
`), nil)
	if plan == nil {
		fmt.Println(diags.Error())
		return
	}

	// A file, in a real program.
	har := report.NewHAR(io.Discard, report.Tool{Name: "myapp", Version: "1.0"})
	// A frozen clock keeps the durations below the same on every run.
	frozen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := plan.Run(context.Background(), "stock", nil, &engine.Options{
		Caller:    caller,
		Servers:   map[string]string{"api": "https://api.example"},
		Now:       func() time.Time { return frozen },
		Observers: []engine.Observer{report.NewTextLog(os.Stdout, false), har},
	})
	if err := har.Close(); err != nil {
		fmt.Println("trace:", err)
	}
	if res == nil {
		fmt.Println(err)
		return
	}
	report.WriteResult(os.Stdout, res, true)
	// Output:
	// workflow stock started
	//   count → GET https://api.example/stock/pen
	//   count ← 200 (0s)
	// workflow stock succeeded
	//
	// stock: succeeded
	//   stock/count              runs=1    status=200  succeeded
	// outputs:
	//   count: 3
}
