package oracle

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/arazzo-go/arazzo/engine"
)

// stsAnswers plays STS: the action is read from the form, as STS does.
func stsAnswers(w http.ResponseWriter, r *http.Request, body []byte) {
	form, _ := url.ParseQuery(string(body))
	w.Header().Set("Content-Type", "text/xml")
	switch form.Get("Action") {
	case "GetCallerIdentity":
		w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::210987654321:user/ops</Arn><UserId>AIDAEXAMPLEUSERID01</UserId><Account>210987654321</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>c1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`))
	case "AssumeRole":
		w.Write([]byte(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLESESSION01</AccessKeyId><SecretAccessKey>session-secret</SecretAccessKey><SessionToken>session-token</SessionToken><Expiration>2026-11-26T10:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::210987654321:assumed-role/reporting/nightly</Arn><AssumedRoleId>AROAEXAMPLE:nightly</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>c2</RequestId></ResponseMetadata></AssumeRoleResponse>`))
	default:
		w.WriteHeader(400)
		w.Write([]byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation ` + form.Get("Action") + `</Message></Error><RequestId>c3</RequestId></ErrorResponse>`))
	}
}

// awsQuery against the STS client: a description that gives the members as
// query parameters of a GET is sent as the form STS reads (lists
// numbered .member.N), and the account id is read from the XML answer.
func TestSTSMatchesTheSTSClient(t *testing.T) {
	rec := &recorder{respond: stsAnswers, service: "sts"}
	url := serve(t, rec)
	in := map[string]any{"RoleName": "reporting", "SessionName": "nightly", "DurationSeconds": 900, "Project": "ledger"}
	res, events := runArazzo(t, "testdata/aws-sts-assume-own-role.arazzo.yaml", "assume-role-in-own-account", in, url)
	if res.Status != engine.Succeeded {
		t.Fatalf("%+v\n%s", res.Error, notices(events))
	}
	if res.Outputs["account"] != "210987654321" || res.Outputs["accessKeyId"] != "ASIAEXAMPLESESSION01" {
		t.Fatalf("outputs read from XML: %v", res.Outputs)
	}
	ours := rec.all()
	rec.reqs = nil

	client := sts.New(sts.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1})
	ctx := context.Background()
	if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/reporting"),
		RoleSessionName: aws.String("nightly"), DurationSeconds: aws.Int32(900),
		Tags: []ststypes.Tag{{Key: aws.String("project"), Value: aws.String("ledger")}}}); err != nil {
		t.Fatal(err)
	}
	sdk := rec.all()
	if len(ours) != 2 || len(sdk) != 2 {
		t.Fatalf("%d and %d requests", len(ours), len(sdk))
	}
	sameWire(t, "GetCallerIdentity", ours[0], sdk[0], formBody)
	sameWire(t, "AssumeRole", ours[1], sdk[1], formBody)
	if n := notices(events); !strings.Contains(n, "GET / is sent as POST / with a form body (Action=AssumeRole)") {
		t.Fatalf("a notice says the GET became a form:\n%s", n)
	}
}
