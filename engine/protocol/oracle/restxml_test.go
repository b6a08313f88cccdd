package oracle

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/arazzo-go/arazzo/engine"
)

// s3Answers plays S3 for the three operations of the S3 workflow.
func s3Answers(w http.ResponseWriter, r *http.Request, _ []byte) {
	w.Header().Set("Content-Type", "application/xml")
	switch {
	case r.Method == "PUT" && r.URL.Query().Has("tagging"):
		w.WriteHeader(204)
	case r.URL.Query().Get("list-type") == "2":
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>quarterly-reports</Name><KeyCount>2</KeyCount><IsTruncated>false</IsTruncated>
<Contents><Key>2026/q3 summary.csv</Key><Size>1024</Size></Contents><Contents><Key>2026/q4.csv</Key><Size>2048</Size></Contents></ListBucketResult>`))
	case r.URL.Query().Has("tagging"):
		w.Write([]byte(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>owner</Key><Value>finance</Value></Tag></TagSet></Tagging>`))
	default:
		w.WriteHeader(404)
		w.Write([]byte(`<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`))
	}
}

// restXml against the S3 client: an XML body built from an object payload
// (root element and namespace from the schema), x-amz-content-sha256,
// a list-type member the path key already carries sent once, a key read
// from the XML listing with a JSON Pointer, and a greedy {Key+} label.
func TestS3MatchesTheS3Client(t *testing.T) {
	rec := &recorder{respond: s3Answers, service: "s3"}
	url := serve(t, rec)
	in := map[string]any{"Bucket": "quarterly-reports", "Prefix": "2026/", "MaxKeys": "2", "Team": "finance"}
	res, events := runArazzo(t, "testdata/amazon-s3-tag-latest.arazzo.yaml", "tag-bucket-and-read-first-object", in, url)
	if res.Status != engine.Succeeded {
		t.Fatalf("%+v\n%s", res.Error, notices(events))
	}
	if res.Outputs["firstKey"] != "2026/q3 summary.csv" || res.Outputs["firstTag"] != "owner" {
		t.Fatalf("outputs read from XML: %v", res.Outputs)
	}
	ours := rec.all()
	rec.reqs = nil

	client := s3.New(s3.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), UsePathStyle: true, RetryMaxAttempts: 1})
	ctx := context.Background()
	bucket := aws.String("quarterly-reports")
	if _, err := client.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
		{Key: aws.String("team"), Value: aws.String("finance")}, {Key: aws.String("purpose"), Value: aws.String("reports")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("2026/"), MaxKeys: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: bucket, Key: aws.String("2026/q3 summary.csv")}); err != nil {
		t.Fatal(err)
	}
	sdk := rec.all()
	if len(ours) != 3 || len(sdk) != 3 {
		t.Fatalf("%d and %d requests", len(ours), len(sdk))
	}
	for i, what := range []string{"PutBucketTagging", "ListObjectsV2", "GetObjectTagging"} {
		kind := jsonBody
		if i == 0 {
			kind = xmlBody
		}
		sameWire(t, what, ours[i], sdk[i], kind)
	}
	// S3 requires an integrity header on PutBucketTagging: the SDK sends a
	// CRC32 checksum, arazzo the MD5 of the same bytes.
	sum := md5.Sum(ours[0].Body)
	if ours[0].Header.Get("Content-MD5") != base64.StdEncoding.EncodeToString(sum[:]) || sdk[0].Header.Get("X-Amz-Checksum-Crc32") == "" {
		t.Fatalf("integrity headers: ours %q, SDK %v", ours[0].Header.Get("Content-MD5"), sdk[0].Header)
	}
	if q := ours[1].Query["list-type"]; len(q) != 1 {
		t.Fatalf("list-type is sent once: %v", q)
	}
	if !strings.Contains(string(ours[0].Body), `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag>`) {
		t.Fatalf("the XML body: %s", ours[0].Body)
	}
}
