package restxml

import (
	"net/http"
	"testing"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source"
)

func TestXMLErrorSummary(t *testing.T) {
	for _, tc := range []struct{ body, code, msg string }{
		{`<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b</BucketName></Error>`, "NoSuchBucket", "The specified bucket does not exist"},
		{`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>1 validation error</Message></Error></ErrorResponse>`, "ValidationError", "1 validation error"},
		{`<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>gone</Message></Error></Errors></Response>`, "InvalidInstanceID.NotFound", "gone"},
		{`not xml`, "", ""},
	} {
		code, msg := Protocol{}.ErrorSummary(http.Header{}, []byte(tc.body))
		if code != tc.code || msg != tc.msg {
			t.Errorf("%s: %q %q, want %q %q", tc.body, code, msg, tc.code, tc.msg)
		}
	}
}

// On an AWS host a DNS-compatible bucket moves into the host, as the SDKs
// address it; elsewhere, or for a bucket with dots, the path stays.
func TestVirtualHostedAddressing(t *testing.T) {
	for _, tc := range []struct{ server, bucket, path, wantServer, wantPath string }{
		{"https://s3.eu-west-1.amazonaws.com", "reports", "/reports/2026/a.csv?tagging", "https://reports.s3.eu-west-1.amazonaws.com", "/2026/a.csv?tagging"},
		{"https://s3.eu-west-1.amazonaws.com", "reports", "/reports?list-type=2", "https://reports.s3.eu-west-1.amazonaws.com", "/?list-type=2"},
		{"https://s3.eu-west-1.amazonaws.com", "my.dotted.bucket", "/my.dotted.bucket/k", "https://s3.eu-west-1.amazonaws.com", "/my.dotted.bucket/k"},
		{"http://127.0.0.1:9000", "reports", "/reports/k", "http://127.0.0.1:9000", "/reports/k"},
	} {
		r := &protocol.Request{Operation: &source.Operation{Path: "/{Bucket}/{Key+}"}, Server: tc.server, Path: tc.path, Header: http.Header{},
			Params: []protocol.Param{{Name: "Bucket", In: "path", Value: tc.bucket}}}
		if err := (Protocol{}).Prepare(r); err != nil {
			t.Fatal(err)
		}
		if r.Server != tc.wantServer || r.Path != tc.wantPath {
			t.Errorf("%s %s: %s %s, want %s %s", tc.server, tc.path, r.Server, r.Path, tc.wantServer, tc.wantPath)
		}
	}
}
