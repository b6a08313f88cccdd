package healthlake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigningName is the SigV4 service name HealthLake requests are signed for.
const SigningName = "healthlake"

// verify recomputes the request's SigV4 signature with the AWS SDK's own
// signer and the emulator's copy of the secret, and answers the errors AWS
// answers for a missing, unknown, stale or tampered signature.
func (s *Server) verify(r *http.Request, body []byte) *apiError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errorf(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	fields, ok := parseAuthorization(auth)
	if !ok {
		return errorf(403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters with the AWS4-HMAC-SHA256 algorithm")
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return errorf(403, "IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements")
	}
	cred, known := s.cfg.Credentials[scope[0]]
	if !known {
		return errorf(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if cred.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != cred.SessionToken {
		return errorf(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if scope[2] != s.cfg.Region || scope[3] != SigningName {
		return errorf(403, "InvalidSignatureException", "Credential should be scoped to a valid region and service: %s/%s", s.cfg.Region, SigningName)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errorf(403, "IncompleteSignatureException", "a valid X-Amz-Date header is required")
	}
	now := s.cfg.Now()
	if d := now.Sub(when); d > s.cfg.MaxSkew || d < -s.cfg.MaxSkew {
		return errorf(403, "InvalidSignatureException", "Signature expired: %s is now earlier than %s (%s - 5 min.)",
			when.UTC().Format("20060102T150405Z"), now.Add(-s.cfg.MaxSkew).UTC().Format("20060102T150405Z"), now.UTC().Format("20060102T150405Z"))
	}
	if scope[1] != when.UTC().Format("20060102") {
		return errorf(403, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from X-Amz-Date")
	}

	// Rebuild the request from exactly the headers the client signed and
	// sign it again; the signatures match only if nothing was altered.
	u := &url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	again, _ := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	again.Host = r.Host
	again.ContentLength = r.ContentLength
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		if v := r.Header.Values(h); len(v) > 0 {
			again.Header[http.CanonicalHeaderKey(h)] = v
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: cred.Secret, SessionToken: cred.SessionToken}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), SigningName, s.cfg.Region, when); err != nil {
		return errorf(500, "InternalServerException", "cannot verify the signature")
	}
	want, _ := parseAuthorization(again.Header.Get("Authorization"))
	if want["SignedHeaders"] != fields["SignedHeaders"] || !hmac.Equal([]byte(want["Signature"]), []byte(fields["Signature"])) {
		return errorf(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

// parseAuthorization splits `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
func parseAuthorization(h string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			out[k] = v
		}
	}
	return out, out["Credential"] != "" && out["SignedHeaders"] != "" && out["Signature"] != ""
}
