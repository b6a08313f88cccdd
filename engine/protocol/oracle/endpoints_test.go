package oracle

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/sigv4"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/protocol/awsquery"
	"github.com/arazzo-go/arazzo/engine/protocol/restjson"
	"github.com/arazzo-go/arazzo/engine/protocol/restxml"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Where arazzo sends each workflow's first request, with no server
// override, against where the SDK's own endpoint rules send the same
// operation: regional hosts of the region's partition for descriptions
// that give a global-looking host (EFS, STS), a templated one (Kinesis,
// HealthLake) or an http:// one, and S3's virtual-hosted bucket. Nothing
// is sent: the dry run lays the requests out.
func TestEndpointsMatchTheSDKs(t *testing.T) {
	ctx := context.Background()
	for _, region := range []string{"eu-west-1", "cn-north-1", "us-gov-west-1"} {
		for _, tc := range []struct {
			file, workflow string
			inputs         map[string]any
			want           func() (string, error)
			path           string
		}{
			{"testdata/amazon-efs-create-and-tier.arazzo.yaml", "create-poll-and-tier", map[string]any{"CreationToken": "t", "TransitionToIA": "AFTER_1_DAY"},
				func() (string, error) {
					e, err := efs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, efs.EndpointParameters{Region: aws.String(region)})
					return e.URI.String(), err
				}, "/2015-02-01/file-systems"},
			{"testdata/aws-sts-assume-own-role.arazzo.yaml", "assume-role-in-own-account", map[string]any{"RoleName": "r", "SessionName": "s"},
				func() (string, error) {
					e, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sts.EndpointParameters{Region: aws.String(region)})
					return e.URI.String(), err
				}, "/"},
			{"testdata/amazon-kinesis-create-and-list-shards.arazzo.yaml", "create-wait-and-list", map[string]any{"StreamName": "s"},
				func() (string, error) {
					e, err := kinesis.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, kinesis.EndpointParameters{Region: aws.String(region)})
					return e.URI.String(), err
				}, "/"},
			{"testdata/amazon-s3-tag-latest.arazzo.yaml", "tag-bucket-and-read-first-object", map[string]any{"Bucket": "quarterly-reports", "Prefix": "p", "Team": "x"},
				func() (string, error) {
					e, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, s3.EndpointParameters{Region: aws.String(region), Bucket: aws.String("quarterly-reports")})
					return e.URI.String(), err
				}, "/?tagging"},
			{seed, "start-export-poll-and-list", seedInputs(t),
				func() (string, error) {
					e, err := healthlake.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, healthlake.EndpointParameters{Region: aws.String(region)})
					return e.URI.String(), err
				}, "/"},
		} {
			plan, diags := engine.LoadFile(ctx, tc.file, &source.Loader{}, engine.WithProtocols(awsjson.Detect, awsquery.Detect, restxml.Detect, restjson.Detect))
			if plan == nil {
				t.Fatal(diags.Error())
			}
			if region != "eu-west-1" && tc.file == seed {
				continue // the seed's region variable is an enum of commercial regions
			}
			got, err := plan.DryRun(ctx, tc.workflow, tc.inputs, &engine.Options{
				Middleware: []engine.Middleware{sigv4.New(sigv4.Config{Credentials: creds, Region: region})}})
			if err != nil {
				t.Fatal(err)
			}
			base, err := tc.want()
			if err != nil {
				t.Fatal(err)
			}
			want := base + tc.path
			if got[0].URL != want {
				t.Errorf("%s in %s: %s, SDK %s", tc.file, region, got[0].URL, want)
			}
		}
	}
}

// Each description gets its protocol whatever order the detectors run in.
func TestDetectorOrderDoesNotMatter(t *testing.T) {
	want := map[string]string{seed: "awsJson1_0", "testdata/amazon-kinesis-create-and-list-shards.arazzo.yaml": "awsJson1_1",
		"testdata/amazon-efs-create-and-tier.arazzo.yaml": "restJson1", "testdata/amazon-s3-tag-latest.arazzo.yaml": "restXml",
		"testdata/aws-sts-assume-own-role.arazzo.yaml": "awsQuery"}
	for _, order := range [][]protocol.Detector{
		{awsjson.Detect, awsquery.Detect, restxml.Detect, restjson.Detect},
		{restjson.Detect, restxml.Detect, awsquery.Detect, awsjson.Detect},
	} {
		for file, name := range want {
			plan, diags := engine.LoadFile(context.Background(), file, &source.Loader{}, engine.WithProtocols(order...))
			if plan == nil {
				t.Fatal(diags.Error())
			}
			if got := plan.Source(plan.Doc.SourceDescriptions[0].Name).Protocol.Name(); got != name {
				t.Errorf("%s: %s, want %s", file, got, name)
			}
		}
	}
}
