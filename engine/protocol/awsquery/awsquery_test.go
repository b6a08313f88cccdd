package awsquery

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/protocol"
)

// Members are flattened as each query protocol spells them: structures
// with dots, lists numbered from 1 (.member.N for awsQuery, .N and an
// upper-case initial for ec2Query), maps as numbered entries.
func TestFlatten(t *testing.T) {
	attrs := openapi3.NewObjectSchema().WithAdditionalProperties(openapi3.NewStringSchema())
	in := map[string]any{
		"Attributes": map[string]any{"DelaySeconds": "5", "Policy": "p"},
		"Tags":       []any{map[string]any{"Key": "k", "Value": "v"}},
		"Config":     map[string]any{"Enabled": true},
	}
	for _, tc := range []struct {
		p    Protocol
		want url.Values
	}{
		{Protocol{version: "2012-11-05"}, url.Values{"Action": {"Op"}, "Version": {"2012-11-05"},
			"Attributes.entry.1.key": {"DelaySeconds"}, "Attributes.entry.1.value": {"5"}, "Attributes.entry.2.key": {"Policy"}, "Attributes.entry.2.value": {"p"},
			"Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}, "Config.Enabled": {"true"}}},
		{Protocol{ec2: true, version: "2016-11-15"}, url.Values{"Action": {"Op"}, "Version": {"2016-11-15"},
			"Attributes.entry.1.key": {"DelaySeconds"}, "Attributes.entry.1.value": {"5"}, "Attributes.entry.2.key": {"Policy"}, "Attributes.entry.2.value": {"p"},
			"Tags.1.Key": {"k"}, "Tags.1.Value": {"v"}, "Config.Enabled": {"true"}}},
	} {
		r := &protocol.Request{Method: "GET", Path: "/", Header: http.Header{},
			Params: []protocol.Param{{Name: "Action", In: "query", Value: "Op"}, {Name: "Attributes", In: "query", Value: in["Attributes"], Schema: attrs},
				{Name: "Tags", In: "query", Value: in["Tags"]}, {Name: "Config", In: "query", Value: in["Config"]}}}
		if err := tc.p.Prepare(r); err != nil {
			t.Fatal(err)
		}
		got, _ := url.ParseQuery(string(r.Body))
		if !reflect.DeepEqual(got, tc.want) || r.Method != "POST" || r.Header.Get("Content-Type") != ContentType {
			t.Errorf("%s: %s %v\nwant %v", tc.p.Name(), r.Method, got, tc.want)
		}
	}
}

func TestNoVersionIsAnError(t *testing.T) {
	r := &protocol.Request{Method: "POST", Path: "/", Header: http.Header{}, Params: []protocol.Param{{Name: "Action", In: "query", Value: "Op"}}}
	if err := (Protocol{}).Prepare(r); err == nil {
		t.Fatal("a call with no Version was prepared")
	}
}
