package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Message is a compiled AsyncAPI message schema (a payload or headers
// schema), for the contract checks of message steps. It is immutable and
// safe for concurrent use.
type Message struct {
	schema *jsonschema.Schema
}

// CompileMessage compiles an AsyncAPI schema as read from its description
// (local $refs already followed). AsyncAPI schemas are a superset of JSON
// Schema draft 7; the keywords it adds (discriminator, externalDocs,
// deprecated) are annotations, which the validator ignores.
func CompileMessage(name string, schema any) (*Message, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(noLoader{})
	url := "urn:asyncapi:" + strings.NewReplacer(":", "%3A", "#", "%23", " ", "%20").Replace(name)
	if err := c.AddResource(url, v); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), url, name))
	}
	return &Message{schema: s}, nil
}

// Problem is one way a value breaks a message schema.
type Problem struct {
	Pointer string // JSON Pointer of the value ("" for the whole)
	Rule    string // the keyword it broke
	Message string
}

// Validate lists how v (decoded JSON: json.Number for numbers) breaks the
// schema; none when it is valid.
func (m *Message) Validate(v any) []Problem {
	err := m.schema.Validate(v)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ve) {
		return []Problem{{Message: err.Error()}}
	}
	var out []Problem
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		rule := u.KeywordLocation[strings.LastIndex(u.KeywordLocation, "/")+1:]
		if rule == "$ref" || rule == "allOf" || rule == "properties" || rule == "items" {
			continue // a wrapper: the cause follows
		}
		out = append(out, Problem{Pointer: u.InstanceLocation, Rule: rule, Message: u.Error.String()})
	}
	if len(out) == 0 {
		out = append(out, Problem{Message: ve.Error()})
	}
	return out
}
