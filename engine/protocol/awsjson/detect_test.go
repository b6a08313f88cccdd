package awsjson

import (
	"testing"

	"github.com/arazzo-go/arazzo/engine/source/sourcetest"
)

// The protocol is declared, or read from the description's shape.
func TestDetect(t *testing.T) {
	const head = "openapi: 3.0.3\ninfo: {title: t, version: '1'"
	for _, tc := range []struct{ name, doc, want string }{
		{"declared", head + ", x-aws-protocol: awsJson1_0}\npaths: {}\n", "awsJson1_0"},
		{"another protocol declared", head + ", x-aws-protocol: restJson1, x-aws-targetPrefix: X}\npaths: {}\n", ""},
		{"target header parameter", head + "}\npaths: {/: {post: {operationId: Op, parameters: [{name: X-Amz-Target, in: header, schema: {type: string, enum: [AmazonPersonalize.Op]}}], responses: {'200': {description: ok}}}}}\n", "awsJson1_1"},
		{"path key", head + "}\npaths: {'/#X-Amz-Target=Svc.Op': {post: {operationId: Op, responses: {'200': {description: ok}}}}}\n", "awsJson1_1"},
		{"media type", head + "}\npaths: {/: {post: {operationId: Op, requestBody: {content: {application/x-amz-json-1.0: {schema: {type: object}}}}, responses: {'200': {description: ok}}}}}\n", "awsJson1_0"},
		{"target prefix", head + ", x-aws-targetPrefix: AmazonForecast}\npaths: {/datasets: {post: {operationId: CreateDataset, responses: {'200': {description: ok}}}}}\n", "awsJson1_1"},
		{"plain JSON API", head + "}\npaths: {/items: {post: {operationId: Op, requestBody: {content: {application/json: {schema: {type: object}}}}, responses: {'200': {description: ok}}}}}\n", ""},
	} {
		p := Detect(sourcetest.Load(t, tc.doc))
		got := ""
		if p != nil {
			got = p.Name()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
