package awsjson

import (
	"net/http"
	"testing"

	"github.com/arazzo-go/arazzo/engine/protocol"
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
