// Package awsjson is the AWS JSON 1.0 and 1.1 wire protocols (the
// X-Amz-Target style of DynamoDB, HealthLake, Personalize and many others),
// as a protocol.Protocol.
//
// On the wire every call is `POST /` with the operation named by the
// X-Amz-Target header (`<targetPrefix>.<Operation>`), a Content-Type of
// application/x-amz-json-1.0 or -1.1, and every input member in the JSON
// body. Descriptions often say otherwise: paging members as query
// parameters, invented REST paths, no X-Amz-Target at all. Prepare sends
// what AWS reads whatever the description says, and says what it moved.
//
// A source speaks it when its OpenAPI description says so in
// info.x-aws-protocol (awsJson1_0 or awsJson1_1), the convention of the
// descriptions generated from AWS service models, or when its shape says
// so: an X-Amz-Target header parameter, an application/x-amz-json-1.x
// request body, or info.x-aws-targetPrefix.
package awsjson

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsdesc"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Detect is the protocol.Detector for AWS JSON sources.
func Detect(src *source.Source) protocol.Protocol {
	if src == nil || src.OpenAPI == nil || src.OpenAPI.Info == nil {
		return nil
	}
	ext := src.OpenAPI.Info.Extensions
	prefix, _ := ext["x-aws-targetPrefix"].(string)
	version := ""
	switch awsdesc.Declared(src) {
	case "awsJson1_0":
		version = "1.0"
	case "awsJson1_1":
		version = "1.1"
	case "":
	default:
		return nil // another protocol, declared
	}
	if version == "" && awsdesc.RPCShape(src) != "json" {
		return nil
	}
	// The target prefix and version, where the description's shape gives them.
	for _, op := range src.Operations() {
		if _, frag, ok := strings.Cut(op.Path, "#X-Amz-Target="); ok && prefix == "" {
			prefix, _, _ = strings.Cut(frag, ".")
		}
		if p := op.Parameter("X-Amz-Target", "header"); p != nil && prefix == "" {
			prefix = targetPrefix(p)
		}
		if op.Op.RequestBody != nil && op.Op.RequestBody.Value != nil {
			for mt := range op.Op.RequestBody.Value.Content {
				if v, ok := strings.CutPrefix(strings.ToLower(mt), "application/x-amz-json-"); ok && version == "" && (v == "1.0" || v == "1.1") {
					version = v
				}
			}
		}
	}
	if version == "" {
		// Nothing says which: 1.1 is the version most JSON services speak.
		version = "1.1"
	}
	return Protocol{version: version, prefix: prefix}
}

// targetPrefix reads `Prefix` from an X-Amz-Target parameter whose schema
// enumerates or defaults `Prefix.Operation`.
func targetPrefix(p *openapi3.Parameter) string {
	if p.Schema == nil || p.Schema.Value == nil {
		return ""
	}
	vals := append([]any{p.Schema.Value.Default}, p.Schema.Value.Enum...)
	for _, v := range vals {
		if s, ok := v.(string); ok {
			if pre, _, ok := strings.Cut(s, "."); ok && pre != "" {
				return pre
			}
		}
	}
	return ""
}

// Protocol is one version of AWS JSON.
type Protocol struct{ version, prefix string }

// New is the protocol of a version ("1.0" or "1.1") and target prefix.
func New(version, targetPrefix string) Protocol {
	return Protocol{version: version, prefix: targetPrefix}
}

// Name is awsJson1_0 or awsJson1_1, as service models spell it.
func (p Protocol) Name() string { return "awsJson" + strings.ReplaceAll(p.version, ".", "_") }

// ContentType is the media type every request body carries.
func (p Protocol) ContentType() string { return "application/x-amz-json-" + p.version }

// Prepare lays the request out as AWS JSON: POST / with X-Amz-Target,
// the protocol's Content-Type, and every input member in the body.
func (p Protocol) Prepare(r *protocol.Request) error {
	op := r.Operation
	sch := protocol.BodySchema(op, p.ContentType())
	var body map[string]any
	changed := !r.HasBody
	restShaped := restShaped(op)
	if r.HasBody && !p.reshapes(r, sch, restShaped) {
		// Nothing moves into the body and it is no wrapper: leave its
		// bytes alone (and skip decoding them on every poll).
	} else if r.HasBody {
		v, _ := r.Value()
		if uw, member, ok := protocol.Unwrap(v, sch); ok {
			r.Notices = append(r.Notices, fmt.Sprintf("the payload's only member %s holds the operation's input; its members are sent as the body, as %s requires", member, p.Name()))
			v, changed = uw, true
		}
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("the body must be a JSON object (the operation's input), got %s", describe(v))
		}
		body = make(map[string]any, len(m))
		for k, v := range m {
			body[k] = v
		}
	} else {
		body = map[string]any{}
	}

	target := ""
	for k, v := range r.Header {
		if strings.EqualFold(k, "X-Amz-Target") && len(v) > 0 {
			target = v[0]
		}
	}
	if target == "" && op != nil {
		// Descriptions key operations on `/#X-Amz-Target=Prefix.Op`.
		if _, frag, ok := strings.Cut(op.Path, "#"); ok {
			target, _ = strings.CutPrefix(frag, "X-Amz-Target=")
			if target == frag {
				target = ""
			}
		}
		if target != "" {
			r.Header.Set("X-Amz-Target", target)
			r.Notices = append(r.Notices, "X-Amz-Target: "+target+" is sent, as the operation's path key says")
		}
	}
	if target == "" {
		if op == nil || op.ID == "" || p.prefix == "" {
			return fmt.Errorf("the request has no X-Amz-Target header and it cannot be inferred (the description gives no info.x-aws-targetPrefix and the operation no operationId)")
		}
		target = p.prefix + "." + op.ID
		r.Header.Set("X-Amz-Target", target)
		r.Notices = append(r.Notices, "X-Amz-Target: "+target+" is sent: "+p.Name()+" names the operation in that header")
	}

	// Members the workflow put in the path, query or a header go into the
	// body, typed by the input's schema: AWS reads nothing else.
	var moved []string
	for _, prm := range r.Params {
		if body == nil {
			break // the body is left as it is: nothing moves (reshapes)
		}
		if prm.In == "cookie" || (prm.In == "header" && strings.EqualFold(prm.Name, "X-Amz-Target")) {
			continue
		}
		name, msch, member := protocol.Member(sch, prm.Name)
		if !member {
			if !restShaped || prm.In == "header" {
				continue
			}
			name = prm.Name
		}
		changed = true
		if _, set := body[name]; set {
			r.DropParam(prm)
			continue
		}
		if msch == nil {
			msch = prm.Schema // a REST-shaped description types the parameter alone
		}
		body[name] = protocol.Coerce(prm.Value, msch)
		r.DropParam(prm)
		enc, _ := json.Marshal(body[name])
		moved = append(moved, fmt.Sprintf("%s (%s) as %s", name, prm.In, enc))
	}
	if len(moved) > 0 {
		sort.Strings(moved)
		r.Notices = append(r.Notices, fmt.Sprintf("%s sends every input member in the JSON body: %s moved there", p.Name(), strings.Join(moved, ", ")))
	}
	if restShaped || r.Method != http.MethodPost || pathOnly(r.Path) != "/" || len(r.Query) > 0 {
		r.Notices = append(r.Notices, fmt.Sprintf("%s %s is sent as POST / with X-Amz-Target: %s: the service speaks %s, whatever paths its description gives", r.Method, r.Path, target, p.Name()))
		r.Method, r.Path, r.Query = http.MethodPost, "/", nil
	}
	// An untouched body keeps the workflow's bytes (and member order).
	if changed {
		data, err := protocol.MarshalJSON(body)
		if err != nil {
			return err
		}
		r.SetValue(body, data)
	}

	ct := p.ContentType()
	if mt, _, _ := strings.Cut(r.ContentType, ";"); r.ContentType != "" && !strings.EqualFold(strings.TrimSpace(mt), ct) {
		r.Notices = append(r.Notices, "Content-Type "+ct+" (the source's "+p.Name()+" protocol) is sent instead of the workflow's "+r.ContentType)
	}
	r.ContentType = ct
	r.Header.Set("Content-Type", ct)
	return nil
}

// LintParam says, at validate time, which parameters the run will move
// into the body: those that are members of the operation's input.
func (p Protocol) LintParam(op *source.Operation, name, in string) string {
	if in == "cookie" || (in == "header" && strings.EqualFold(name, "X-Amz-Target")) {
		return ""
	}
	member, sch, ok := protocol.Member(protocol.BodySchema(op, p.ContentType()), name)
	if !ok {
		if restShaped(op) && in != "header" {
			return fmt.Sprintf("%s parameter %s: %s %s is sent as POST / (%s), with %s in the JSON body", in, name, op.Method, op.Path, p.Name(), name)
		}
		return ""
	}
	typed := ""
	if sch != nil && sch.Type != nil && len(sch.Type.Slice()) == 1 {
		typed = ", as the " + sch.Type.Slice()[0] + " its schema declares"
	}
	return fmt.Sprintf("%s parameter %s is the input member %s: %s reads every member from the JSON body, so the run sends it there%s", in, name, member, p.Name(), typed)
}

// restShaped: an operation the description gives a REST path or method.
func restShaped(op *source.Operation) bool {
	return op != nil && (op.Method != http.MethodPost || strings.Trim(pathOnly(op.Path), "/") != "")
}

func pathOnly(p string) string {
	p, _, _ = strings.Cut(p, "#")
	p, _, _ = strings.Cut(p, "?")
	return p
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// ErrorSummary reads the error type from the X-Amzn-ErrorType header or the
// body's __type (dropping a "namespace#" prefix and a ":uri" suffix) and
// the message from message or Message.
func (Protocol) ErrorSummary(h http.Header, body []byte) (code, msg string) {
	return Summary(h, body)
}

// Summary is the error reading AWS JSON and REST-JSON share.
func Summary(h http.Header, body []byte) (code, msg string) {
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

// reshapes says whether Prepare must read the body: a parameter moves into
// it, it is not a JSON object, or it may be the input wrapped in a member
// name. It looks at the bytes without decoding them.
func (p Protocol) reshapes(r *protocol.Request, sch *openapi3.Schema, restShaped bool) bool {
	for _, prm := range r.Params {
		if prm.In == "cookie" || (prm.In == "header" && strings.EqualFold(prm.Name, "X-Amz-Target")) {
			continue
		}
		if _, _, member := protocol.Member(sch, prm.Name); member || (restShaped && prm.In != "header") {
			return true
		}
	}
	isObj, members, first := protocol.TopKeys(r.Body)
	if !isObj {
		return true
	}
	if members == 1 && sch != nil && len(sch.Properties) > 0 {
		if _, known := sch.Properties[first]; !known {
			return true
		}
	}
	return false
}
