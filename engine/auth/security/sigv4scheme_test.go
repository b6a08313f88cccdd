package security

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// A description generated for AWS marks SigV4 as an apiKey scheme for the
// Authorization header: that scheme is SigV4's, never an API key the
// security middleware would ask for (and send).
func TestAuthorizationAPIKeyDescribedAsSigV4IsSigV4(t *testing.T) {
	dir := t.TempDir()
	api := `openapi: 3.0.3
info: {title: aws-like, version: '1'}
servers: [{url: 'https://example.invalid/'}]
components:
  securitySchemes:
    hmac:
      type: apiKey
      name: Authorization
      in: header
      description: Amazon Signature Version 4 authorization
    key:
      type: apiKey
      name: Authorization
      in: header
      description: a plain key
security: [{hmac: []}]
paths:
  /x:
    get:
      operationId: getX
      responses: {'200': {description: ok}}
`
	doc := "arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions: [{name: api, url: ./api.yaml, type: openapi}]\nworkflows:\n  - workflowId: w\n    steps: [{stepId: s, operationId: getX}]\n"
	os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(api), 0o644)
	plan, diags := engine.LoadBytes(context.Background(), filepath.Join(dir, "d.arazzo.yaml"), []byte(doc), &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	schemes, _ := Schemes(plan.Source("api"))
	kinds := map[string]Kind{}
	for _, s := range schemes {
		kinds[s.Name] = s.Kind
	}
	if kinds["hmac"] != SigV4 || kinds["key"] != APIKey {
		t.Fatalf("kinds %v", kinds)
	}
}
