package oracle

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/arazzo-go/arazzo/engine"
)

// kinesisAnswers plays Kinesis by X-Amz-Target; a stream is CREATING on
// the first describe.
func kinesisAnswers() func(http.ResponseWriter, *http.Request, []byte) {
	var describes atomic.Int32
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch r.Header.Get("X-Amz-Target") {
		case "Kinesis_20131202.CreateStream":
			w.Write([]byte(`{}`))
		case "Kinesis_20131202.DescribeStreamSummary":
			status := "ACTIVE"
			if describes.Add(1) == 1 {
				status = "CREATING"
			}
			w.Write([]byte(`{"StreamDescriptionSummary":{"StreamName":"clicks","StreamARN":"arn:aws:kinesis:eu-west-1:210987654321:stream/clicks","StreamStatus":"` + status + `","OpenShardCount":2,"RetentionPeriodHours":24,"StreamCreationTimestamp":1.7e9,"EnhancedMonitoring":[]}}`))
		case "Kinesis_20131202.ListShards":
			w.Write([]byte(`{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"1"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}`))
		default:
			w.WriteHeader(400)
			w.Write([]byte(`{"__type":"UnknownOperationException"}`))
		}
	}
}

// A JSON-RPC service (awsJson1_1, inferred from x-aws-targetPrefix) whose
// description invents REST paths, against the Kinesis client: every call
// is POST / with X-Amz-Target, path and query members in the body, typed
// by their schemas, and the protocol's Content-Type.
func TestRESTShapedJSONRPCMatchesTheKinesisClient(t *testing.T) {
	rec := &recorder{respond: kinesisAnswers(), service: "kinesis"}
	url := serve(t, rec)
	in := map[string]any{"StreamName": "clicks", "ShardCount": 2, "PageSize": "5"}
	res, events := runArazzo(t, "testdata/amazon-kinesis-create-and-list-shards.arazzo.yaml", "create-wait-and-list", in, url)
	if res.Status != engine.Succeeded || res.Steps[1].Runs != 2 {
		t.Fatalf("%+v %+v\n%s", res.Error, res.Steps, notices(events))
	}
	ours := rec.all()
	rec.reqs = nil

	client := kinesis.New(kinesis.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1})
	ctx := context.Background()
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("clicks"), ShardCount: aws.Int32(2),
		StreamModeDetails: &kinesistypes.StreamModeDetails{StreamMode: kinesistypes.StreamModeProvisioned}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("clicks")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("clicks"), MaxResults: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	sdk := rec.all()
	for _, op := range []string{"CreateStream", "DescribeStreamSummary", "ListShards"} {
		target := "Kinesis_20131202." + op
		sameWire(t, op, byHeader(t, ours, "X-Amz-Target", target), byHeader(t, sdk, "X-Amz-Target", target), jsonBody)
	}
	n := notices(events)
	for _, want := range []string{"GET /streams/clicks/shards is sent as POST / with X-Amz-Target: Kinesis_20131202.ListShards",
		"X-Amz-Target: Kinesis_20131202.CreateStream is sent", "MaxResults (query) as 5"} {
		if !strings.Contains(n, want) {
			t.Errorf("no notice %q in:\n%s", want, n)
		}
	}
}
