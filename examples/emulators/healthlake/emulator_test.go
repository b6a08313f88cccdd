package healthlake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type client struct {
	t      *testing.T
	url    string
	creds  aws.Credentials
	region string
	at     func() time.Time
	// tamper changes the request after signing.
	tamper func(*http.Request)
}

func newClient(t *testing.T, s *Server) *client {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, creds: aws.Credentials{AccessKeyID: TestAccessKeyID, SecretAccessKey: TestSecretAccessKey}, region: "us-east-1", at: time.Now}
}

func (c *client) call(op string, in any) (int, map[string]any, http.Header) {
	c.t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", c.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "HealthLake."+op)
	sum := sha256.Sum256(body)
	if c.creds.AccessKeyID != "" {
		if err := v4.NewSigner().SignHTTP(context.Background(), c.creds, req, hex.EncodeToString(sum[:]), SigningName, c.region, c.at()); err != nil {
			c.t.Fatal(err)
		}
	}
	if c.tamper != nil {
		c.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out, resp.Header
}

func wantError(t *testing.T, status int, out map[string]any, h http.Header, code int, typ string) {
	t.Helper()
	if status != code || !strings.HasSuffix(out["__type"].(string), "#"+typ) || h.Get("X-Amzn-ErrorType") != typ || out["message"] == "" {
		t.Fatalf("got %d %v, want %d %s", status, out, code, typ)
	}
}

const role = "arn:aws:iam::123456789012:role/HealthLakeExport"

func exportInput(token string) map[string]any {
	return map[string]any{
		"DatastoreId": DefaultDatastoreID, "ClientToken": token, "DataAccessRoleArn": role, "JobName": "j",
		"OutputDataConfig": map[string]any{"S3Configuration": map[string]any{"S3Uri": "s3://bucket/prefix", "KmsKeyId": "key/abc"}},
	}
}

func TestExportJobLifecycle(t *testing.T) {
	c := newClient(t, NewVerifying(Config{PollsToComplete: 4}))
	st, out, _ := c.call("StartFHIRExportJob", exportInput("t1"))
	if st != 200 || out["JobStatus"] != "SUBMITTED" {
		t.Fatalf("start: %d %v", st, out)
	}
	id := out["JobId"].(string)
	var seen []string
	for i := 0; i < 4; i++ {
		_, d, _ := c.call("DescribeFHIRExportJob", map[string]any{"DatastoreId": DefaultDatastoreID, "JobId": id})
		seen = append(seen, d["ExportJobProperties"].(map[string]any)["JobStatus"].(string))
	}
	if strings.Join(seen, ",") != "SUBMITTED,IN_PROGRESS,IN_PROGRESS,COMPLETED" {
		t.Fatalf("statuses %v", seen)
	}
	_, again, _ := c.call("StartFHIRExportJob", exportInput("t1"))
	if again["JobId"] != id || again["JobStatus"] != "COMPLETED" {
		t.Fatalf("the same ClientToken returns the same job: %v", again)
	}
	for i := 2; i <= 3; i++ {
		c.call("StartFHIRExportJob", exportInput("t"+string(rune('0'+i))))
	}
	_, page1, _ := c.call("ListFHIRExportJobs", map[string]any{"DatastoreId": DefaultDatastoreID, "MaxResults": 2})
	_, page2, _ := c.call("ListFHIRExportJobs", map[string]any{"DatastoreId": DefaultDatastoreID, "MaxResults": 2, "NextToken": page1["NextToken"]})
	if len(page1["ExportJobPropertiesList"].([]any)) != 2 || len(page2["ExportJobPropertiesList"].([]any)) != 1 || page2["NextToken"] != nil {
		t.Fatalf("paging: %v / %v", page1, page2)
	}
}

func TestFinalStatusAndTimeBasedJobs(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	c := newClient(t, NewVerifying(Config{JobDuration: time.Minute, FinalStatus: "FAILED", Now: clock}))
	c.at = clock
	_, out, _ := c.call("StartFHIRExportJob", exportInput("t1"))
	describe := func() map[string]any {
		_, d, _ := c.call("DescribeFHIRExportJob", map[string]any{"DatastoreId": DefaultDatastoreID, "JobId": out["JobId"]})
		return d["ExportJobProperties"].(map[string]any)
	}
	if describe()["JobStatus"] != "SUBMITTED" {
		t.Fatal("a new job is SUBMITTED")
	}
	now = now.Add(61 * time.Second)
	c.at = func() time.Time { return now }
	if p := describe(); p["JobStatus"] != "FAILED" || p["Message"] == nil {
		t.Fatalf("after JobDuration the job has its final status: %v", p)
	}
}

func TestInputChecks(t *testing.T) {
	c := newClient(t, NewVerifying(Config{}))
	bad := exportInput("t1")
	bad["OutputDataConfig"] = map[string]any{"S3Configuration": map[string]any{"S3Uri": "http://not-s3", "KmsKeyId": "k"}}
	st, out, h := c.call("StartFHIRExportJob", bad)
	wantError(t, st, out, h, 400, "ValidationException")
	missing := exportInput("t1")
	delete(missing, "DataAccessRoleArn")
	st, out, h = c.call("StartFHIRExportJob", missing)
	wantError(t, st, out, h, 400, "ValidationException")
	if !strings.Contains(out["message"].(string), "dataAccessRoleArn") {
		t.Fatalf("the message names the member: %v", out)
	}
	noToken := exportInput("t1")
	delete(noToken, "ClientToken")
	if st, out, _ = c.call("StartFHIRExportJob", noToken); st != 200 {
		t.Fatalf("ClientToken is an optional idempotency token in the model: %d %v", st, out)
	}
	st, out, h = c.call("ListFHIRExportJobs", map[string]any{"DatastoreId": DefaultDatastoreID, "JobStatus": "BOGUS"})
	wantError(t, st, out, h, 400, "ValidationException")
	if !strings.Contains(out["message"].(string), "enum value set") {
		t.Fatalf("an unknown JobStatus names the enum: %v", out)
	}
	badRole := exportInput("t9")
	badRole["DataAccessRoleArn"] = "arn:aws:iam::12345:role/short-account"
	st, out, h = c.call("StartFHIRExportJob", badRole)
	wantError(t, st, out, h, 400, "ValidationException")
	long := exportInput(strings.Repeat("a", 65))
	st, out, h = c.call("StartFHIRExportJob", long)
	wantError(t, st, out, h, 400, "ValidationException")
	st, out, h = c.call("DescribeFHIRExportJob", map[string]any{"DatastoreId": DefaultDatastoreID, "JobId": "nope"})
	wantError(t, st, out, h, 404, "ResourceNotFoundException")
	st, out, h = c.call("DescribeFHIRDatastore", map[string]any{"DatastoreId": "0000"})
	wantError(t, st, out, h, 404, "ResourceNotFoundException")
	st, out, h = c.call("FlyToTheMoon", map[string]any{})
	wantError(t, st, out, h, 400, "UnknownOperationException")
	st, out, h = c.call("ListFHIRExportJobs", map[string]any{"DatastoreId": DefaultDatastoreID, "MaxResults": 900})
	wantError(t, st, out, h, 400, "ValidationException")
}

func TestDatastores(t *testing.T) {
	c := newClient(t, NewVerifying(Config{}))
	st, out, _ := c.call("CreateFHIRDatastore", map[string]any{"DatastoreTypeVersion": "R4", "DatastoreName": "two"})
	if st != 200 {
		t.Fatalf("create: %d %v", st, out)
	}
	_, list, _ := c.call("ListFHIRDatastores", map[string]any{})
	if n := len(list["DatastorePropertiesList"].([]any)); n != 2 {
		t.Fatalf("two data stores, got %d", n)
	}
	c.call("DeleteFHIRDatastore", map[string]any{"DatastoreId": out["DatastoreId"]})
	st, d, h := c.call("DescribeFHIRDatastore", map[string]any{"DatastoreId": out["DatastoreId"]})
	wantError(t, st, d, h, 404, "ResourceNotFoundException")
	st, d, h = c.call("CreateFHIRDatastore", map[string]any{"DatastoreTypeVersion": "R5"})
	wantError(t, st, d, h, 400, "ValidationException")
}

func TestSignatureVerification(t *testing.T) {
	s := NewVerifying(Config{})
	in := map[string]any{"DatastoreId": DefaultDatastoreID}
	c := newClient(t, s)
	if st, out, _ := c.call("DescribeFHIRDatastore", in); st != 200 {
		t.Fatalf("a good signature passes: %d %v", st, out)
	}
	c.creds = aws.Credentials{}
	st, out, h := c.call("DescribeFHIRDatastore", in)
	wantError(t, st, out, h, 403, "MissingAuthenticationTokenException")

	c = newClient(t, s)
	c.creds.AccessKeyID = "AKIAUNKNOWN"
	st, out, h = c.call("DescribeFHIRDatastore", in)
	wantError(t, st, out, h, 403, "UnrecognizedClientException")

	c = newClient(t, s)
	c.creds.SecretAccessKey = "wrong"
	st, out, h = c.call("DescribeFHIRDatastore", in)
	wantError(t, st, out, h, 403, "InvalidSignatureException")

	c = newClient(t, s)
	c.at = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	st, out, h = c.call("DescribeFHIRDatastore", in)
	wantError(t, st, out, h, 403, "InvalidSignatureException")
	if !strings.Contains(out["message"].(string), "Signature expired") {
		t.Fatalf("stale: %v", out)
	}

	c = newClient(t, s)
	c.tamper = func(r *http.Request) { r.Header.Set("X-Amz-Target", "HealthLake.ListFHIRDatastores") }
	st, out, h = c.call("DescribeFHIRDatastore", in)
	wantError(t, st, out, h, 403, "InvalidSignatureException")

	c = newClient(t, s)
	c.tamper = func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(`{"DatastoreId":"other"}`))
		r.ContentLength = int64(len(`{"DatastoreId":"other"}`))
	}
	st, out, h = c.call("DescribeFHIRDatastore", in)
	wantError(t, st, out, h, 403, "InvalidSignatureException")

	c = newClient(t, s)
	c.region = "eu-west-1"
	st, out, h = c.call("DescribeFHIRDatastore", in)
	wantError(t, st, out, h, 403, "InvalidSignatureException")
}

func TestSessionTokenRequired(t *testing.T) {
	s := NewVerifying(Config{Credentials: map[string]Credential{"ASIATEMP": {Secret: "s", SessionToken: "tok"}}})
	c := newClient(t, s)
	c.creds = aws.Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: "s"}
	st, out, h := c.call("ListFHIRDatastores", map[string]any{})
	wantError(t, st, out, h, 403, "UnrecognizedClientException")
	c.creds.SessionToken = "tok"
	if st, out, _ := c.call("ListFHIRDatastores", map[string]any{}); st != 200 {
		t.Fatalf("with its session token: %d %v", st, out)
	}
}

func TestThrottling(t *testing.T) {
	now := time.Now()
	c := newClient(t, NewVerifying(Config{ThrottleLimit: 2, Now: func() time.Time { return now }}))
	c.at = func() time.Time { return now }
	for i := 0; i < 2; i++ {
		if st, _, _ := c.call("ListFHIRDatastores", map[string]any{}); st != 200 {
			t.Fatal("within the limit")
		}
	}
	st, out, h := c.call("ListFHIRDatastores", map[string]any{})
	wantError(t, st, out, h, 429, "ThrottlingException")
	now = now.Add(time.Second)
	if st, _, _ := c.call("ListFHIRDatastores", map[string]any{}); st != 200 {
		t.Fatal("a new window admits requests again")
	}
}

// The body is the whole input, as on AWS: MaxResults in the query string
// is not read.
func TestQueryStringIsIgnored(t *testing.T) {
	c := newClient(t, NewVerifying(Config{}))
	for i := range 3 {
		c.call("StartFHIRExportJob", exportInput("q"+string(rune('0'+i))))
	}
	c.url += "/?MaxResults=1"
	_, out, _ := c.call("ListFHIRExportJobs", map[string]any{"DatastoreId": DefaultDatastoreID})
	if n := len(out["ExportJobPropertiesList"].([]any)); n != 3 {
		t.Fatalf("a query MaxResults changed the page: %d jobs", n)
	}
}

// Every JobStatus of the model can be produced.
func TestEveryJobStatus(t *testing.T) {
	path := []string{"QUEUED", "SUBMITTED", "IN_PROGRESS", "CANCEL_SUBMITTED", "CANCEL_IN_PROGRESS", "CANCEL_COMPLETED"}
	c := newClient(t, NewVerifying(Config{Statuses: path}))
	_, out, _ := c.call("StartFHIRExportJob", exportInput("s1"))
	for _, want := range append(path, "CANCEL_COMPLETED") {
		_, d, _ := c.call("DescribeFHIRExportJob", map[string]any{"DatastoreId": DefaultDatastoreID, "JobId": out["JobId"]})
		if got := d["ExportJobProperties"].(map[string]any)["JobStatus"]; got != want {
			t.Fatalf("status %v, want %s", got, want)
		}
	}
	for _, st := range JobStatuses {
		if err := (Config{FinalStatus: st}).Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if err := (Config{Statuses: []string{"BOGUS"}}).Validate(); err == nil || !strings.Contains(err.Error(), "CANCEL_FAILED") {
		t.Fatalf("an unknown status is refused naming the model's: %v", err)
	}
}

func TestFiltersAndTags(t *testing.T) {
	c := newClient(t, NewVerifying(Config{}))
	_, created, _ := c.call("CreateFHIRDatastore", map[string]any{"DatastoreTypeVersion": "R4", "DatastoreName": "second"})
	_, list, _ := c.call("ListFHIRDatastores", map[string]any{"Filter": map[string]any{"DatastoreName": "second"}})
	if l := list["DatastorePropertiesList"].([]any); len(l) != 1 || l[0].(map[string]any)["DatastoreId"] != created["DatastoreId"] {
		t.Fatalf("Filter.DatastoreName: %v", list)
	}
	st, out, h := c.call("ListFHIRDatastores", map[string]any{"Filter": map[string]any{"DatastoreStatus": "SLEEPING"}})
	wantError(t, st, out, h, 400, "ValidationException")
	c.call("StartFHIRExportJob", exportInput("f1"))
	future := float64(time.Now().Add(time.Hour).Unix())
	_, jobs, _ := c.call("ListFHIRExportJobs", map[string]any{"DatastoreId": DefaultDatastoreID, "SubmittedAfter": future})
	if n := len(jobs["ExportJobPropertiesList"].([]any)); n != 0 {
		t.Fatalf("SubmittedAfter in the future: %d jobs", n)
	}
	_, jobs, _ = c.call("ListFHIRExportJobs", map[string]any{"DatastoreId": DefaultDatastoreID, "SubmittedBefore": future})
	if n := len(jobs["ExportJobPropertiesList"].([]any)); n != 1 {
		t.Fatalf("SubmittedBefore in the future: %d jobs", n)
	}
	arn := created["DatastoreArn"]
	c.call("TagResource", map[string]any{"ResourceARN": arn, "Tags": []any{map[string]any{"Key": "team", "Value": "fhir"}, map[string]any{"Key": "env", "Value": "test"}}})
	c.call("UntagResource", map[string]any{"ResourceARN": arn, "TagKeys": []any{"env"}})
	_, tags, _ := c.call("ListTagsForResource", map[string]any{"ResourceARN": arn})
	if b, _ := json.Marshal(tags); string(b) != `{"Tags":[{"Key":"team","Value":"fhir"}]}` {
		t.Fatalf("tags %s", b)
	}
	st, out, h = c.call("ListTagsForResource", map[string]any{"ResourceARN": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/00000000000000000000000000000000"})
	wantError(t, st, out, h, 404, "ResourceNotFoundException")
	st, out, h = c.call("ListTagsForResource", map[string]any{"ResourceARN": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/nope"})
	wantError(t, st, out, h, 400, "ValidationException")
}
