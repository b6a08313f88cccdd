package engine

import (
	"context"
	"strings"
	"testing"
)

const layoutAPI = `openapi: 3.0.3
info: {title: layout, version: '1'}
servers: [{url: 'https://example.invalid'}]
paths:
  /{Bucket}/{Key+}?list-type=2:
    get:
      operationId: List
      parameters:
        - {name: Bucket, in: path, required: true, schema: {type: string}}
        - {name: Key, in: path, required: true, schema: {type: string}}
        - {name: list-type, in: query, schema: {type: string}}
      responses: {'200': {description: ok}}
  /docs:
    put:
      operationId: Put
      requestBody:
        content:
          application/xml:
            schema:
              type: object
              xml: {name: Doc, namespace: 'urn:example'}
              properties:
                id: {type: string, xml: {attribute: true}}
                Items: {type: array, xml: {wrapped: true}, items: {type: string, xml: {name: Item}}}
      responses: {'200': {description: ok}}
  /bare:
    put:
      operationId: Bare
      requestBody: {content: {application/xml: {schema: {type: object}}}}
      responses: {'200': {description: ok}}
`

// A query member the path key fixes is sent once; a greedy label keeps its
// slashes; an object payload becomes XML by the schema's xml hints.
func TestRequestLayout(t *testing.T) {
	plan := loadString(t, layoutAPI, `
  - workflowId: w
    steps:
      - stepId: list
        operationId: List
        parameters:
          - {name: Bucket, in: path, value: reports}
          - {name: Key, in: path, value: 2026/q3 summary.csv}
          - {name: list-type, in: query, value: '2'}
      - stepId: put
        operationId: Put
        requestBody:
          contentType: application/xml
          payload: {Doc: {id: d1, Items: [a, b]}}
  - workflowId: bare
    steps:
      - stepId: bare
        operationId: Bare
        requestBody:
          contentType: application/xml
          payload: {id: d1, n: 2}
`)
	reqs, err := plan.DryRun(context.Background(), "w", nil, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := reqs[0].URL; got != "https://example.invalid/reports/2026/q3%20summary.csv?list-type=2" {
		t.Errorf("list: %s", got)
	}
	if got := reqs[1].Body; got != `<Doc xmlns="urn:example" id="d1"><Items><Item>a</Item><Item>b</Item></Items></Doc>` {
		t.Errorf("put: %s", got)
	}
	bare, _ := plan.DryRun(context.Background(), "bare", nil, &Options{})
	if len(bare) != 1 || !strings.Contains(bare[0].Error, "needs its root element's name") {
		t.Errorf("an XML body with no root name: %+v", bare)
	}
}
