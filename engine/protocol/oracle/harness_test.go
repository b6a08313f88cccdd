package oracle

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/sigv4"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/protocol/awsquery"
	"github.com/arazzo-go/arazzo/engine/protocol/restjson"
	"github.com/arazzo-go/arazzo/engine/protocol/restxml"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/sigv4verify"
)

const (
	accessKey = "AKIAORACLETEST000001"
	secretKey = "oracle/secret"
	region    = "eu-west-1"
)

var creds = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey, Source: "test"}, nil
}))

// wire is one request as it arrived.
type wire struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// recorder captures every request and answers with respond (or 200 {}).
// With a service set it first verifies each request's SigV4 signature
// for that signing name, independently of the SDK's signer, and answers
// 403 to a bad one: both sides' signatures must be valid, not only alike.
type recorder struct {
	mu      sync.Mutex
	reqs    []wire
	service string
	respond func(w http.ResponseWriter, r *http.Request, body []byte)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if rec.service != "" {
		if err := sigv4verify.Check(r, body, secretKey, region, rec.service); err != nil {
			w.WriteHeader(403)
			w.Write([]byte(`{"__type":"InvalidSignatureException","message":"` + err.Error() + `"}`))
			return
		}
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, wire{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	rec.mu.Unlock()
	if rec.respond != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.respond(w, r, body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}"))
}

func (rec *recorder) all() []wire {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]wire(nil), rec.reqs...)
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// runArazzo runs a workflow with every AWS protocol detector and the SigV4
// middleware, every source sent to server.
func runArazzo(t *testing.T, file, workflow string, inputs map[string]any, server string) (*engine.Result, []engine.Event) {
	t.Helper()
	plan, diags := engine.LoadFile(context.Background(), file, &source.Loader{},
		engine.WithProtocols(awsjson.Detect, awsquery.Detect, restxml.Detect, restjson.Detect))
	if plan == nil {
		t.Fatal(diags.Error())
	}
	servers := map[string]string{}
	for _, sd := range plan.Doc.SourceDescriptions {
		servers[sd.Name] = server
	}
	var events []engine.Event
	opts := &engine.Options{Servers: servers, PollInterval: -1,
		Middleware: []engine.Middleware{sigv4.New(sigv4.Config{Credentials: creds, Region: region, MaxAttempts: 1})},
		Observers:  []engine.Observer{engine.ObserverFunc(func(e engine.Event) { events = append(events, e) })}}
	res, err := plan.Run(context.Background(), workflow, inputs, opts)
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	return res, events
}

// notices are the run's notices, one per line.
func notices(events []engine.Event) string {
	var out []string
	for _, e := range events {
		if e.Kind == engine.Notice {
			out = append(out, e.StepID+": "+e.Message)
		}
	}
	return strings.Join(out, "\n")
}

// bodyKind says how to compare bodies.
type bodyKind int

const (
	jsonBody bodyKind = iota
	xmlBody
	formBody
)

// sameWire compares what AWS reads of two requests: arazzo's and the SDK's.
func sameWire(t *testing.T, what string, got, want wire, kind bodyKind) {
	t.Helper()
	if got.Method != want.Method || got.Path != want.Path {
		t.Errorf("%s: %s %s, SDK %s %s", what, got.Method, got.Path, want.Method, want.Path)
	}
	// The SDK adds its own query markers to some operations (S3's x-id);
	// every other member must match.
	wq := url.Values{}
	for k, v := range want.Query {
		if k != "x-id" {
			wq[k] = v
		}
	}
	if len(got.Query) != 0 || len(wq) != 0 {
		if !reflect.DeepEqual(got.Query, wq) {
			t.Errorf("%s: query %v, SDK %v", what, got.Query, wq)
		}
	}
	for _, h := range []string{"X-Amz-Target", "X-Amz-Content-Sha256"} {
		if g, w := got.Header.Get(h), want.Header.Get(h); g != w {
			t.Errorf("%s: %s %q, SDK %q", what, h, g, w)
		}
	}
	if g, w := mediaType(got.Header.Get("Content-Type")), mediaType(want.Header.Get("Content-Type")); g != w && !(g == "" && len(got.Body) == 0) {
		t.Errorf("%s: Content-Type %q, SDK %q", what, got.Header.Get("Content-Type"), want.Header.Get("Content-Type"))
	}
	gs, gsh := authFields(got.Header.Get("Authorization"))
	ws, wsh := authFields(want.Header.Get("Authorization"))
	if gs != ws {
		t.Errorf("%s: credential scope %q, SDK %q", what, gs, ws)
	}
	if !reflect.DeepEqual(gsh, wsh) {
		t.Errorf("%s: signed headers %v, SDK %v", what, gsh, wsh)
	}
	switch kind {
	case jsonBody:
		if !sameJSON(got.Body, want.Body) {
			t.Errorf("%s: body %s, SDK %s", what, got.Body, want.Body)
		}
	case xmlBody:
		if g, w := xmlValue(t, got.Body), xmlValue(t, want.Body); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: XML body %s, SDK %s", what, got.Body, want.Body)
		}
	case formBody:
		g, _ := url.ParseQuery(string(got.Body))
		w, _ := url.ParseQuery(string(want.Body))
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: form body %s, SDK %s", what, got.Body, want.Body)
		}
	}
}

func mediaType(ct string) string {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// authFields reads the credential scope without the date (region/service)
// and the signed headers AWS reads: the SDK's own bookkeeping headers
// (amz-sdk-*, x-amz-user-agent) are left out, and so are the integrity
// headers, where each side picks one AWS accepts: the SDK a CRC32
// checksum, arazzo Content-MD5 (checked on their own).
func authFields(auth string) (string, []string) {
	rest, _ := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	scope, signed := "", []string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) == 5 {
				scope = f[0] + "/" + f[2] + "/" + f[3] + "/" + f[4]
			}
		case "SignedHeaders":
			for _, h := range strings.Split(v, ";") {
				if !strings.HasPrefix(h, "amz-sdk-") && h != "accept-encoding" && h != "x-amz-user-agent" && h != "x-amz-checksum-crc32" && h != "x-amz-sdk-checksum-algorithm" && h != "content-md5" {
					signed = append(signed, h)
				}
			}
		}
	}
	sort.Strings(signed)
	return scope, signed
}

func sameJSON(a, b []byte) bool {
	if len(bytes.TrimSpace(a)) == 0 && len(bytes.TrimSpace(b)) == 0 {
		return true
	}
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// xmlValue is an XML document as nested maps: element names to their
// children (repeated elements in order), text for leaves, the namespace
// kept as a member.
func xmlValue(t *testing.T, data []byte) any {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	type frame struct {
		name     string
		children map[string][]any
		text     strings.Builder
	}
	var stack []*frame
	var root any
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("XML %s: %v", data, err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			f := &frame{name: x.Name.Local, children: map[string][]any{}}
			if x.Name.Space != "" {
				f.children["@xmlns"] = []any{x.Name.Space}
			}
			stack = append(stack, f)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(x)
			}
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var v any = strings.TrimSpace(f.text.String())
			if len(f.children) > 0 {
				v = f.children
			}
			if len(stack) == 0 {
				root = map[string]any{f.name: v}
			} else {
				p := stack[len(stack)-1]
				p.children[f.name] = append(p.children[f.name], v)
			}
		}
	}
	return root
}

// byHeader picks the first request whose header h is v.
func byHeader(t *testing.T, reqs []wire, h, v string) wire {
	t.Helper()
	for _, r := range reqs {
		if r.Header.Get(h) == v {
			return r
		}
	}
	t.Fatalf("no request with %s: %s among %d", h, v, len(reqs))
	return wire{}
}
