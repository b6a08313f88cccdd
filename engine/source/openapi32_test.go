package source

import (
	"context"
	"testing"
)

// kin-openapi loads OpenAPI 3.2 descriptions, including the 3.2 parameter
// location `querystring` (its Validate would reject that location, which
// is why descriptions are loaded, not validated).
func TestLoadsOpenAPI32Querystring(t *testing.T) {
	src, err := (&Loader{}).Load(context.Background(), "../testdata/testapi32.openapi.yaml", OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if v := src.OpenAPI.OpenAPI; v != "3.2.0" {
		t.Fatalf("openapi %q", v)
	}
	op := src.ByID("search")
	if op == nil {
		t.Fatal("operation search not indexed")
	}
	p := op.Parameter("q", "querystring")
	if p == nil || p.Content["application/x-www-form-urlencoded"] == nil {
		t.Fatalf("querystring parameter not loaded: %+v", p)
	}
}
