package schema

import (
	"sync"
	"testing"

	"github.com/arazzo-go/arazzo/engine/document"
)

// Prepare may race with the first validation: both must get the one
// compiled schema (run with -race).
func TestPrepareRacesFirstUse(t *testing.T) {
	doc, diags := document.Parse("bad.arazzo.yaml", []byte("arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions: []\nworkflows: []\n"))
	if doc == nil {
		t.Fatalf("parse: %v", diags)
	}
	var wg sync.WaitGroup
	results := make([]int, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Prepare()
			results[i] = len(ValidateDocument(doc))
		}()
	}
	wg.Wait()
	for i, n := range results {
		if n == 0 || n != results[0] {
			t.Fatalf("validation %d found %d problems, want the same non-zero count as the first (%d): empty sourceDescriptions and workflows break minItems", i, n, results[0])
		}
	}
}

func TestReleaseRecompiles(t *testing.T) {
	first, err := compiled()
	if err != nil || first == nil {
		t.Fatalf("compile: %v", err)
	}
	if again, _ := compiled(); again != first {
		t.Fatal("the compiled schema is not kept between validations")
	}
	Release()
	second, err := compiled()
	if err != nil || second == nil || second == first {
		t.Fatalf("after Release the schema is not compiled afresh (err %v)", err)
	}
}
