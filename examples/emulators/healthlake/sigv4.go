package healthlake

import (
	"crypto/hmac"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/arazzo-go/arazzo/examples/emulators/sigv4verify"
)

// SigningName is the SigV4 service name HealthLake requests are signed for.
const SigningName = "healthlake"

// verify recomputes the request's SigV4 signature with the emulator's
// copy of the secret, and answers the errors AWS
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

	// SigV4 lets the client choose which headers it signs (the Go SDK
	// signs content-length, botocore does not): verify over the client's
	// own SignedHeaders list, from the request as it arrived.
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !slices.Contains(signed, "host") {
		return errorf(403, "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	for _, h := range []string{"x-amz-date", "x-amz-security-token", "x-amz-target"} {
		if r.Header.Get(h) != "" && !slices.Contains(signed, h) {
			return errorf(403, "InvalidSignatureException", "'%s' must be a 'SignedHeader' in the AWS Authorization.", h)
		}
	}
	want := sigv4verify.Signature(r, body, signed, scope[1], s.cfg.Region, SigningName, cred.Secret, r.Header.Get("X-Amz-Date"))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
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
