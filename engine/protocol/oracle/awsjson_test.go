package oracle

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/arazzo-go/arazzo/engine"
	emulator "github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

const seed = "../../../workflows/amazon-healthlake-export.arazzo.yaml"

func seedInputs(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../../examples/healthlake-export.inputs.json")
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	if err := json.Unmarshal(data, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

// The seed's three steps against the HealthLake client (awsJson1_0): the
// list step's MaxResults, which the workflow puts in the query as a
// string, goes in the body as the integer the SDK sends.
func TestSeedMatchesTheHealthLakeClient(t *testing.T) {
	emu := emulator.NewVerifying(emulator.Config{Region: region, Statuses: []string{"COMPLETED"},
		Credentials: map[string]emulator.Credential{accessKey: {Secret: secretKey}}})
	rec := &recorder{respond: func(w http.ResponseWriter, r *http.Request, _ []byte) { emu.ServeHTTP(w, r) }}
	url := serve(t, rec)
	in := seedInputs(t)
	res, events := runArazzo(t, seed, "start-export-poll-and-list", in, url)
	if res.Status != engine.Succeeded {
		t.Fatalf("%+v", res.Error)
	}
	ours := rec.all()
	rec.reqs = nil

	client := healthlake.New(healthlake.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1})
	ctx := context.Background()
	str := func(k string) *string { s := in[k].(string); return &s }
	if _, err := client.StartFHIRExportJob(ctx, &healthlake.StartFHIRExportJobInput{
		JobName: str("JobName"), DatastoreId: str("DatastoreId"), DataAccessRoleArn: str("DataAccessRoleArn"), ClientToken: str("ClientToken"),
		OutputDataConfig: &types.OutputDataConfigMemberS3Configuration{Value: types.S3Configuration{S3Uri: str("OutputS3Uri"), KmsKeyId: str("OutputKmsKeyId")}},
	}); err != nil {
		t.Fatal(err)
	}
	jobID := res.Outputs["jobId"].(string)
	if _, err := client.DescribeFHIRExportJob(ctx, &healthlake.DescribeFHIRExportJobInput{DatastoreId: str("DatastoreId"), JobId: &jobID}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListFHIRExportJobs(ctx, &healthlake.ListFHIRExportJobsInput{DatastoreId: str("DatastoreId"), MaxResults: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	sdk := rec.all()
	for _, op := range []string{"StartFHIRExportJob", "DescribeFHIRExportJob", "ListFHIRExportJobs"} {
		target := "HealthLake." + op
		sameWire(t, op, byHeader(t, ours, "X-Amz-Target", target), byHeader(t, sdk, "X-Amz-Target", target), jsonBody)
	}
	list := byHeader(t, ours, "X-Amz-Target", "HealthLake.ListFHIRExportJobs")
	if string(list.Body) != `{"DatastoreId":"`+in["DatastoreId"].(string)+`","MaxResults":10}` || len(list.Query) != 0 {
		t.Fatalf("the list step sends MaxResults in the body as an integer: %s ?%v", list.Body, list.Query)
	}
	if n := notices(events); !strings.Contains(n, "MaxResults (query) as 10") {
		t.Fatalf("a notice says MaxResults moved:\n%s", n)
	}
}
