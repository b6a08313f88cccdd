package awsjson

import (
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source"
)

func TestErrorSummary(t *testing.T) {
	for _, tc := range []struct {
		header, body, code, msg string
	}{
		{"", `{"__type":"com.amazonaws.healthlake#ThrottlingException","message":"slow down"}`, "ThrottlingException", "slow down"},
		{"ValidationException:http://internal.amazon.com/", `{"Message":"bad"}`, "ValidationException", "bad"},
		{"", `{"code":"X","__type":"ResourceNotFoundException"}`, "ResourceNotFoundException", ""},
		{"", `not json`, "", ""},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("X-Amzn-ErrorType", tc.header)
		}
		code, msg := Protocol{version: "1.0"}.ErrorSummary(h, []byte(tc.body))
		if code != tc.code || msg != tc.msg {
			t.Errorf("ErrorSummary(%q, %s) = %q, %q; want %q, %q", tc.header, tc.body, code, msg, tc.code, tc.msg)
		}
	}
}

func TestPrepareSetsTheProtocolContentType(t *testing.T) {
	r := &protocol.Request{Header: http.Header{"X-Amz-Target": {"S.Op"}}, Method: "POST", Path: "/", ContentType: "application/json"}
	r.SetBody([]byte(`{}`))
	if err := (Protocol{version: "1.1"}).Prepare(r); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" || r.ContentType != got || len(r.Notices) != 1 {
		t.Fatalf("Content-Type %q, request %q, notices %q", got, r.ContentType, r.Notices)
	}
	r = &protocol.Request{Header: http.Header{"X-Amz-Target": {"S.Op"}}, Method: "POST", Path: "/", ContentType: "application/x-amz-json-1.1; charset=utf-8"}
	r.SetBody([]byte(`{}`))
	_ = (Protocol{version: "1.1"}).Prepare(r)
	if len(r.Notices) != 0 {
		t.Fatalf("a matching media type got a notice: %q", r.Notices)
	}
}

func op(t *testing.T, method, path, id string, body *openapi3.Schema) *source.Operation {
	t.Helper()
	o := &openapi3.Operation{OperationID: id}
	if body != nil {
		o.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithJSONSchema(body)}
	}
	return &source.Operation{ID: id, Method: method, Path: path, Op: o}
}

// Members the workflow put in the query or the path go into the body,
// typed by the input's schema; a REST-shaped operation becomes POST /
// with an inferred X-Amz-Target; a wrapper member is dropped.
func TestPrepareMovesMembersIntoTheBody(t *testing.T) {
	input := openapi3.NewObjectSchema().
		WithProperty("StreamName", openapi3.NewStringSchema()).
		WithProperty("MaxResults", openapi3.NewIntegerSchema()).
		WithProperty("Enabled", openapi3.NewBoolSchema())
	r := &protocol.Request{Operation: op(t, "GET", "/streams/{StreamName}", "ListShards", input), Method: "GET", Path: "/streams/clicks",
		Query: []string{"MaxResults=5", "Enabled=true"}, Header: http.Header{},
		Params: []protocol.Param{{Name: "StreamName", In: "path", Value: "clicks"}, {Name: "MaxResults", In: "query", Value: "5"}, {Name: "Enabled", In: "query", Value: "true"}}}
	if err := New("1.1", "Kinesis_20131202").Prepare(r); err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.Path != "/" || len(r.Query) != 0 || string(r.Body) != `{"Enabled":true,"MaxResults":5,"StreamName":"clicks"}` ||
		r.Header.Get("X-Amz-Target") != "Kinesis_20131202.ListShards" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("%s %s ?%v %s %v", r.Method, r.Path, r.Query, r.Body, r.Header)
	}

	r = &protocol.Request{Operation: op(t, "POST", "/", "Describe", input), Method: "POST", Path: "/", Header: http.Header{"X-Amz-Target": {"S.Describe"}}}
	r.SetBody([]byte(`{"Request":{"StreamName":"clicks","MaxResults":2}}`))
	if err := New("1.0", "").Prepare(r); err != nil {
		t.Fatal(err)
	}
	if string(r.Body) != `{"MaxResults":2,"StreamName":"clicks"}` || !strings.Contains(strings.Join(r.Notices, "\n"), "only member Request") {
		t.Fatalf("unwrapped: %s %q", r.Body, r.Notices)
	}

	r = &protocol.Request{Operation: op(t, "POST", "/", "Describe", nil), Method: "POST", Path: "/", Header: http.Header{}}
	r.SetBody([]byte(`[1]`))
	if err := New("1.0", "S").Prepare(r); err == nil || !strings.Contains(err.Error(), "must be a JSON object") {
		t.Fatalf("an array body: %v", err)
	}
	r = &protocol.Request{Operation: op(t, "POST", "/", "", nil), Method: "POST", Path: "/", Header: http.Header{}}
	if err := New("1.0", "").Prepare(r); err == nil || !strings.Contains(err.Error(), "X-Amz-Target") {
		t.Fatalf("no target: %v", err)
	}
}

func TestLintParam(t *testing.T) {
	input := openapi3.NewObjectSchema().WithProperty("MaxResults", openapi3.NewIntegerSchema())
	rpc := op(t, "POST", "/", "List", input)
	p := New("1.0", "S")
	if msg := p.LintParam(rpc, "MaxResults", "query"); !strings.Contains(msg, "as the integer its schema declares") {
		t.Errorf("member: %q", msg)
	}
	if msg := p.LintParam(rpc, "X-Amz-Target", "header"); msg != "" {
		t.Errorf("the target header: %q", msg)
	}
	if msg := p.LintParam(rpc, "Other", "query"); msg != "" {
		t.Errorf("not a member of an RPC-shaped operation: %q", msg)
	}
	if msg := p.LintParam(op(t, "GET", "/things/{Id}", "Get", nil), "Id", "path"); !strings.Contains(msg, "is sent as POST /") {
		t.Errorf("REST-shaped: %q", msg)
	}
}
