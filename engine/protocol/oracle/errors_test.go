package oracle

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/arazzo-go/arazzo/engine"
)

// step error says `status 400: <Code>: <Message>` with the code the SDK's
// step error says `status 400 (<Code>: <Message>)` with the code the SDK's
// APIError gives.
func TestErrorBodiesOfEveryProtocol(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, file, workflow string
		inputs               map[string]any
		contentType, body    string
		header               http.Header
		sdk                  func(url string) error
	}{
		{"awsJson1_1", "testdata/amazon-kinesis-create-and-list-shards.arazzo.yaml", "create-wait-and-list", map[string]any{"StreamName": "s", "ShardCount": 1},
			"application/x-amz-json-1.1", `{"__type":"com.amazonaws.kinesis#ValidationException","message":"ShardCount is out of range"}`, nil,
			func(url string) error {
				_, err := kinesis.New(kinesis.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}).
					CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
				return err
			}},
		{"restJson1", "testdata/amazon-efs-create-and-tier.arazzo.yaml", "create-poll-and-tier", map[string]any{"CreationToken": "t", "TransitionToIA": "AFTER_1_DAY"},
			"application/json", `{"ErrorCode":"ValidationException","message":"ShardCount is out of range"}`, http.Header{"X-Amzn-Errortype": {"ValidationException:http://internal.amazon.com/coral/"}},
			func(url string) error {
				_, err := efs.New(efs.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}).
					CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("t")})
				return err
			}},
		{"restXml", "testdata/amazon-s3-tag-latest.arazzo.yaml", "tag-bucket-and-read-first-object", map[string]any{"Bucket": "b-b-b", "Prefix": "p", "Team": "x"},
			"application/xml", `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ValidationException</Code><Message>ShardCount is out of range</Message><RequestId>r</RequestId></Error>`, nil,
			func(url string) error {
				_, err := s3.New(s3.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), UsePathStyle: true, RetryMaxAttempts: 1}).
					PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("b-b-b"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{}}})
				return err
			}},
		{"awsQuery", "testdata/aws-sts-assume-own-role.arazzo.yaml", "assume-role-in-own-account", map[string]any{"RoleName": "r", "SessionName": "s"},
			"text/xml", `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ValidationException</Code><Message>ShardCount is out of range</Message></Error><RequestId>r</RequestId></ErrorResponse>`, nil,
			func(url string) error {
				_, err := sts.New(sts.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}).
					GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := serve(t, &recorder{respond: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(400)
				w.Write([]byte(tc.body))
			}})
			res, _ := runArazzo(t, tc.file, tc.workflow, tc.inputs, url)
			if res.Status != engine.Failed || !strings.Contains(fmt.Sprint(res.Error), "status 400: ValidationException: ShardCount is out of range;") {
				t.Fatalf("arazzo: %v %+v", res.Status, res.Error)
			}
			var ae smithy.APIError
			if err := tc.sdk(url); !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != "ShardCount is out of range" {
				t.Fatalf("the SDK reads %v", err)
			}
		})
	}
}
