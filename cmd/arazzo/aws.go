package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/sigv4"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/protocol/awsquery"
	"github.com/arazzo-go/arazzo/engine/protocol/restjson"
	"github.com/arazzo-go/arazzo/engine/protocol/restxml"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

// awsFlags configure signing for sources that are AWS APIs.
type awsFlags struct {
	region      string
	profile     string
	maxAttempts int
	emulate     string
	// signingNames override the inferred signing name: SOURCE=NAME.
	signingNames []string
	// dryRun sends nothing, so it needs no credentials.
	dryRun bool
}

// configureAWS signs the requests of every source whose description says
// SigV4. Credentials come from the SDK's default chain (environment, shared
// files, --profile, SSO, web identity, container and instance roles) and are
// loaded only when the plan has such a source. With --emulate the matching
// sources go to an in-process emulator with its test credentials instead.
// The returned function stops what was started.
//
// The region and keys in the environment are read through getenv and handed
// to the SDK, which would otherwise read the process environment itself:
// in main the two are the same, in tests each run has its own.
func configureAWS(ctx context.Context, plan *engine.Plan, opts *engine.Options, fl *awsFlags, getenv func(string) string, note func(string)) (func(), error) {
	stop := func() {}
	if fl.emulate != "" && fl.emulate != "healthlake" {
		return stop, fmt.Errorf("--emulate %q: the only emulator is healthlake", fl.emulate)
	}
	cfg := sigv4.Config{Region: fl.region, MaxAttempts: fl.maxAttempts}
	for _, sn := range fl.signingNames {
		src, name, ok := strings.Cut(sn, "=")
		if !ok || src == "" || name == "" {
			return stop, withCode(exitUsage, fmt.Errorf("--signing-name %q: want SOURCE=NAME", sn))
		}
		if plan.Source(src) == nil {
			return stop, withCode(exitUsage, fmt.Errorf("--signing-name %q: the document has no source named %s", sn, src))
		}
		if cfg.SigningNames == nil {
			cfg.SigningNames = map[string]string{}
		}
		cfg.SigningNames[src] = name
	}
	schemes := sigv4.Sources(plan)
	for src := range cfg.SigningNames {
		if _, ok := schemes[src]; !ok {
			schemes[src] = sigv4.Scheme{SigningName: cfg.SigningNames[src], Why: "--signing-name"}
		}
	}
	if len(schemes) == 0 {
		if fl.emulate != "" {
			return stop, fmt.Errorf("--emulate %s: no source of this document is an AWS API", fl.emulate)
		}
		return stop, nil
	}
	if cfg.Region == "" {
		cfg.Region = getenv("AWS_REGION")
	}
	if fl.emulate != "" {
		emu := healthlake.NewVerifying(healthlake.Config{Region: cfg.Region})
		srv := httptest.NewServer(emu)
		stop = srv.Close
		cfg.Region = emu.Region()
		cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: healthlake.TestAccessKeyID, SecretAccessKey: healthlake.TestSecretAccessKey, Source: "emulator"}, nil
		})
		for name, sc := range schemes {
			if sc.SigningName == healthlake.SigningName {
				opts.Servers[name] = srv.URL
			}
		}
		note(fmt.Sprintf("emulating HealthLake at %s (data store %s)", srv.URL, emu.DatastoreID()))
	} else {
		var load []func(*config.LoadOptions) error
		if cfg.Region != "" {
			load = append(load, config.WithRegion(cfg.Region))
		}
		if fl.profile != "" {
			load = append(load, config.WithSharedConfigProfile(fl.profile))
		} else if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
			// Keys in the environment win unless --profile names a profile,
			// as in the SDK's own chain.
			load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))))
		}
		awsCfg, err := config.LoadDefaultConfig(ctx, load...)
		if err != nil {
			return stop, fmt.Errorf("loading the AWS configuration: %v", err)
		}
		cfg.Credentials, cfg.Region = awsCfg.Credentials, awsCfg.Region
		if !fl.dryRun {
			// A source that looks like AWS is never called unsigned: with no
			// credentials the run stops here, before anything is sent.
			if _, err := cfg.Credentials.Retrieve(ctx); err != nil || cfg.Credentials == nil {
				var names []string
				for name, sc := range schemes {
					names = append(names, name+" ("+sc.Why+")")
				}
				sort.Strings(names)
				return stop, fmt.Errorf("%s %s signed with AWS SigV4 but no AWS credentials are available (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile); nothing was sent",
					strings.Join(names, ", "), map[bool]string{true: "is", false: "are"}[len(names) == 1])
			}
		}
	}
	opts.Middleware = append(opts.Middleware, sigv4.New(cfg))
	return stop, nil
}

// compileOptions are the wire protocols the CLI knows, beyond plain HTTP.
// Order matters: the shaped protocols claim their sources first, and
// restJson1, the fallback for AWS descriptions, comes last.
func compileOptions() []engine.CompileOption {
	return []engine.CompileOption{engine.WithProtocols(awsjson.Detect, awsquery.Detect, restxml.Detect, restjson.Detect)}
}
