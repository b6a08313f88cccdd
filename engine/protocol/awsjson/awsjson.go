// Package awsjson is the AWS JSON 1.0 and 1.1 wire protocols (the
// X-Amz-Target style of DynamoDB, HealthLake, Kinesis and many others), as
// a protocol.Protocol.
//
// A source speaks it when its OpenAPI description says so in
// info.x-aws-protocol (awsJson1_0 or awsJson1_1), the convention of the
// descriptions generated from AWS service models.
package awsjson

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Detect is the protocol.Detector for AWS JSON sources.
func Detect(src *source.Source) protocol.Protocol {
	if src == nil || src.OpenAPI == nil || src.OpenAPI.Info == nil {
		return nil
	}
	switch src.OpenAPI.Info.Extensions["x-aws-protocol"] {
	case "awsJson1_0":
		return Protocol{version: "1.0"}
	case "awsJson1_1":
		return Protocol{version: "1.1"}
	}
	return nil
}

// Protocol is one version of AWS JSON.
type Protocol struct{ version string }

// Name is awsJson1_0 or awsJson1_1, as service models spell it.
func (p Protocol) Name() string { return "awsJson" + strings.ReplaceAll(p.version, ".", "_") }

// ContentType is the media type every request body carries.
func (p Protocol) ContentType() string { return "application/x-amz-json-" + p.version }

// Prepare sends the protocol's Content-Type whatever the workflow wrote:
// AWS rejects any other.
func (p Protocol) Prepare(r *protocol.Request) error {
	if !r.HasBody {
		return nil
	}
	ct := p.ContentType()
	if mt, _, _ := strings.Cut(r.ContentType, ";"); !strings.EqualFold(strings.TrimSpace(mt), ct) {
		r.Notices = append(r.Notices, "Content-Type "+ct+" (the source's "+p.Name()+" protocol) is sent instead of the workflow's "+r.ContentType)
		r.ContentType = ct
	}
	r.Header.Set("Content-Type", ct)
	return nil
}

// ErrorSummary reads the error type from the X-Amzn-ErrorType header or the
// body's __type (dropping a "namespace#" prefix and a ":uri" suffix) and
// the message from message or Message.
func (Protocol) ErrorSummary(h http.Header, body []byte) (code, msg string) {
	code, msg = protocol.JSONErrorSummary(body)
	var typed struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(body, &typed) == nil && typed.Type != "" {
		code = typed.Type
	}
	if t := h.Get("X-Amzn-ErrorType"); t != "" {
		code = t
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	return code, msg
}
