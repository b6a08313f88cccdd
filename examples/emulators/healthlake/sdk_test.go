package healthlake_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/aws/smithy-go"

	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

func testCreds() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: healthlake.TestAccessKeyID, SecretAccessKey: healthlake.TestSecretAccessKey}, nil
	})
}

// The official Go SDK drives a whole export: it leaves ClientToken to
// fill in itself, polls until COMPLETED, lists with MaxResults in the
// body, and reads an error the emulator answers.
func TestGoSDKDrivesAWholeExport(t *testing.T) {
	srv := httptest.NewServer(healthlake.NewVerifying(healthlake.Config{PollsToComplete: 3}))
	defer srv.Close()
	c := sdk.New(sdk.Options{Region: "us-east-1", Credentials: testCreds(), BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	ctx := context.Background()
	ds := aws.String(healthlake.DefaultDatastoreID)
	for i := range 2 {
		start, err := c.StartFHIRExportJob(ctx, &sdk.StartFHIRExportJobInput{DatastoreId: ds, JobName: aws.String("sdk-export"),
			DataAccessRoleArn: aws.String("arn:aws:iam::123456789012:role/Export"),
			OutputDataConfig:  &types.OutputDataConfigMemberS3Configuration{Value: types.S3Configuration{S3Uri: aws.String("s3://bucket-name/out/"), KmsKeyId: aws.String("alias/export")}}})
		if err != nil {
			t.Fatal(err)
		}
		var status types.JobStatus
		for n := 0; status != types.JobStatusCompleted; n++ {
			d, err := c.DescribeFHIRExportJob(ctx, &sdk.DescribeFHIRExportJobInput{DatastoreId: ds, JobId: start.JobId})
			if err != nil || n > 5 {
				t.Fatalf("job %d: %v after %d polls", i, err, n)
			}
			status = d.ExportJobProperties.JobStatus
		}
	}
	list, err := c.ListFHIRExportJobs(ctx, &sdk.ListFHIRExportJobsInput{DatastoreId: ds, MaxResults: aws.Int32(1)})
	if err != nil || len(list.ExportJobPropertiesList) != 1 || list.NextToken == nil {
		t.Fatalf("MaxResults 1 of 2 jobs: %v %+v", err, list)
	}
	_, err = c.ListFHIRExportJobs(ctx, &sdk.ListFHIRExportJobsInput{DatastoreId: ds, JobStatus: types.JobStatus("BOGUS")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("the SDK reads the emulator's error: %v", err)
	}
}

// boto3 (botocore's own SigV4, which signs a different header list from
// the Go SDK's) drives a whole export. CI installs python3-boto3; the
// test is skipped only where it is absent.
func TestBoto3DrivesAWholeExport(t *testing.T) {
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import boto3").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("python3-boto3 is not installed")
	}
	srv := httptest.NewServer(healthlake.NewVerifying(healthlake.Config{PollsToComplete: 3}))
	defer srv.Close()
	script := `
import sys, boto3, botocore.config
c = boto3.client("healthlake", endpoint_url=sys.argv[1], region_name="us-east-1",
    config=botocore.config.Config(retries={"max_attempts": 1}))
ds = sys.argv[2]
job = c.start_fhir_export_job(DatastoreId=ds, JobName="boto3-export",
    DataAccessRoleArn="arn:aws:iam::123456789012:role/Export",
    OutputDataConfig={"S3Configuration": {"S3Uri": "s3://bucket-name/out/", "KmsKeyId": "alias/export"}})
status, polls = None, 0
while status != "COMPLETED":
    polls += 1
    status = c.describe_fhir_export_job(DatastoreId=ds, JobId=job["JobId"])["ExportJobProperties"]["JobStatus"]
    assert polls < 6, status
jobs = c.list_fhir_export_jobs(DatastoreId=ds, MaxResults=10)["ExportJobPropertiesList"]
assert [j["JobId"] for j in jobs] == [job["JobId"]], jobs
try:
    c.list_fhir_export_jobs(DatastoreId=ds, JobStatus="BOGUS")
    raise SystemExit("BOGUS was accepted")
except c.exceptions.ValidationException as e:
    pass
print("ok", polls)
`
	cmd := exec.Command(python, "-c", script, srv.URL, healthlake.DefaultDatastoreID)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+healthlake.TestAccessKeyID, "AWS_SECRET_ACCESS_KEY="+healthlake.TestSecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok 3") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
