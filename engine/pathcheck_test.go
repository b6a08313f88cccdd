package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/source"
)

func TestImpossibleJSONPathWarns(t *testing.T) {
	dir := t.TempDir()
	spec := `openapi: 3.0.3
info: {title: efs, version: "1"}
paths:
  /fs:
    get:
      operationId: describe
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  FileSystems: {type: array, items: {type: object}}
                  Marker: {type: string}
                  Extra: {type: object}
                  Mixed: {allOf: [{type: object, properties: {A: {type: string}}}]}
`
	doc := `arazzo: 1.0.1
info: {title: t, version: "1"}
sourceDescriptions: [{name: efs, url: ./efs.yaml}]
workflows:
  - workflowId: w
    steps:
      - stepId: s
        operationId: describe
        successCriteria:
          - {context: $response.body, type: jsonpath, condition: '$.FileSystems.length > 0'}
          - {context: $response.body, type: jsonpath, condition: '$.FileSystem.State == "available"'}
          - {context: $response.body, type: jsonpath, condition: '$.Marker.Next == "x"'}
          - {context: $response.body, type: jsonpath, condition: '$.Extra.Anything == "$.Nope"'}
          - {context: $response.body, type: jsonpath, condition: '$.Mixed.A == "x" && $.Mixed.B == "y"'}
`
	if err := os.WriteFile(filepath.Join(dir, "efs.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := LoadBytes(context.Background(), filepath.Join(dir, "flow.yaml"), []byte(doc), &source.Loader{})
	var got []string
	for _, d := range diags {
		if d.Rule == "jsonpath-impossible" {
			got = append(got, strings.Fields(d.Message)[0])
		}
	}
	if want := "$.FileSystem.State $.Marker.Next $.Mixed.B"; strings.Join(got, " ") != want {
		t.Errorf("warned about %v, want %s\n%v", got, want, diags)
	}
}
