// Package protocol is where a source's wire protocol plugs into the engine.
//
// The engine lays out every HTTP request the same way, from the OpenAPI
// operation (path, query, header and cookie parameters, a body by content
// type). A Protocol then reshapes it for the API's wire conventions and
// reads the API's error responses. Which protocol a source speaks is
// decided once, at compile time, by the Detectors the caller passes to
// engine.Compile (engine.WithProtocols): the first that claims a source
// wins, and HTTP serves the rest.
//
// The AWS families are packages beside this one: awsjson (awsJson1_0/1_1),
// restjson (restJson1), restxml (restXml), awsquery (awsQuery, ec2Query),
// with awsdesc for what a description says about AWS and oracle for the
// tests that check each against the official SDK. A new protocol is a
// package with a Detector; the engine and its state machine do not change.
package protocol

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/source"
)

// Protocol shapes requests for one wire protocol and reads its errors.
// Implementations are immutable and shared by every run of a plan.
type Protocol interface {
	// Name names the protocol in notices and events ("http", "awsJson1_0").
	Name() string
	// Prepare adjusts a request laid out from the description before it
	// is signed and sent. It may change the header, the content type and
	// the body, and add notices for the user; an error stops the step.
	Prepare(r *Request) error
	// ErrorSummary finds an error code and message in an error response.
	ErrorSummary(h http.Header, body []byte) (code, msg string)
}

// Request is a request as the engine laid it out, before it is sent.
//
// The engine assembles the URL from Server, Path and Query after Prepare,
// so a protocol reshapes those rather than the URL.
type Request struct {
	Operation *source.Operation
	Method    string
	// Server is the base URL (server variables expanded, or the user's
	// override); Path the path with its parameters filled in; Query the
	// query pieces, each `name=value` already escaped, in order. The
	// path key's own query (`/{Bucket}?list-type=2`) stays in Path.
	Server, Path string
	Query        []string
	// URL is Server+Path+Query, set by the engine after Prepare.
	URL    string
	Header http.Header
	// Params are the step's parameters as evaluated, with where the
	// workflow put them; a protocol that moves a parameter elsewhere
	// also takes it out of Path, Query or Header.
	Params      []Param
	Body        []byte
	HasBody     bool
	ContentType string
	// Notices are shown to the user once per step and run.
	Notices []string

	value    any
	hasValue bool
}

// Param is one evaluated parameter.
type Param struct {
	Name, In string
	Value    any
	// Schema is the parameter's declared schema, when it has one.
	Schema *openapi3.Schema
}

// SetValue records the body's value and its encoding.
func (r *Request) SetValue(v any, data []byte) {
	r.value, r.hasValue, r.Body, r.HasBody = v, true, data, true
}

// SetBody replaces the body bytes; the value is decoded anew when asked.
func (r *Request) SetBody(data []byte) {
	r.value, r.hasValue, r.Body, r.HasBody = nil, false, data, true
}

// Value is the body as a value: what the payload evaluated to, else the
// body decoded as JSON (numbers kept exact), else its text.
func (r *Request) Value() (any, bool) {
	if !r.HasBody {
		return nil, false
	}
	if !r.hasValue {
		d := json.NewDecoder(bytes.NewReader(r.Body))
		d.UseNumber()
		if d.Decode(&r.value) != nil {
			r.value = string(r.Body)
		}
		r.hasValue = true
	}
	return r.value, true
}

// DropParam removes a parameter's serialized form from the query or the
// header (a path parameter stays: the path needs it).
func (r *Request) DropParam(p Param) {
	switch p.In {
	case "query":
		pre := url.QueryEscape(p.Name) + "="
		out := r.Query[:0]
		for _, q := range r.Query {
			if !strings.HasPrefix(q, pre) {
				out = append(out, q)
			}
		}
		r.Query = out
	case "header":
		for k := range r.Header {
			if strings.EqualFold(k, p.Name) {
				delete(r.Header, k)
			}
		}
	}
}

// BuildURL joins Server, Path and Query.
func (r *Request) BuildURL() string {
	u := strings.TrimSuffix(r.Server, "/") + r.Path
	if len(r.Query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + strings.Join(r.Query, "&")
	}
	return u
}

// ParamLinter is implemented by protocols that send some parameters
// elsewhere than the workflow puts them: `arazzo validate` shows what
// LintParam returns (empty: nothing to say) as a warning at the parameter,
// so the author learns before a run what the run will change.
type ParamLinter interface {
	LintParam(op *source.Operation, name, in string) string
}

// Detector returns the protocol a source speaks, or nil if it does not
// know the source.
type Detector func(src *source.Source) Protocol

// HTTP is plain HTTP as OpenAPI describes it: requests are sent as laid
// out, and errors are read by the conventions JSON APIs share.
var HTTP Protocol = plain{}

type plain struct{}

func (plain) Name() string             { return "http" }
func (plain) Prepare(r *Request) error { return nil }
func (plain) ErrorSummary(h http.Header, body []byte) (string, string) {
	return JSONErrorSummary(body)
}

// JSONErrorSummary reads the fields JSON APIs put their errors in: code,
// error or title for the code (RFC 9457 problem details, OAuth 2.0 errors
// and common styles), message, detail or error_description for the text.
func JSONErrorSummary(body []byte) (code, msg string) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return "", ""
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := m[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	code = first("code", "Code", "error", "title", "__type")
	msg = first("message", "Message", "errorMessage", "error_description", "detail")
	return code, msg
}

// BodySchema is the operation's request body schema for media type mt,
// else its only one; nil when it declares none.
func BodySchema(op *source.Operation, mt string) *openapi3.Schema {
	if op == nil || op.Op == nil || op.Op.RequestBody == nil || op.Op.RequestBody.Value == nil {
		return nil
	}
	content := op.Op.RequestBody.Value.Content
	if m := content.Get(mt); m != nil && m.Schema != nil {
		return m.Schema.Value
	}
	if len(content) == 1 {
		for _, m := range content {
			if m != nil && m.Schema != nil {
				return m.Schema.Value
			}
		}
	}
	return nil
}

// Member finds the property of an object schema named name, exactly or
// else ignoring case (AWS members are UpperCamel, workflows' parameters
// not always); it returns the member's spelling and schema.
func Member(sch *openapi3.Schema, name string) (string, *openapi3.Schema, bool) {
	if sch == nil {
		return "", nil, false
	}
	if p, ok := sch.Properties[name]; ok {
		return name, p.Value, true
	}
	for k, p := range sch.Properties {
		if strings.EqualFold(k, name) {
			return k, p.Value, true
		}
	}
	return "", nil, false
}

// Coerce gives a value the type its schema declares when it is text that
// spells one (a query parameter's "10" for an integer member); anything
// else is returned as it is.
func Coerce(v any, sch *openapi3.Schema) any {
	s, ok := v.(string)
	if !ok || sch == nil || sch.Type == nil {
		return v
	}
	switch {
	case sch.Type.Is("integer"), sch.Type.Is("number"):
		n := json.Number(strings.TrimSpace(s))
		if _, err := n.Float64(); err == nil {
			if sch.Type.Is("integer") {
				if _, err := n.Int64(); err != nil {
					return v
				}
			}
			return n
		}
	case sch.Type.Is("boolean"):
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return v
}

// Unwrap drops a wrapper member: a payload that is one member whose name
// the schema does not know, holding an object whose members it does
// ({"searchCriteria": {...}} for a schema of searchCriteria's members),
// is the payload the wire wants. ok reports a change and the member.
func Unwrap(v any, sch *openapi3.Schema) (any, string, bool) {
	m, isObj := v.(map[string]any)
	if !isObj || len(m) != 1 || sch == nil || len(sch.Properties) == 0 {
		return v, "", false
	}
	for k, inner := range m {
		if _, known := sch.Properties[k]; known {
			return v, "", false
		}
		im, ok := inner.(map[string]any)
		if !ok || len(im) == 0 {
			return v, "", false
		}
		for ik := range im {
			if _, known := sch.Properties[ik]; !known {
				return v, "", false
			}
		}
		return im, k, true
	}
	return v, "", false
}

// MarshalJSON encodes v as compact JSON without HTML escaping (a payload's
// "<" stays "<", as the engine sends it).
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// TopKeys looks at a JSON body without decoding it: whether it is an
// object, how many members it has (counting stops at 2) and the first
// member's name. Protocols use it to leave a body alone, bytes and all,
// when nothing in it needs reshaping.
func TopKeys(data []byte) (isObject bool, members int, first string) {
	i := 0
	skipSpace := func() {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
	}
	skipSpace()
	if i >= len(data) || data[i] != '{' {
		return false, 0, ""
	}
	depth, inString, escaped, keyStart := 0, false, false, -1
	expectKey := false
	for ; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if keyStart >= 0 {
					if members == 1 {
						if s, err := strconv.Unquote(string(data[keyStart : i+1])); err == nil {
							first = s
						}
					}
					keyStart = -1
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 && expectKey {
				members++
				if members > 2 {
					return true, 2, first
				}
				keyStart = i
				expectKey = false
			}
		case '{', '[':
			depth++
			if depth == 1 {
				expectKey = true
			}
		case '}', ']':
			depth--
			if depth == 0 {
				return true, members, first
			}
		case ',':
			if depth == 1 {
				expectKey = true
			}
		}
	}
	return true, members, first
}
