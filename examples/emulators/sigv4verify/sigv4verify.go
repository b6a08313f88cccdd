// Package sigv4verify recomputes AWS Signature Version 4 signatures from
// the specification alone (canonical request, string to sign, derived
// key), for emulators and tests that must accept any client's valid
// signature (the Go SDK's, botocore's, arazzo's) and refuse the rest. It
// shares no code with the SDK signer it checks.
package sigv4verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Signature computes a request's SigV4 signature over the headers signed
// lists, from the SigV4 specification alone (no SDK signer): canonical
// request, string to sign, derived key. The payload hash is
// x-amz-content-sha256 when the client sent one, else the body's.
func Signature(r *http.Request, body []byte, signed []string, date, region, service, secret, amzDate string) string {
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	canon.WriteString(canonicalURI(r.URL.EscapedPath(), service) + "\n")
	canon.WriteString(canonicalQuery(r.URL.RawQuery) + "\n")
	for _, h := range signed {
		var vals []string
		switch h {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		canon.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	canon.WriteString("\n" + strings.Join(signed, ";") + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canon.WriteString(payload)
	scope := date + "/" + region + "/" + service + "/aws4_request"
	crHash := sha256.Sum256([]byte(canon.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	key := []byte("AWS4" + secret)
	for _, part := range []string{date, region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalURI encodes each path segment once more, as every service but
// S3 expects (S3 signs the path as sent).
func canonicalURI(escaped, service string) string {
	if escaped == "" {
		return "/"
	}
	if service == "s3" {
		return escaped
	}
	segs := strings.Split(escaped, "/")
	for i, s := range segs {
		segs[i] = uriEncode(s)
	}
	return strings.Join(segs, "/")
}

// canonicalQuery sorts the query by name then value, each URI-encoded.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var pairs []string
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// uriEncode is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Check verifies r's Authorization header against secret for region and
// service, over the headers the client signed; it returns why not.
func Check(r *http.Request, body []byte, secret, region, service string) error {
	rest, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("no AWS4-HMAC-SHA256 Authorization header")
	}
	f := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		f[k] = v
	}
	scope := strings.Split(f["Credential"], "/")
	if len(scope) != 5 || scope[2] != region || scope[3] != service || scope[4] != "aws4_request" {
		return fmt.Errorf("credential scope %q is not for %s/%s", f["Credential"], region, service)
	}
	want := Signature(r, body, strings.Split(f["SignedHeaders"], ";"), scope[1], region, service, secret, r.Header.Get("X-Amz-Date"))
	if !hmac.Equal([]byte(want), []byte(f["Signature"])) {
		return fmt.Errorf("the signature does not match")
	}
	return nil
}
