package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// A plan is loaded once and run as often as needed; observers see every step.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id": 42, "name": "pen"}`)
	}))
	defer api.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	spec, _ := os.ReadFile("testdata/testapi.openapi.yaml")
	os.WriteFile(filepath.Join(dir, "testapi.openapi.yaml"), spec, 0o644)
	os.WriteFile(filepath.Join(dir, "flow.arazzo.yaml"), []byte(`
arazzo: 1.0.1
info: {title: example, version: '1'}
sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
workflows:
  - workflowId: fetch
    inputs:
      type: object
      properties:
        id: {type: integer}
    steps:
      - stepId: get
        operationId: getItem
        parameters:
          - {name: id, in: path, value: $inputs.id}
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          name: $response.body#/name
    outputs:
      name: $steps.get.outputs.name
`), 0o644)

	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "flow.arazzo.yaml"), &source.Loader{})
	if plan == nil {
		fmt.Println(diags.Error())
		return
	}
	res, err := plan.Run(context.Background(), "fetch", map[string]any{"id": 42}, &engine.Options{
		Servers: map[string]string{"api": api.URL},
		Observers: []engine.Observer{engine.ObserverFunc(func(e engine.Event) {
			if e.Kind == engine.StepFinished {
				fmt.Println("step", e.StepID, e.Status)
			}
		})},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, res.Outputs["name"])
	// Output:
	// step get succeeded
	// succeeded pen
}
