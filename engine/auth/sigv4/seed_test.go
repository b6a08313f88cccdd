package sigv4_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/sigv4"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

const seed = "../../../workflows/amazon-healthlake-export.arazzo.yaml"

func seedPlan(t *testing.T) *engine.Plan {
	t.Helper()
	plan, diags := engine.LoadFile(context.Background(), seed, &source.Loader{}, engine.WithProtocols(awsjson.Detect))
	if plan == nil {
		t.Fatal(diags.Error())
	}
	return plan
}

func sampleInputs(t *testing.T) map[string]any {
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

func testCreds() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: healthlake.TestAccessKeyID, SecretAccessKey: healthlake.TestSecretAccessKey}, nil
	})
}

// runSeed runs the seed against an emulator with cfg's credentials.
func runSeed(t *testing.T, emu *healthlake.Server, cfg sigv4.Config) (*engine.Result, []engine.Event) {
	t.Helper()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	plan := seedPlan(t)
	var events []engine.Event
	opts := &engine.Options{Servers: map[string]string{"healthlakeApi": srv.URL}, PollInterval: -1,
		Observers: []engine.Observer{engine.ObserverFunc(func(e engine.Event) { events = append(events, e) })}}
	if schemes := sigv4.Sources(plan); schemes["healthlakeApi"].SigningName != "healthlake" {
		t.Fatalf("the signing name comes from the description: %+v", schemes)
	}
	opts.Middleware = []engine.Middleware{sigv4.New(cfg)}
	res, _ := plan.Run(context.Background(), "start-export-poll-and-list", sampleInputs(t), opts)
	if res == nil {
		t.Fatal("no result")
	}
	return res, events
}

func TestSeedCompletesAgainstTheEmulator(t *testing.T) {
	res, events := runSeed(t, healthlake.NewVerifying(healthlake.Config{PollsToComplete: 4}), sigv4.Config{Credentials: testCreds()})
	if res.Status != engine.Succeeded || res.Outputs["jobStatus"] != "COMPLETED" {
		t.Fatalf("result %+v", res)
	}
	jobID := res.Outputs["jobId"]
	found := false
	for _, j := range res.Outputs["exportJobPropertiesList"].([]any) {
		found = found || j.(map[string]any)["JobId"] == jobID
	}
	if !found {
		t.Fatalf("the job is in exportJobPropertiesList: %v", res.Outputs)
	}
	if res.Steps[1].StepID != "pollExportJob" || res.Steps[1].Runs != 4 {
		t.Fatalf("four polls: %+v", res.Steps[1])
	}
	sawCT := false
	for _, e := range events {
		if e.Kind == engine.RequestSent && e.Request.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
			t.Fatalf("the AWS JSON protocol's Content-Type is sent: %v", e.Request.Header)
		}
		if e.Kind == engine.Notice && strings.Contains(e.Message, "application/x-amz-json-1.0") {
			sawCT = true
		}
		if v := e.Request; e.Kind == engine.RequestSent && v.Header.Get("Authorization") != "" && v.Header.Get("Authorization") != engine.Mask {
			t.Fatal("Authorization is masked in events")
		}
	}
	if !sawCT {
		t.Fatal("the trace says the Content-Type differs from the workflow's")
	}
}

func TestSeedFollowsAFailedJobToTheListStep(t *testing.T) {
	res, _ := runSeed(t, healthlake.NewVerifying(healthlake.Config{FinalStatus: "FAILED"}), sigv4.Config{Credentials: testCreds()})
	// No onSuccess action matches FAILED, so the flow goes on to the list step.
	if res.Status != engine.Succeeded || res.Outputs["jobStatus"] != "FAILED" || len(res.Steps) != 3 {
		t.Fatalf("result %+v", res)
	}
	// ... but not silently: the result says which value fell through.
	found := false
	for _, n := range res.Notices {
		found = found || n.StepID == "pollExportJob" && strings.Contains(n.Message, `no onSuccess action matched ($.ExportJobProperties.JobStatus = "FAILED")`)
	}
	if !found {
		t.Fatalf("notices %+v", res.Notices)
	}
}

func TestThrottledEmulatorCompletesThroughRetries(t *testing.T) {
	var waits []time.Duration
	emu := healthlake.NewVerifying(healthlake.Config{ThrottleLimit: 1, ThrottleWindow: time.Hour})
	sleep := func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}
	// The window never resets by itself; each retry waits, so let the
	// emulator admit one request per retry by resetting its clock.
	res, events := runSeed(t, emu, sigv4.Config{Credentials: testCreds(), MaxAttempts: 3, Sleep: func(ctx context.Context, d time.Duration) error {
		emu.ResetThrottle()
		return sleep(ctx, d)
	}})
	if res.Status != engine.Succeeded || len(waits) == 0 {
		t.Fatalf("result %+v waits %v", res, waits)
	}
	retries := 0
	for _, e := range events {
		if e.Kind == engine.CallerRetry {
			retries++
			if e.StepID == "" || !strings.Contains(e.Message, "ThrottlingException") {
				t.Fatalf("a retry event names its step and the error: %+v", e)
			}
		}
	}
	if retries != len(waits) {
		t.Fatalf("each retry is an event: %d events, %d waits", retries, len(waits))
	}
}

func TestWrongCredentialsFailTheFirstStep(t *testing.T) {
	bad := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIAWRONGWRONGWRONG0", SecretAccessKey: "nope"}, nil
	})
	res, _ := runSeed(t, healthlake.NewVerifying(healthlake.Config{}), sigv4.Config{Credentials: bad})
	if res.Status != engine.Failed || res.Error.StepID != "startExportJob" || res.Error.StatusCode != 403 ||
		!strings.Contains(res.Error.Message, "UnrecognizedClientException: The security token included in the request is invalid.") {
		t.Fatalf("error %+v", res.Error)
	}
}

func TestCredentialsFromTheDefaultChain(t *testing.T) {
	clear := func() {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
		dir := t.TempDir()
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	}
	emu := func() *healthlake.Server {
		return healthlake.NewVerifying(healthlake.Config{Region: "eu-west-1", Credentials: map[string]healthlake.Credential{
			"AKIAENVIRONMENT00001": {Secret: "env-secret"},
			"ASIAPROFILE000000001": {Secret: "profile-secret", SessionToken: "profile-session"},
		}})
	}
	t.Run("environment", func(t *testing.T) {
		clear()
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
		t.Setenv("AWS_REGION", "eu-west-1")
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		res, _ := runSeed(t, emu(), sigv4.Config{Credentials: cfg.Credentials, Region: cfg.Region})
		if res.Status != engine.Succeeded {
			t.Fatalf("%+v", res.Error)
		}
	})
	t.Run("profile", func(t *testing.T) {
		clear()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config"), []byte("[profile export]\nregion = eu-west-1\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "credentials"), []byte("[export]\naws_access_key_id = ASIAPROFILE000000001\naws_secret_access_key = profile-secret\naws_session_token = profile-session\n"), 0o600)
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
		t.Setenv("AWS_PROFILE", "export")
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != "eu-west-1" {
			t.Fatalf("the region comes from the profile: %q", cfg.Region)
		}
		res, _ := runSeed(t, emu(), sigv4.Config{Credentials: cfg.Credentials, Region: cfg.Region})
		if res.Status != engine.Succeeded {
			t.Fatalf("%+v", res.Error)
		}
	})
}
