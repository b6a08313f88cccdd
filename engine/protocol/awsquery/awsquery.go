// Package awsquery is the AWS query wire protocols, awsQuery (STS, SQS's
// older form, IAM, RDS and Neptune management, CloudFormation) and
// ec2Query (EC2), as a protocol.Protocol.
//
// On the wire every call is `POST /` with a form body:
// Action=<Operation>&Version=<API version>&<members>, nested members
// flattened with dots (Parent.Child), lists numbered from 1
// (Tags.member.1.Key for awsQuery, Tags.1.Key for ec2Query) and maps as
// entries (Attributes.entry.1.key / .value). Descriptions often give the
// members as query parameters of a GET, or a JSON body: Prepare gathers
// them from wherever the workflow put them. Errors are XML
// (<ErrorResponse><Error><Code>…).
//
// A source speaks it when info.x-aws-protocol says awsQuery (or query,
// ec2Query, ec2), or when its shape says so: path keys with #Action= or
// ?Action=, or an Action query parameter. The Version is a Version
// parameter's value or default, else info.version.
package awsquery

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsdesc"
	"github.com/arazzo-go/arazzo/engine/protocol/restxml"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
)

// Detect is the protocol.Detector for the query protocols.
func Detect(src *source.Source) protocol.Protocol {
	version := ""
	if src != nil && src.OpenAPI != nil && src.OpenAPI.Info != nil {
		version = src.OpenAPI.Info.Version
	}
	switch awsdesc.Declared(src) {
	case "awsQuery":
		return Protocol{version: version}
	case "ec2Query":
		return Protocol{ec2: true, version: version}
	case "":
		if awsdesc.RPCShape(src) == "query" {
			return Protocol{version: version}
		}
	}
	return nil
}

// Protocol is awsQuery or ec2Query.
type Protocol struct {
	ec2     bool
	version string
}

// Name is awsQuery or ec2Query, as service models spell them.
func (p Protocol) Name() string {
	if p.ec2 {
		return "ec2Query"
	}
	return "awsQuery"
}

// ContentType is the form type the SDKs send.
const ContentType = "application/x-www-form-urlencoded; charset=utf-8"

// Prepare sends the call as POST / with the form body AWS reads.
func (p Protocol) Prepare(r *protocol.Request) error {
	op := r.Operation
	action, version := "", p.version
	if op != nil {
		action = op.ID
		for _, sep := range []string{"#", "?"} {
			if _, frag, ok := strings.Cut(op.Path, sep); ok {
				if q, err := url.ParseQuery(frag); err == nil && q.Get("Action") != "" {
					action = q.Get("Action")
				}
			}
		}
		if prm := op.Parameter("Version", "query"); prm != nil && prm.Schema != nil && prm.Schema.Value != nil {
			if v, ok := prm.Schema.Value.Default.(string); ok && v != "" {
				version = v
			} else if len(prm.Schema.Value.Enum) == 1 {
				version = fmt.Sprint(prm.Schema.Value.Enum[0])
			}
		}
	}
	members := map[string]any{}
	schemas := map[string]*openapi3.Schema{}
	var order []string
	body := protocol.BodySchema(op, "")
	set := func(k string, v any) {
		if _, seen := members[k]; !seen {
			order = append(order, k)
		}
		members[k] = v
		if _, s, ok := protocol.Member(body, k); ok {
			schemas[k] = s
		}
	}
	for _, prm := range r.Params {
		switch {
		case prm.In == "query" && prm.Name == "Action":
			action = expr.Text(prm.Value)
		case prm.In == "query" && prm.Name == "Version":
			version = expr.Text(prm.Value)
		case prm.In == "query" || prm.In == "path":
			set(prm.Name, prm.Value)
			if prm.Schema != nil {
				schemas[prm.Name] = prm.Schema
			}
		default:
			continue
		}
		r.DropParam(prm)
	}
	if r.HasBody {
		v, _ := r.Value()
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				switch k {
				case "Action":
					action = expr.Text(x[k])
				case "Version":
					version = expr.Text(x[k])
				default:
					set(k, x[k])
				}
			}
		case string:
			// Already a form: its members join the others.
			q, err := url.ParseQuery(x)
			if err != nil {
				return fmt.Errorf("the body is neither an object nor a form: %v", err)
			}
			for k := range q {
				switch k {
				case "Action":
					action = q.Get(k)
				case "Version":
					version = q.Get(k)
				default:
					set(k, q.Get(k))
				}
			}
		}
	}
	if action == "" {
		return fmt.Errorf("the operation has no Action (no operationId, #Action= in its path key or Action parameter)")
	}
	if version == "" {
		return fmt.Errorf("no API Version for %s: give a Version parameter or info.version", action)
	}
	form := url.Values{"Action": {action}, "Version": {version}}
	for _, k := range order {
		p.flatten(form, k, members[k], schemas[k])
	}
	if r.Method != http.MethodPost || r.Path != "/" || len(r.Query) > 0 {
		r.Notices = append(r.Notices, fmt.Sprintf("%s %s is sent as POST / with a form body (Action=%s): the service speaks %s", r.Method, r.Path, action, p.Name()))
	}
	r.Method, r.Path, r.Query = http.MethodPost, "/", nil
	r.SetBody([]byte(form.Encode()))
	r.ContentType = ContentType
	r.Header.Set("Content-Type", ContentType)
	return nil
}

// flatten writes one member in the protocol's form; sch, when known,
// tells a map (additionalProperties) from a structure.
func (p Protocol) flatten(form url.Values, name string, v any, sch *openapi3.Schema) {
	if p.ec2 && name != "" {
		// ec2Query names members with an upper-case initial.
		name = strings.ToUpper(name[:1]) + name[1:]
	}
	switch x := v.(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		isMap := sch != nil && len(sch.Properties) == 0 && (sch.AdditionalProperties.Schema != nil || (sch.AdditionalProperties.Has != nil && *sch.AdditionalProperties.Has))
		for i, k := range keys {
			if isMap {
				entry := name + ".entry." + strconv.Itoa(i+1)
				form.Set(entry+".key", k)
				var vs *openapi3.Schema
				if sch.AdditionalProperties.Schema != nil {
					vs = sch.AdditionalProperties.Schema.Value
				}
				p.flatten(form, entry+".value", x[k], vs)
				continue
			}
			var ps *openapi3.Schema
			if sch != nil && sch.Properties[k] != nil {
				ps = sch.Properties[k].Value
			}
			p.flatten(form, name+"."+k, x[k], ps)
		}
	case []any:
		if len(x) == 0 && !p.ec2 {
			form.Set(name, "") // an empty list is sent as the bare member
		}
		var items *openapi3.Schema
		if sch != nil && sch.Items != nil {
			items = sch.Items.Value
		}
		for i, it := range x {
			key := name + ".member." + strconv.Itoa(i+1)
			if p.ec2 {
				key = name + "." + strconv.Itoa(i+1)
			}
			p.flatten(form, key, it, items)
		}
	default:
		form.Set(name, expr.Text(v))
	}
}

// ErrorSummary reads <ErrorResponse><Error><Code> and <Message>.
func (Protocol) ErrorSummary(h http.Header, body []byte) (string, string) {
	return restxml.XMLErrorSummary(body)
}
