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
// A new protocol (AWS REST-XML or query, say) is a package beside awsjson
// with a Detector; the engine and its state machine do not change.
package protocol

import (
	"encoding/json"
	"net/http"

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
type Request struct {
	Operation   *source.Operation
	Method, URL string
	Header      http.Header
	Body        []byte
	HasBody     bool
	ContentType string
	// Notices are shown to the user once per step and run.
	Notices []string
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
