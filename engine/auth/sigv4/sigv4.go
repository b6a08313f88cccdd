// Package sigv4 is AWS Signature Version 4 as an auth scheme: an
// engine.Middleware that signs the requests of every source whose OpenAPI
// description says it is an AWS API, and retries throttling and transient
// errors as the AWS SDKs do.
//
// Nothing here knows a particular service: the signing name and the region
// come from the description (a security scheme marked
// `x-amazon-apigateway-authtype: awsSigv4`, `info.x-aws-signingName`, an
// `*.amazonaws.com` server, a `region` server variable), error codes from
// the source's wire protocol, and credentials from the caller (the CLI uses
// the AWS SDK's default chain).
//
//	auth := sigv4.New(sigv4.Config{Credentials: creds, Region: "eu-west-1"})
//	plan.Run(ctx, "export", inputs, &engine.Options{Middleware: []engine.Middleware{auth}})
//
// Other auth schemes go beside this package under engine/auth, each an
// engine.Middleware.
package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Scheme is what a description says about signing its requests.
type Scheme struct {
	SigningName string
	// RegionVariable is the server variable that holds the region, if any.
	RegionVariable string
	DefaultRegion  string
}

// Detect reports whether a source is signed with SigV4 and how.
func Detect(src *source.Source) (Scheme, bool) {
	if src == nil || src.OpenAPI == nil {
		return Scheme{}, false
	}
	doc := src.OpenAPI
	signed := false
	if doc.Components != nil {
		for _, ref := range doc.Components.SecuritySchemes {
			if ref != nil && ref.Value != nil && ref.Value.Extensions["x-amazon-apigateway-authtype"] == "awsSigv4" {
				signed = true
			}
		}
	}
	var sc Scheme
	if doc.Info != nil {
		sc.SigningName, _ = doc.Info.Extensions["x-aws-signingName"].(string)
	}
	if len(doc.Servers) > 0 && doc.Servers[0] != nil {
		sv := doc.Servers[0]
		if u, err := url.Parse(sv.URL); err == nil && strings.HasSuffix(u.Hostname(), ".amazonaws.com") {
			signed = true
			if sc.SigningName == "" {
				sc.SigningName, _, _ = strings.Cut(u.Hostname(), ".")
			}
		}
		if v, ok := sv.Variables["region"]; ok {
			sc.RegionVariable, sc.DefaultRegion = "region", v.Default
		}
	}
	if !signed || sc.SigningName == "" {
		return Scheme{}, false
	}
	return sc, true
}

// Signer is a Caller that signs each request with SigV4 (a fresh signature
// on every attempt, over the exact body bytes sent) and retries throttling
// and transient errors with the AWS SDK's standard retryer.
type Signer struct {
	Credentials aws.CredentialsProvider
	Region      string
	Service     string
	Next        engine.Caller
	// Protocol reads error codes from responses, to tell throttling and
	// transient errors from the rest; default AWS JSON's reading (the
	// X-Amzn-ErrorType header every AWS protocol sends, then the body).
	Protocol protocol.Protocol
	// MaxAttempts for throttling and transient errors; 1 turns retries off.
	MaxAttempts int
	// Sleep waits between attempts; default a timer that honours the context.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
}

// Do signs and sends the request.
func (s *Signer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	attempts := s.MaxAttempts
	if attempts <= 0 {
		attempts = retry.DefaultMaxAttempts
	}
	retryer := retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = attempts })
	now, sleep := s.Now, s.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = engine.Sleep
	}
	for attempt := 1; ; attempt++ {
		r := req.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			r.Header.Del(h)
		}
		creds, err := s.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("cannot get AWS credentials: %w", err)
		}
		if err := v4.NewSigner().SignHTTP(ctx, creds, r, hash, s.Service, s.Region, now()); err != nil {
			return nil, fmt.Errorf("cannot sign the request: %w", err)
		}
		resp, err := s.Next.Do(r)
		var opErr error = err
		if err == nil && resp.StatusCode >= 300 {
			opErr = ReadError(resp, s.Protocol)
		}
		if opErr == nil || attempt >= attempts || !retryer.IsErrorRetryable(opErr) {
			return resp, err
		}
		delay, derr := retryer.RetryDelay(attempt, opErr)
		if derr != nil {
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		engine.Report(ctx, engine.Event{Kind: engine.CallerRetry, Attempt: attempt + 1, Wait: delay,
			Message: fmt.Sprintf("AWS %s; retrying (attempt %d of %d) in %s", opErr, attempt+1, attempts, delay.Round(time.Millisecond))})
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// APIError is an AWS JSON protocol error response. It satisfies the
// interfaces the SDK's retryer classifies errors by.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// ErrorCode is the AWS error type, e.g. ThrottlingException.
func (e *APIError) ErrorCode() string    { return e.Code }
func (e *APIError) ErrorMessage() string { return e.Message }
func (e *APIError) HTTPStatusCode() int  { return e.Status }

// ErrorFault says whose fault the error is.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.Status >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// ReadError reads an AWS error from a response without consuming it: the
// body is put back for the engine to read. p reads the code and message
// (nil: AWS JSON's reading).
func ReadError(resp *http.Response, p protocol.Protocol) *APIError {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if p == nil || p == protocol.HTTP {
		p = awsjson.Protocol{}
	}
	code, msg := p.ErrorSummary(resp.Header, data)
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	return &APIError{Status: resp.StatusCode, Code: code, Message: msg}
}

// Config is how to sign a plan's AWS sources.
type Config struct {
	Credentials aws.CredentialsProvider // wrapped in a cache by New
	// Region overrides the description's default region.
	Region      string
	MaxAttempts int
	Sleep       func(ctx context.Context, d time.Duration) error
}

// Sources finds the plan's sources that are signed with SigV4, by name.
func Sources(plan *engine.Plan) map[string]Scheme {
	out := map[string]Scheme{}
	for _, sd := range plan.Doc.SourceDescriptions {
		if ref := plan.Source(sd.Name); ref != nil {
			if sc, ok := Detect(ref.Source); ok {
				out[sd.Name] = sc
			}
		}
	}
	return out
}

// Auth signs the requests of SigV4 sources; it is an engine.Middleware
// and, for the region server variable, an engine.ServerVariableDefaults.
// One Auth may serve any number of plans and concurrent runs.
type Auth struct {
	cfg   Config
	creds aws.CredentialsProvider
}

// New returns the middleware for cfg.
func New(cfg Config) *Auth {
	creds := cfg.Credentials
	if _, cached := creds.(*aws.CredentialsCache); !cached && creds != nil {
		creds = aws.NewCredentialsCache(creds)
	}
	return &Auth{cfg: cfg, creds: creds}
}

// Region is the region a source is signed for: Config.Region, else the
// description's default.
func (a *Auth) Region(sc Scheme) string {
	if a.cfg.Region != "" {
		return a.cfg.Region
	}
	return sc.DefaultRegion
}

// Wrap signs src's requests when its description says SigV4.
func (a *Auth) Wrap(src *engine.SourceRef, next engine.Caller) engine.Caller {
	sc, ok := Detect(src.Source)
	if !ok {
		return next
	}
	return &Signer{Credentials: a.creds, Region: a.Region(sc), Service: sc.SigningName, Next: next,
		Protocol: src.Protocol, MaxAttempts: a.cfg.MaxAttempts, Sleep: a.cfg.Sleep}
}

// ServerVariables puts the signing region in the description's region
// server variable, so the request goes where it is signed for.
func (a *Auth) ServerVariables(src *engine.SourceRef) map[string]string {
	sc, ok := Detect(src.Source)
	if !ok || sc.RegionVariable == "" {
		return nil
	}
	return map[string]string{sc.RegionVariable: a.Region(sc)}
}
