// Package restjson is the AWS restJson1 wire protocol (EFS, HealthImaging,
// Neptune Analytics, Lambda and most newer services) as a
// protocol.Protocol.
//
// The description's HTTP bindings are the wire's: members bound to the
// path, the query and headers go there, the rest in a JSON body sent as
// application/json. Prepare unwraps a payload written inside a member
// name the input does not have ({"searchCriteria": {...}} where the body
// is searchCriteria's members), and errors are read from X-Amzn-ErrorType
// and the body's code or __type and message.
//
// A source speaks it when info.x-aws-protocol says restJson1, or when its
// description is an AWS service's (x-aws-signingName, or an AWS host) that
// declares no other protocol, is not shaped like AWS JSON or query, and
// has no XML or form bodies.
package restjson

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsdesc"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Detect is the protocol.Detector for restJson1 sources.
func Detect(src *source.Source) protocol.Protocol {
	switch awsdesc.Declared(src) {
	case "restJson1":
		return Protocol{}
	case "":
		if awsdesc.IsAWS(src) && awsdesc.RPCShape(src) == "" {
			for mt := range awsdesc.MediaTypes(src) {
				if strings.Contains(mt, "xml") || strings.Contains(mt, "x-www-form-urlencoded") {
					return nil
				}
			}
			return Protocol{}
		}
	}
	return nil
}

// Protocol is restJson1.
type Protocol struct{}

// Name is restJson1, as service models spell it.
func (Protocol) Name() string { return "restJson1" }

// Prepare sends a JSON body as application/json, unwrapped when the
// workflow wrapped it in a member name.
func (p Protocol) Prepare(r *protocol.Request) error {
	if !r.HasBody {
		return nil
	}
	sch := protocol.BodySchema(r.Operation, "application/json")
	v, _ := r.Value()
	if _, isText := v.(string); isText {
		return nil // not JSON: sent as the workflow wrote it
	}
	if uw, member, ok := protocol.Unwrap(v, sch); ok {
		data, err := protocol.MarshalJSON(uw)
		if err != nil {
			return err
		}
		r.SetValue(uw, data)
		r.Notices = append(r.Notices, fmt.Sprintf("the payload's only member %s holds the operation's body; its members are sent as the body, as %s requires", member, p.Name()))
	}
	if mt, _, _ := strings.Cut(r.ContentType, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		r.Notices = append(r.Notices, "Content-Type application/json (the source's restJson1 protocol) is sent instead of the workflow's "+r.ContentType)
		r.ContentType = "application/json"
	}
	r.Header.Set("Content-Type", r.ContentType)
	return nil
}

// ErrorSummary reads AWS's error type and message (as AWS JSON does).
func (Protocol) ErrorSummary(h http.Header, body []byte) (string, string) {
	return awsjson.Summary(h, body)
}
