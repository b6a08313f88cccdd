package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsquery"
	"github.com/arazzo-go/arazzo/engine/protocol/restxml"
	"github.com/arazzo-go/arazzo/engine/source/sourcetest"
)

const paths = "paths: {/: {post: {operationId: Op, x-aws-hostPrefix: runtime-, responses: {'200': {description: ok}}}}}\n"

// Every way the descriptions of the seed's family mark SigV4, and the
// signing name and region each yields; hosts are judged after their
// variables are expanded.
func TestDetectMarkings(t *testing.T) {
	for _, tc := range []struct {
		name, doc      string
		signed         bool
		service, regio string
	}{
		{"template host", "openapi: 3.0.3\ninfo: {title: p, version: '1'}\nservers: [{url: 'https://personalize.{region}.amazonaws.com', variables: {region: {default: eu-west-1}}}]\n" + paths, true, "personalize", "eu-west-1"},
		{"variable with no default", "openapi: 3.0.3\ninfo: {title: p, version: '1'}\nservers: [{url: 'https://forecast.{region}.amazonaws.com', variables: {region: {default: ''}}}]\n" + paths, true, "forecast", ""},
		{"global-looking host", "openapi: 3.0.3\ninfo: {title: e, version: '1'}\nservers: [{url: 'https://elasticfilesystem.amazonaws.com'}]\n" + paths, true, "elasticfilesystem", ""},
		{"fixed regional host", "openapi: 3.0.3\ninfo: {title: s, version: '1'}\nservers: [{url: 'https://sts.ap-south-1.amazonaws.com'}]\n" + paths, true, "sts", "ap-south-1"},
		{"China partition", "openapi: 3.0.3\ninfo: {title: s, version: '1'}\nservers: [{url: 'https://s3.cn-north-1.amazonaws.com.cn'}]\n" + paths, true, "s3", "cn-north-1"},
		{"apiKey Authorization described as SigV4", "openapi: 3.0.3\ninfo: {title: g, version: '1', x-aws-signingName: neptune-graph}\nservers: [{url: 'https://graph.example.test'}]\ncomponents: {securitySchemes: {hmac: {type: apiKey, name: Authorization, in: header, description: Amazon Signature Version 4 authorization}}}\n" + paths, true, "neptune-graph", ""},
		{"apigateway authtype", "openapi: 3.0.3\ninfo: {title: g, version: '1', x-aws-signingName: execute-api}\nservers: [{url: 'https://abc.example.test'}]\ncomponents: {securitySchemes: {sig: {type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4}}}\n" + paths, true, "execute-api", ""},
		{"a plain API key", "openapi: 3.0.3\ninfo: {title: k, version: '1'}\nservers: [{url: 'https://api.example.test'}]\ncomponents: {securitySchemes: {key: {type: apiKey, name: Authorization, in: header, description: a token}}}\n" + paths, false, "", ""},
		{"not AWS", "openapi: 3.0.3\ninfo: {title: k, version: '1'}\nservers: [{url: 'https://{host}.example.test', variables: {host: {default: api}}}]\n" + paths, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, ok := Detect(sourcetest.Load(t, tc.doc))
			if ok != tc.signed || sc.SigningName != tc.service || sc.DefaultRegion != tc.regio {
				t.Fatalf("Detect = %+v, %v; want signed %v, %q, %q", sc, ok, tc.signed, tc.service, tc.regio)
			}
		})
	}
}

// Endpoints go where AWS answers: https, the regional host of the
// region's partition, the operation's host prefix.
func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		server, region, want, note string
		prefix                     bool
	}{
		{"https://elasticfilesystem.amazonaws.com", "eu-west-1", "https://elasticfilesystem.eu-west-1.amazonaws.com", "instead of the global-looking elasticfilesystem.amazonaws.com", false},
		{"http://personalize.us-east-1.amazonaws.com", "us-east-1", "https://personalize.us-east-1.amazonaws.com", "https", false},
		{"https://medical-imaging.us-east-1.amazonaws.com", "us-east-1", "https://runtime-medical-imaging.us-east-1.amazonaws.com", "host prefix runtime-", true},
		{"https://runtime-medical-imaging.us-east-1.amazonaws.com", "us-east-1", "https://runtime-medical-imaging.us-east-1.amazonaws.com", "", true},
		{"https://s3.amazonaws.com", "cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn", "global-looking", false},
		{"https://sts.amazonaws.com", "us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com", "global-looking", false},
		{"https://ops-bucket.s3.amazonaws.com", "eu-west-1", "https://ops-bucket.s3.eu-west-1.amazonaws.com", "global-looking", false},
		{"https://sts.ap-south-1.amazonaws.com", "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "region eu-west-1 instead of the description's ap-south-1", false},
		{"https://sts.eu-west-1.amazonaws.com", "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "", false},
	} {
		doc := "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: '" + tc.server + "'}]\n"
		if tc.prefix {
			doc += paths
		} else {
			doc += "paths: {/: {post: {operationId: Op, responses: {'200': {description: ok}}}}}\n"
		}
		src := sourcetest.Load(t, doc)
		a := New(Config{Region: tc.region, Credentials: staticCreds("A", "B", "")})
		got, note := a.Endpoint(&engine.SourceRef{Name: "api", Source: src}, src.ByID("Op"), tc.server)
		if got != tc.want || !strings.Contains(note, tc.note) || (tc.note == "") != (note == "") {
			t.Errorf("%s in %s: %s (%q), want %s (%q)", tc.server, tc.region, got, note, tc.want, tc.note)
		}
	}
}

// Without credentials a request to an AWS source fails before it is sent.
func TestNoCredentialsSendsNothing(t *testing.T) {
	src := sourcetest.Load(t, "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: 'https://efs.{region}.amazonaws.com', variables: {region: {default: us-east-1}}}]\npaths: {}\n")
	sent := false
	next := engine.CallerFunc(func(*http.Request) (*http.Response, error) { sent = true; return nil, nil })
	c := New(Config{}).Wrap(&engine.SourceRef{Name: "efs", Source: src}, next)
	req, _ := http.NewRequest("GET", "https://efs.us-east-1.amazonaws.com/", nil)
	_, err := c.Do(req)
	if !errors.Is(err, ErrNoCredentials) || sent || !strings.Contains(err.Error(), "nothing was sent") {
		t.Fatalf("err %v, sent %v", err, sent)
	}
}

// S3 requests carry the payload's hash in x-amz-content-sha256, signed.
func TestS3PayloadHashHeader(t *testing.T) {
	var got *http.Request
	next := engine.CallerFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
	})
	s := &Signer{Credentials: staticCreds("AKID", "secret", ""), Region: "us-east-1", Service: "s3", Next: next}
	req, _ := http.NewRequestWithContext(context.Background(), "PUT", "https://s3.us-east-1.amazonaws.com/b?tagging", strings.NewReader("<Tagging/>"))
	if _, err := s.Do(req); err != nil {
		t.Fatal(err)
	}
	if h := got.Header.Get("X-Amz-Content-Sha256"); h != sha("<Tagging/>") ||
		!strings.Contains(got.Header.Get("Authorization"), "x-amz-content-sha256") {
		t.Fatalf("header %q, auth %q", h, got.Header.Get("Authorization"))
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Throttling in an XML protocol's error body is retried like AWS JSON's:
// the source's protocol reads the code (S3's SlowDown, the query
// protocols' Throttling).
func TestXMLThrottlingIsRetried(t *testing.T) {
	for _, tc := range []struct {
		p    protocol.Protocol
		body string
	}{
		{restxml.Protocol{}, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`},
		{awsquery.Protocol{}, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`},
	} {
		calls := 0
		next := engine.CallerFunc(func(r *http.Request) (*http.Response, error) {
			calls++
			if calls == 1 {
				return &http.Response{StatusCode: 503, Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(tc.body))}, nil
			}
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}, nil
		})
		s := &Signer{Credentials: staticCreds("AKID", "secret", ""), Region: "us-east-1", Service: "s3", Next: next, Protocol: tc.p,
			MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
		req, _ := http.NewRequestWithContext(context.Background(), "GET", "https://s3.us-east-1.amazonaws.com/b", nil)
		resp, err := s.Do(req)
		if err != nil || resp.StatusCode != 200 || calls != 2 {
			t.Fatalf("%s: %v %v after %d calls", tc.p.Name(), resp, err, calls)
		}
	}
}
