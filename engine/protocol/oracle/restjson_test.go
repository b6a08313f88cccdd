package oracle

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"

	"github.com/arazzo-go/arazzo/engine"
)

// efsAnswers plays EFS: a file system that is creating on the first
// describe and available after.
func efsAnswers() func(http.ResponseWriter, *http.Request, []byte) {
	var describes atomic.Int32
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST":
			w.WriteHeader(201)
			w.Write([]byte(`{"FileSystemId":"fs-0a1b2c3d4e5f60718","LifeCycleState":"creating","CreationToken":"tok"}`))
		case r.Method == "GET":
			state := "available"
			if describes.Add(1) == 1 {
				state = "creating"
			}
			w.Write([]byte(`{"FileSystems":[{"FileSystemId":"fs-0a1b2c3d4e5f60718","LifeCycleState":"` + state + `"}]}`))
		default:
			w.Write([]byte(`{"LifecyclePolicies":[]}`))
		}
	}
}

// restJson1 against the EFS client: bindings as described, integers in
// the query, a JSON body as application/json, and a payload wrapped in a
// member name (LifecycleConfiguration) sent as the members themselves.
func TestEFSMatchesTheEFSClient(t *testing.T) {
	rec := &recorder{respond: efsAnswers(), service: "elasticfilesystem"}
	url := serve(t, rec)
	in := map[string]any{"CreationToken": "reports-2026", "Name": "reports", "TransitionToIA": "AFTER_30_DAYS"}
	res, events := runArazzo(t, "testdata/amazon-efs-create-and-tier.arazzo.yaml", "create-poll-and-tier", in, url)
	if res.Status != engine.Succeeded || res.Steps[1].Runs != 2 {
		t.Fatalf("%+v %+v\n%s", res.Error, res.Steps, notices(events))
	}
	ours := rec.all()
	rec.reqs = nil

	client := efs.New(efs.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1})
	ctx := context.Background()
	if _, err := client.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("reports-2026"),
		PerformanceMode: efstypes.PerformanceModeGeneralPurpose, Encrypted: aws.Bool(true),
		Tags: []efstypes.Tag{{Key: aws.String("Name"), Value: aws.String("reports")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String("fs-0a1b2c3d4e5f60718"), MaxItems: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutLifecycleConfiguration(ctx, &efs.PutLifecycleConfigurationInput{FileSystemId: aws.String("fs-0a1b2c3d4e5f60718"),
		LifecyclePolicies: []efstypes.LifecyclePolicy{{TransitionToIA: efstypes.TransitionToIARulesAfter30Days},
			{TransitionToPrimaryStorageClass: efstypes.TransitionToPrimaryStorageClassRulesAfter1Access}}}); err != nil {
		t.Fatal(err)
	}
	sdk := rec.all()
	if len(ours) != 4 || len(sdk) != 3 {
		t.Fatalf("%d and %d requests", len(ours), len(sdk))
	}
	sameWire(t, "CreateFileSystem", ours[0], sdk[0], jsonBody)
	sameWire(t, "DescribeFileSystems", ours[2], sdk[1], jsonBody)
	sameWire(t, "PutLifecycleConfiguration", ours[3], sdk[2], jsonBody)
	if n := notices(events); !strings.Contains(n, "the payload's only member LifecycleConfiguration holds the operation's body") {
		t.Fatalf("a notice says the wrapper was dropped:\n%s", n)
	}
}
