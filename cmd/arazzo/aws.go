package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
	"github.com/arazzo-go/arazzo/engine/auth/sigv4"
	"github.com/arazzo-go/arazzo/engine/message"
	amqptransport "github.com/arazzo-go/arazzo/engine/message/amqp"
	"github.com/arazzo-go/arazzo/engine/message/kafka"
	mqtttransport "github.com/arazzo-go/arazzo/engine/message/mqtt"
	natstransport "github.com/arazzo-go/arazzo/engine/message/nats"
	wstransport "github.com/arazzo-go/arazzo/engine/message/websocket"
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
func configureAWS(ctx context.Context, plan *engine.Plan, opts *engine.Options, fl *awsFlags, layers []security.Layer, getenv func(string) string, note func(string)) (func(), error) {
	stop := func() {}
	if fl.emulate != "" && fl.emulate != "healthlake" && fl.emulate != "auth" && fl.emulate != "petstore" {
		return stop, fmt.Errorf("--emulate %q: the emulators are healthlake, auth and petstore", fl.emulate)
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
		if fl.emulate == "healthlake" {
			return stop, fmt.Errorf("--emulate %s: no source of this document is an AWS API", fl.emulate)
		}
		return stop, nil
	}
	if cfg.Region == "" {
		cfg.Region = getenv("AWS_REGION")
	}
	switch {
	case fl.dryRun:
		// Nothing is sent: no credentials, no emulator; the region still
		// fills the server URLs the dry run shows.
		if fl.emulate != "" {
			note("--emulate starts nothing with --dry-run: nothing is sent")
		}
	case fl.emulate == "healthlake":
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
	default:
		// The SDK's own log lines (a WARN about IMDSv1 fallback) are not
		// for our users: what matters is said in our errors.
		load := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
		if cfg.Region != "" {
			load = append(load, config.WithRegion(cfg.Region))
		}
		keys, err := sigv4Keys(plan, schemes, layers)
		if err != nil {
			return stop, err
		}
		if keys != nil {
			// --auth, --auth-file or ARAZZO_AUTH_* gave the scheme's keys:
			// the same credential sources as every other scheme.
			load = append(load, config.WithCredentialsProvider(keys))
		} else if fl.profile != "" {
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
		// Credentials are looked up before anything is sent: a source
		// that looks like AWS is never called unsigned, and a run that
		// cannot sign must not start a job it cannot follow.
		if cfg.Credentials == nil {
			err = errors.New("no credential provider")
		} else {
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			_, err = cfg.Credentials.Retrieve(cctx)
			cancel()
		}
		if err != nil {
			var names []string
			for name, sc := range schemes {
				names = append(names, name+" ("+sc.Why+")")
			}
			sort.Strings(names)
			return stop, fmt.Errorf("no AWS credentials for %s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile with --profile or AWS_PROFILE, or try the workflow on the emulator with --emulate healthlake; nothing was sent", strings.Join(names, ", "))
		}
	}
	opts.Middleware = append(opts.Middleware, sigv4.New(cfg))
	return stop, nil
}

// sigv4Keys are the keys the credential layers give for a SigV4 source,
// or nil. One set of keys signs every SigV4 source of the plan (the
// middleware takes one provider), so the first source's win.
func sigv4Keys(plan *engine.Plan, schemes map[string]sigv4.Scheme, layers []security.Layer) (aws.CredentialsProvider, error) {
	names := make([]string, 0, len(schemes))
	for n := range schemes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		id, secret, session, ok, err := security.SigV4Keys(layers, plan.Source(n))
		if err != nil {
			return nil, err
		}
		if ok {
			return credentials.NewStaticCredentialsProvider(id, secret, session), nil
		}
	}
	return nil, nil
}

// brokerScheme reports whether --server may name a broker with scheme:
// one of the protocols of the transports compileOptions links.
func brokerScheme(scheme string) bool {
	for _, t := range transports() {
		for _, p := range t.Protocols() {
			if p == scheme {
				return true
			}
		}
	}
	return false
}

// transports are the broker transports of AsyncAPI steps the CLI links.
func transports() []message.Transport {
	return []message.Transport{kafka.New(), natstransport.New(), mqtttransport.New(), wstransport.New(), amqptransport.New()}
}

// protocols are the wire protocols the CLI knows, beyond plain HTTP, and
// the broker transports of AsyncAPI steps. Order matters: the shaped
// protocols claim their sources first, and restJson1, the fallback for AWS
// descriptions, comes last.
func protocols() []engine.CompileOption {
	return []engine.CompileOption{
		engine.WithProtocols(awsjson.Detect, awsquery.Detect, restxml.Detect, restjson.Detect),
		engine.WithTransports(transports()...),
	}
}
