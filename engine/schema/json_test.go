package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/document"
)

var update = flag.Bool("update", false, "rewrite the embedded JSON schemas from the YAML ones")

// The embedded JSON schemas are the published YAML ones, converted.
func TestSchemaJSONIsTheYAML(t *testing.T) {
	for yamlFile, embedded := range map[string][]byte{"arazzo-1.0.schema.yaml": specSchemaJSON, "arazzo-1.1.schema.yaml": spec11SchemaJSON} {
		text, err := os.ReadFile(yamlFile)
		if err != nil {
			t.Fatal(err)
		}
		var n yaml.Node
		if err := yaml.Unmarshal(text, &n); err != nil {
			t.Fatal(err)
		}
		raw, err := document.FromYAML(&n)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(raw, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		jsonFile := yamlFile[:len(yamlFile)-len("yaml")] + "json"
		if *update {
			if err := os.WriteFile(jsonFile, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !bytes.Equal(embedded, want) {
			t.Errorf("%s is not %s converted: run go test ./engine/schema -run TestSchemaJSONIsTheYAML -update", jsonFile, yamlFile)
		}
	}
}
