package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/arazzo-go/arazzo/engine"
)

func staticCreds(ak, sk, token string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk, SessionToken: token}, nil
	})
}

// referenceSignature computes a SigV4 signature from the specification
// (canonical request, string to sign, derived key), independently of the
// SDK, for the headers the request says it signed.
func referenceSignature(r *http.Request, body []byte, secret, region, service string) string {
	auth := r.Header.Get("Authorization")
	var signed []string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		if v, ok := strings.CutPrefix(part, "SignedHeaders="); ok {
			signed = strings.Split(v, ";")
		}
	}
	var canonHeaders strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		switch h {
		case "host":
			v = r.Host
			if v == "" {
				v = r.URL.Host
			}
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		}
		canonHeaders.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			qs = append(qs, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	sum := sha256.Sum256(body)
	canonical := strings.Join([]string{r.Method, path, strings.Join(qs, "&"), canonHeaders.String(), strings.Join(signed, ";"), hex.EncodeToString(sum[:])}, "\n")
	date := r.Header.Get("X-Amz-Date")
	scope := date[:8] + "/" + region + "/" + service + "/aws4_request"
	crSum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date[:8])
	k = mac(k, region)
	k = mac(k, service)
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, toSign))
}

type captured struct {
	reqs []*http.Request
	body [][]byte
}

func TestSignatureMatchesTheSpecification(t *testing.T) {
	cap := &captured{}
	next := engine.CallerFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		cap.reqs, cap.body = append(cap.reqs, r), append(cap.body, b)
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}}, nil
	})
	when := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	s := &Signer{Credentials: staticCreds("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"), Region: "us-east-1", Service: "service",
		Next: next, Now: func() time.Time { return when }}
	body := `{"DatastoreId":"d1","Name":"a b"}`
	req, _ := http.NewRequest("POST", "https://example.amazonaws.com/?MaxResults=10&A=b%20c", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "Service.Op")
	if _, err := s.Do(req); err != nil {
		t.Fatal(err)
	}
	sent := cap.reqs[0]
	if string(cap.body[0]) != body {
		t.Fatalf("the body sent is the body signed: %q", cap.body[0])
	}
	auth := sent.Header.Get("Authorization")
	if !strings.Contains(auth, "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request") {
		t.Fatalf("scope: %s", auth)
	}
	for _, h := range []string{"content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"} {
		if !strings.Contains(auth, h) {
			t.Fatalf("%s must be signed: %s", h, auth)
		}
	}
	if sent.Header.Get("X-Amz-Security-Token") != "session-token" {
		t.Fatal("temporary credentials send their session token")
	}
	want := referenceSignature(sent, cap.body[0], "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service")
	if !strings.HasSuffix(auth, "Signature="+want) {
		t.Fatalf("signature differs from the specification's computation:\n%s\nwant %s", auth, want)
	}
}

func TestRetriesThrottlingWithFreshSignatures(t *testing.T) {
	var mu sync.Mutex
	var sigs []string
	n := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		sigs = append(sigs, r.Header.Get("Authorization")+r.Header.Get("X-Amz-Date"))
		if n < 3 {
			w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
			w.WriteHeader(429)
			io.WriteString(w, `{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}`)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer ts.Close()
	var waits []time.Duration
	clock := time.Now()
	s := &Signer{Credentials: staticCreds("AK", "SK", ""), Region: "us-east-1", Service: "svc", Next: http.DefaultClient, MaxAttempts: 5,
		Now:   func() time.Time { clock = clock.Add(time.Second); return clock },
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	var events []engine.Event
	ctx := engine.WithReporter(context.Background(), func(e engine.Event) { events = append(events, e) })
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL, strings.NewReader("{}"))
	resp, err := s.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("throttled calls are retried until they pass: %v %v", resp, err)
	}
	if n != 3 || len(waits) != 2 || len(events) != 2 || !strings.Contains(events[0].Message, "ThrottlingException: Rate exceeded") {
		t.Fatalf("calls %d waits %v events %v", n, waits, events)
	}
	if sigs[0] == sigs[1] || sigs[1] == sigs[2] {
		t.Fatal("every attempt is signed afresh")
	}

	n = -100 // always throttled
	s.MaxAttempts = 1
	resp, err = s.Do(req.Clone(ctx))
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("MaxAttempts 1 turns retries off: %v %v", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "Rate exceeded") {
		t.Fatal("the error body is still readable by the engine")
	}
}

func TestNonRetryableErrorsAreReturnedAtOnce(t *testing.T) {
	calls := 0
	next := engine.CallerFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 400, Header: http.Header{"X-Amzn-Errortype": {"ValidationException"}}, Body: io.NopCloser(strings.NewReader(`{"message":"bad"}`))}, nil
	})
	s := &Signer{Credentials: staticCreds("AK", "SK", ""), Region: "r", Service: "s", Next: next}
	req, _ := http.NewRequest("POST", "https://x.amazonaws.com/", nil)
	resp, _ := s.Do(req)
	if calls != 1 || resp.StatusCode != 400 {
		t.Fatalf("a ValidationException is not retried: %d calls", calls)
	}
}
