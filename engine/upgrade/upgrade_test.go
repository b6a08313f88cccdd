package upgrade

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/schema"
)

var update = flag.Bool("update", false, "rewrite the expected outputs")

// upgraded runs the upgrade on testdata/name and checks the result against
// the expected file beside it, and that it is a valid 1.1 document.
func upgraded(t *testing.T, in, want string) *Result {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", in))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Document(src)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", want)
	if *update {
		if err := os.WriteFile(golden, res.Text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(exp) != string(res.Text) {
		t.Errorf("upgraded text differs from %s:\n%s", golden, res.Text)
	}
	doc, diags := document.Parse(in, res.Text)
	if doc == nil || doc.Version != document.V11 {
		t.Fatalf("not a 1.1 document: %v", diags)
	}
	if errs := append(diags, schema.ValidateDocument(doc)...).Errors(); len(errs) > 0 {
		t.Errorf("the upgraded document fails the 1.1 schema:\n%s", errs.Error())
	}
	return res
}

// Only the lines an edit touches change: comments, quoting, order and
// indentation elsewhere are the original bytes (the expected file shows
// it; this checks the count).
func TestYAMLEditsInPlace(t *testing.T) {
	res := upgraded(t, "criteria.in.yaml", "criteria.out.yaml")
	var changes []string
	for _, c := range res.Changes {
		changes = append(changes, c.String())
	}
	want := []string{
		"2:9: arazzo: 1.0.1 -> 1.1.0",
		"17:19: dropped `type: simple` without a context (the 1.1 schema needs a context once type is given; simple is the default)",
		"20:19: criterion type pinned to {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}",
		"23:19: criterion type pinned to {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}",
		"25:75: criterion type pinned to {type: xpath, version: xpath-10}",
		"42:23: XPath replacement target pinned to xpath-10",
		"44:24: XPath replacement target pinned to xpath-10",
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes:\n%s", strings.Join(changes, "\n"))
	}
	var manual []string
	for _, m := range res.Manual {
		manual = append(manual, m.String())
	}
	if len(manual) != 2 || !strings.Contains(manual[0], "33:54: the regex condition contains {$") || !strings.Contains(manual[1], "45:19: $components.inputs") {
		t.Errorf("manual:\n%s", strings.Join(manual, "\n"))
	}
	in, _ := os.ReadFile("testdata/criteria.in.yaml")
	inLines, outLines := strings.Split(string(in), "\n"), strings.Split(string(res.Text), "\n")
	same := 0
	for _, l := range outLines {
		for _, m := range inLines {
			if l == m {
				same++
				break
			}
		}
	}
	// Two entries removed (type: simple, a flat version), one added
	// (targetSelectorType), five rewritten in place: all else is kept.
	if len(inLines) != 46 || len(outLines) != 45 || same != 39 {
		t.Errorf("%d lines in, %d out, %d kept", len(inLines), len(outLines), same)
	}
}

func TestJSONStaysJSON(t *testing.T) {
	res := upgraded(t, "flow.in.json", "flow.out.json")
	if !json.Valid(res.Text) {
		t.Fatalf("not JSON:\n%s", res.Text)
	}
	if len(res.Changes) != 4 {
		t.Errorf("changes %v", res.Changes)
	}
}

func TestRefusesWhatIsNotA10Document(t *testing.T) {
	for in, want := range map[string]string{
		"arazzo: 1.1.0\n":  "already an Arazzo 1.1.0 document",
		"arazzo: 2.0.0\n":  `"2.0.0" is not a 1.0.x version`,
		"openapi: 3.1.0\n": "no arazzo field",
		"- a\n":            "not an object",
		"arazzo: [1.0.0\n": "did not find expected",
	} {
		if _, err := Document([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// FuzzUpgrade: any text either is refused or upgrades without panicking,
// and what it writes parses.
func FuzzUpgrade(f *testing.F) {
	for _, name := range []string{"criteria.in.yaml", "flow.in.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("arazzo: 1.0.0\nworkflows: [{steps: [{successCriteria: [{type: jsonpath, condition: 'a == 1', version: x}]}]}]\n"))
	f.Add([]byte("arazzo: '1.0.1' # c\nx: {replacements: [{target: \"/a[last()]\", value: 1}]}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		res, err := Document(src)
		if err != nil {
			return
		}
		if _, err := document.DecodeYAML(res.Text); err != nil {
			t.Fatalf("the upgrade of %q does not parse: %v\n%s", src, err, res.Text)
		}
	})
}

// Windows line ends and characters wider than a byte before an edit.
func TestCRLFAndWideCharacters(t *testing.T) {
	src := "arazzo: 1.0.1\r\ninfo: {title: \"café ☕\", version: '1'}\r\nworkflows:\r\n  - steps:\r\n      - successCriteria:\r\n          - {context: \"é\", condition: \"$.a == 'ü'\", type: jsonpath}\r\n          - context: $response.body\r\n            condition: $.b == 1 # ü\r\n            type: jsonpath\r\n            version: draft-goessner-dispatch-jsonpath-00\r\n        requestBody:\r\n          replacements:\r\n            - target: /a/b[last()] # ☕\r\n              value: x\r\n"
	res, err := Document([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "arazzo: 1.1.0\r\ninfo: {title: \"café ☕\", version: '1'}\r\nworkflows:\r\n  - steps:\r\n      - successCriteria:\r\n          - {context: \"é\", condition: \"$.a == 'ü'\", type: {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}}\r\n          - context: $response.body\r\n            condition: $.b == 1 # ü\r\n            type: {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}\r\n        requestBody:\r\n          replacements:\r\n            - target: /a/b[last()] # ☕\r\n              targetSelectorType: {type: xpath, version: xpath-10}\r\n              value: x\r\n"
	if string(res.Text) != want {
		t.Fatalf("got:\n%q\nwant:\n%q", res.Text, want)
	}
}
