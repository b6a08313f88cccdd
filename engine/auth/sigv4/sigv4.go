// Package sigv4 is AWS Signature Version 4 as an auth scheme: an
// engine.Middleware that signs the requests of every source whose OpenAPI
// description says it is an AWS API, and retries throttling and transient
// errors as the AWS SDKs do.
//
// Nothing here knows a particular service: the signing name and the region
// come from the description (a security scheme marked
// `x-amazon-apigateway-authtype: awsSigv4` or an Authorization apiKey
// described as Signature Version 4, `info.x-aws-signingName`, a server that
// is an AWS host once its variables are expanded, a `region` server
// variable), error codes from the source's wire protocol, and credentials
// from the caller (the CLI uses the AWS SDK's default chain). Without
// credentials an AWS source's requests fail unsent.
//
// As an engine.EndpointResolver it sends requests where AWS answers: https,
// the regional endpoint of the region's partition for a global-looking or
// another region's host, an operation's x-aws-hostPrefix. S3 requests
// carry x-amz-content-sha256 and are signed over the path as sent.
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
	"errors"
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
	"github.com/arazzo-go/arazzo/engine/protocol/awsdesc"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Scheme is what a description says about signing its requests.
type Scheme struct {
	SigningName string
	// RegionVariable is the server variable that holds the region, if any.
	RegionVariable string
	DefaultRegion  string
	// Host is the server's host with its variables expanded, when it is
	// an AWS host (*.amazonaws.com, *.amazonaws.com.cn).
	Host string
	// Why says what in the description marks it as SigV4, for messages.
	Why string
}

// Detect reports whether a source is signed with SigV4 and how. A source
// is when its description says so (a security scheme with
// x-amazon-apigateway-authtype: awsSigv4, an apiKey scheme for the
// Authorization header described as Signature Version 4,
// info.x-aws-signingName) or its server is an AWS host once its variables
// are expanded (https://personalize.{region}.amazonaws.com). The signing
// name is info.x-aws-signingName, else the host's service label.
func Detect(src *source.Source) (Scheme, bool) {
	if src == nil || src.OpenAPI == nil {
		return Scheme{}, false
	}
	doc := src.OpenAPI
	var sc Scheme
	if doc.Components != nil {
		for name, ref := range doc.Components.SecuritySchemes {
			if ref == nil || ref.Value == nil {
				continue
			}
			if why, ok := awsdesc.SigV4Scheme(name, ref.Value); ok {
				sc.Why = why
			}
		}
	}
	if doc.Info != nil {
		if n, _ := doc.Info.Extensions["x-aws-signingName"].(string); n != "" {
			sc.SigningName = n
			if sc.Why == "" {
				sc.Why = "info.x-aws-signingName"
			}
		}
	}
	if sv := awsdesc.FirstServer(src); sv != nil {
		if v, ok := sv.Variables["region"]; ok {
			sc.RegionVariable, sc.DefaultRegion = "region", v.Default
		}
		if host, service, region, ok := awsdesc.Host(awsdesc.Expand(sv)); ok {
			sc.Host = host
			if sc.Why == "" {
				sc.Why = "the AWS host " + host
			}
			if sc.SigningName == "" {
				sc.SigningName = service
			}
			if sc.DefaultRegion == "" && region != "" && sc.RegionVariable == "" {
				sc.DefaultRegion = region
			}
		}
	}
	if sc.Why == "" || sc.SigningName == "" {
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
	// S3 signs the path as sent; every other service signs it encoded
	// once more (the SigV4 rule the SDK's S3 client also follows).
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s3Family(s.Service) })
	for attempt := 1; ; attempt++ {
		r := req.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			r.Header.Del(h)
		}
		if s3Family(s.Service) {
			// S3 reads the payload's hash from this header, and requires it.
			r.Header.Set("X-Amz-Content-Sha256", hash)
		}
		region := s.Region
		if _, _, hr, ok := awsdesc.Host(r.URL.String()); ok && hr != "" {
			region = hr // the endpoint's region is the one it verifies
		}
		creds, err := s.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("cannot get AWS credentials: %w", err)
		}
		if err := signer.SignHTTP(ctx, creds, r, hash, s.Service, region, now()); err != nil {
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

// s3Family reports S3 and its variants, which take the payload hash in
// x-amz-content-sha256 (signed) and sign the path without encoding it again.
func s3Family(service string) bool {
	return service == "s3" || strings.HasPrefix(service, "s3-") || service == "s3express"
}

// Config is how to sign a plan's AWS sources.
type Config struct {
	Credentials aws.CredentialsProvider // wrapped in a cache by New; nil: AWS sources fail unsent
	// Region overrides the description's default region.
	Region string
	// SigningNames overrides the signing name inferred for a source, by
	// source name.
	SigningNames map[string]string
	MaxAttempts  int
	Sleep        func(ctx context.Context, d time.Duration) error
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
// and, for the region server variable and AWS endpoints, an
// engine.ServerVariableDefaults and an engine.EndpointResolver. One Auth
// may serve any number of plans and concurrent runs.
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
// description's default (the region variable's, or the host's).
func (a *Auth) Region(sc Scheme) string {
	if a.cfg.Region != "" {
		return a.cfg.Region
	}
	if sc.DefaultRegion != "" {
		return sc.DefaultRegion
	}
	return "us-east-1"
}

func (a *Auth) detect(src *engine.SourceRef) (Scheme, bool) {
	sc, ok := Detect(src.Source)
	if n := a.cfg.SigningNames[src.Name]; n != "" {
		sc.SigningName = n
		if !ok {
			sc.Why, ok = "a signing name given for it", true
		}
	}
	return sc, ok
}

// ErrNoCredentials is the error of a request to an AWS source when no
// credentials are available: it is never sent unsigned.
var ErrNoCredentials = errors.New("no AWS credentials are available")

// Wrap signs src's requests when its description says SigV4. Without
// credentials every request of such a source fails before it is sent.
func (a *Auth) Wrap(src *engine.SourceRef, next engine.Caller) engine.Caller {
	sc, ok := a.detect(src)
	if !ok {
		return next
	}
	if a.creds == nil {
		return engine.CallerFunc(func(*http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("source %s is an AWS API (%s) and %w to sign its requests; nothing was sent", src.Name, sc.Why, ErrNoCredentials)
		})
	}
	return &Signer{Credentials: a.creds, Region: a.Region(sc), Service: sc.SigningName, Next: next,
		Protocol: src.Protocol, MaxAttempts: a.cfg.MaxAttempts, Sleep: a.cfg.Sleep}
}

// ServerVariables puts the signing region in the description's region
// server variable, so the request goes where it is signed for.
func (a *Auth) ServerVariables(src *engine.SourceRef) map[string]string {
	sc, ok := a.detect(src)
	if !ok || sc.RegionVariable == "" {
		return nil
	}
	return map[string]string{sc.RegionVariable: a.Region(sc)}
}

// Endpoint sends an AWS source's requests where AWS answers them: over
// https; on the regional endpoint of the signing region's partition when
// the description gives a global-looking host (service.amazonaws.com) or
// another region's; with the operation's host prefix (x-aws-hostPrefix,
// the SDKs' per-operation endpoint prefix, "runtime-" say). A server the
// user overrides is never changed (the engine does not ask).
func (a *Auth) Endpoint(src *engine.SourceRef, op *source.Operation, server string) (string, string) {
	sc, ok := a.detect(src)
	if !ok {
		return server, ""
	}
	u, err := url.Parse(server)
	if err != nil {
		return server, ""
	}
	host, service, region, isAWS := awsdesc.Host(server)
	if !isAWS {
		return server, ""
	}
	var why []string
	if u.Scheme == "http" {
		u.Scheme = "https"
		why = append(why, "https (AWS endpoints answer only on it)")
	}
	want := a.Region(sc)
	if region != "" && sc.RegionVariable != "" {
		// The region came from the server variable: a --server-var the
		// user gave wins, and the signer signs for the host's region.
		want = region
	}
	_, suffix := awsdesc.Partition(want)
	regional := service + "." + want + "." + suffix
	prefix := ""
	if i := strings.Index(host, service+"."); i > 0 {
		prefix = host[:i] // a bucket or an account label before the service
	}
	if prefix+regional != host {
		switch {
		case region == "":
			why = append(why, "the regional endpoint of "+want+" instead of the global-looking "+host)
		case region != want:
			why = append(why, "region "+want+" instead of the description's "+region)
		default:
			why = append(why, "the domain of "+want+"'s partition")
		}
	}
	if op != nil {
		if hp, _ := op.Op.Extensions["x-aws-hostPrefix"].(string); hp != "" && !strings.HasPrefix(host, hp) && !strings.Contains(hp, "{") {
			prefix = hp + prefix
			why = append(why, "the operation's host prefix "+hp)
		}
	}
	newHost := prefix + regional
	if port := u.Port(); port != "" {
		newHost += ":" + port
	}
	if newHost == u.Host && len(why) == 0 {
		return server, ""
	}
	u.Host = newHost
	out := u.String()
	if len(why) == 0 {
		return out, ""
	}
	return out, fmt.Sprintf("requests of %s go to %s: %s", src.Name, out, strings.Join(why, "; "))
}
