package restjson

import (
	"net/http"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source/sourcetest"
)

const efsLike = `openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://elasticfilesystem.{region}.amazonaws.com', variables: {region: {default: us-east-1}}}]
paths:
  /2015-02-01/file-systems/{FileSystemId}/lifecycle-configuration:
    put:
      operationId: PutLifecycleConfiguration
      parameters: [{name: FileSystemId, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {LifecyclePolicies: {type: array, items: {type: object}}}}
      responses: {'200': {description: ok}}
`

func TestDetectAndPrepare(t *testing.T) {
	src := sourcetest.Load(t, efsLike)
	if p := Detect(src); p == nil {
		t.Fatal("an AWS description with JSON bodies is restJson1")
	}
	if p := Detect(sourcetest.Load(t, strings.Replace(efsLike, "amazonaws.com", "example.test", 1))); p != nil {
		t.Fatal("a plain API is not restJson1")
	}
	if p := Detect(sourcetest.Load(t, strings.Replace(efsLike, "application/json", "application/xml", 1))); p != nil {
		t.Fatal("XML bodies are restXml's")
	}
	r := &protocol.Request{Operation: src.ByID("PutLifecycleConfiguration"), Header: http.Header{}, ContentType: "text/plain"}
	r.SetBody([]byte(`{"LifecycleConfiguration":{"LifecyclePolicies":[{"TransitionToIA":"AFTER_7_DAYS"}]}}`))
	if err := (Protocol{}).Prepare(r); err != nil {
		t.Fatal(err)
	}
	if string(r.Body) != `{"LifecyclePolicies":[{"TransitionToIA":"AFTER_7_DAYS"}]}` || r.Header.Get("Content-Type") != "application/json" || len(r.Notices) != 2 {
		t.Fatalf("%s %v %q", r.Body, r.Header, r.Notices)
	}
	code, msg := Protocol{}.ErrorSummary(http.Header{"X-Amzn-Errortype": {"FileSystemNotFound:http://internal/"}}, []byte(`{"ErrorCode":"FileSystemNotFound","Message":"no such file system"}`))
	if code != "FileSystemNotFound" || msg != "no such file system" {
		t.Fatalf("%q %q", code, msg)
	}
}
