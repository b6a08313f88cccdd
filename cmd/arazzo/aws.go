package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/awssig"
	"github.com/arazzo-go/arazzo/openapi/healthlake"
)

// awsFlags configure signing for sources that are AWS APIs.
type awsFlags struct {
	region      string
	profile     string
	maxAttempts int
	emulate     string
}

// configureAWS signs the requests of every source whose description says
// SigV4. Credentials come from the SDK's default chain (environment, shared
// files, --profile, SSO, web identity, container and instance roles) and are
// loaded only when the plan has such a source. With --emulate the matching
// sources go to an in-process emulator with its test credentials instead.
// The returned function stops what was started.
func configureAWS(ctx context.Context, plan *engine.Plan, opts *engine.Options, fl *awsFlags, stderr func(string)) (func(), error) {
	schemes := map[string]awssig.Scheme{}
	for _, name := range sourceNames(plan) {
		if sc, ok := awssig.Detect(plan.Source(name).Source); ok {
			schemes[name] = sc
		}
	}
	stop := func() {}
	if fl.emulate != "" && fl.emulate != "healthlake" {
		return stop, fmt.Errorf("--emulate %q: the only emulator is healthlake", fl.emulate)
	}
	if len(schemes) == 0 {
		if fl.emulate != "" {
			return stop, fmt.Errorf("--emulate %s: no source of this document is an AWS API", fl.emulate)
		}
		return stop, nil
	}
	var creds aws.CredentialsProvider
	region := fl.region
	if fl.emulate != "" {
		emu := healthlake.NewVerifying(healthlake.Config{Region: regionOr(region, "us-east-1")})
		srv := httptest.NewServer(emu)
		stop = srv.Close
		region = emu.Region()
		creds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: healthlake.TestAccessKeyID, SecretAccessKey: healthlake.TestSecretAccessKey, Source: "emulator"}, nil
		})
		for name, sc := range schemes {
			if sc.SigningName == healthlake.SigningName {
				opts.Servers[name] = srv.URL
			}
		}
		stderr(fmt.Sprintf("emulating HealthLake at %s (data store %s)", srv.URL, emu.DatastoreID()))
	} else {
		var load []func(*config.LoadOptions) error
		if region != "" {
			load = append(load, config.WithRegion(region))
		}
		if fl.profile != "" {
			load = append(load, config.WithSharedConfigProfile(fl.profile))
		}
		cfg, err := config.LoadDefaultConfig(ctx, load...)
		if err != nil {
			return stop, fmt.Errorf("loading the AWS configuration: %v", err)
		}
		creds = cfg.Credentials
		if region == "" {
			region = cfg.Region
		}
	}
	if opts.ServerVariables == nil {
		opts.ServerVariables = map[string]map[string]string{}
	}
	regions := map[string]string{}
	for name, sc := range schemes {
		r := regionOr(region, sc.DefaultRegion)
		regions[name] = r
		if sc.RegionVariable != "" {
			opts.ServerVariables[name] = map[string]string{sc.RegionVariable: r}
		}
	}
	cache := aws.NewCredentialsCache(creds)
	sleep := opts.Sleep
	opts.Decorate = func(ref *engine.SourceRef, next engine.Caller) engine.Caller {
		sc, ok := schemes[ref.Name]
		if !ok {
			return next
		}
		return &awssig.Signer{Credentials: cache, Region: regions[ref.Name], Service: sc.SigningName, Next: next, MaxAttempts: fl.maxAttempts, Sleep: sleep}
	}
	return stop, nil
}

func regionOr(r, def string) string {
	if r != "" {
		return r
	}
	if env := os.Getenv("AWS_REGION"); env != "" {
		return env
	}
	return def
}

func sourceNames(plan *engine.Plan) []string {
	var out []string
	for _, s := range plan.Doc.SourceDescriptions {
		out = append(out, s.Name)
	}
	return out
}
