package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Inputs is a workflow's compiled `inputs` schema. It is immutable and safe
// for concurrent use.
type Inputs struct {
	schema *jsonschema.Schema
	// resolved is the inputs schema with local $refs followed at the top
	// level, for defaults and for describing inputs.
	resolved map[string]any
}

// CompileInputs compiles the inputs schema found at pointer (e.g.
// "/workflows/0/inputs") inside the Arazzo document raw. `$ref`s resolve
// relative to the Arazzo document, so `#/components/inputs/x` works, nested
// or not.
func CompileInputs(docURL string, raw any, pointer string) (*Inputs, error) {
	if err := refCycle(raw, pointer); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Never fetch remote schemas: a document is not allowed to make us
	// reach the network through a $ref.
	c.UseLoader(noLoader{})
	url := "urn:arazzo:" + strings.NewReplacer(":", "%3A", "#", "%23").Replace(docURL)
	if err := c.AddResource(url, raw); err != nil {
		return nil, err
	}
	s, err := c.Compile(url + "#" + pointer)
	if err != nil {
		// Our internal URN means nothing to the author: show the pointer.
		return nil, errors.New(strings.ReplaceAll(err.Error(), url, ""))
	}
	node, _ := jsonpointer.Lookup(raw, pointer)
	return &Inputs{schema: s, resolved: resolveTop(raw, node, 0)}, nil
}

// refCycle reports a chain of schemas that only $ref each other in a loop,
// which no instance can ever satisfy and some validators never leave.
func refCycle(raw any, pointer string) error {
	seen := map[string]bool{}
	chain := []string{"#" + pointer}
	for ptr := pointer; ; {
		if seen[ptr] {
			return fmt.Errorf("$ref cycle: %s", strings.Join(chain, " -> "))
		}
		seen[ptr] = true
		node, ok := jsonpointer.Lookup(raw, ptr)
		if !ok {
			return nil
		}
		m, _ := node.(map[string]any)
		ref, _ := m["$ref"].(string)
		if !strings.HasPrefix(ref, "#") {
			return nil
		}
		ptr = ref[1:]
		chain = append(chain, ref)
	}
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("remote schema %s is not loaded (only references inside the document are followed)", url)
}

// Properties returns the inputs schema's properties (name → schema), its
// required names, for defaults and for describing a workflow.
func (in *Inputs) Properties() (map[string]any, []string) {
	if in == nil || in.resolved == nil {
		return nil, nil
	}
	props, _ := in.resolved["properties"].(map[string]any)
	var req []string
	if r, ok := in.resolved["required"].([]any); ok {
		for _, x := range r {
			if s, ok := x.(string); ok {
				req = append(req, s)
			}
		}
	}
	return props, req
}

// Closed reports whether a name the schema does not declare is most likely
// a typo: the schema lists properties and says nothing to let others in
// (no additionalProperties allowing them, no patternProperties).
func (in *Inputs) Closed() bool {
	if in == nil || in.resolved == nil {
		return false
	}
	if props, _ := in.resolved["properties"].(map[string]any); len(props) == 0 {
		return false
	}
	if _, ok := in.resolved["patternProperties"]; ok {
		return false
	}
	switch ap := in.resolved["additionalProperties"].(type) {
	case bool:
		return !ap
	case map[string]any:
		return false
	}
	return true
}

// ApplyDefaults returns a copy of inputs with the schema's top-level
// property defaults filled in where a value was not given.
func (in *Inputs) ApplyDefaults(inputs map[string]any) map[string]any {
	out := make(map[string]any, len(inputs))
	for k, v := range inputs {
		out[k] = v
	}
	props, _ := in.Properties()
	for name, p := range props {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if _, given := out[name]; given {
			continue
		}
		if d, ok := pm["default"]; ok {
			out[name] = d
		}
	}
	return out
}

// Validate checks the inputs and returns an error naming every violation.
func (in *Inputs) Validate(inputs map[string]any) error {
	if in == nil {
		return nil
	}
	err := in.schema.Validate(any(inputs))
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err
	}
	var msgs []string
	for _, l := range leaves(ve) {
		name := "inputs"
		if len(l.InstanceLocation) > 0 {
			name = "input " + strings.Join(l.InstanceLocation, ".")
		}
		switch k := l.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				n := m
				if len(l.InstanceLocation) > 0 {
					n = strings.Join(l.InstanceLocation, ".") + "." + m
				}
				msgs = append(msgs, fmt.Sprintf("input %s is required%s", n, in.describe(m)))
			}
			continue
		}
		msgs = append(msgs, fmt.Sprintf("%s: %s", name, l.ErrorKind.LocalizedString(printer)))
	}
	return &InputError{Problems: msgs}
}

func (in *Inputs) describe(name string) string {
	props, _ := in.Properties()
	p, _ := props[name].(map[string]any)
	if p == nil {
		return ""
	}
	var parts []string
	if t, ok := p["type"].(string); ok {
		parts = append(parts, t)
	}
	if d, ok := p["description"].(string); ok {
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ": ") + ")"
}

// InputError lists every way the given inputs break the schema.
type InputError struct{ Problems []string }

func (e *InputError) Error() string {
	return "invalid inputs: " + strings.Join(e.Problems, "; ")
}

// resolveTop follows local `$ref`s of a schema object (and of its
// properties, one level down) so defaults and descriptions can be read.
func resolveTop(root, node any, depth int) map[string]any {
	m, ok := node.(map[string]any)
	if !ok || depth > 32 {
		return nil
	}
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
		target, ok := jsonpointer.Lookup(root, ref[1:])
		if !ok {
			return m
		}
		return resolveTop(root, target, depth+1)
	}
	props, ok := m["properties"].(map[string]any)
	if !ok || depth > 0 {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	np := make(map[string]any, len(props))
	for k, v := range props {
		if r := resolveTop(root, v, 1); r != nil {
			np[k] = r
		} else {
			np[k] = v
		}
	}
	out["properties"] = np
	return out
}
