package engine

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
)

// The state machine decides; it performs nothing. Keeping net/http out of
// its file keeps it that way.
func TestStateMachineImportsNoNetwork(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "machine.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if strings.HasPrefix(p, "net") || p == "os" || p == "math/rand" || strings.Contains(p, "/protocol") {
			t.Errorf("machine.go imports %s", p)
		}
	}
}

// The engine knows HTTP and no vendor: AWS lives in engine/auth/sigv4 and
// engine/protocol/awsjson, broker clients in engine/message's
// sub-packages, Temporal in engine/temporal, none of which the engine
// imports.
func TestEngineLinksNoVendor(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		// Vendors live at the edges: AWS, auth schemes, broker clients and
		// Temporal (package temporal imports the engine, never the reverse).
		if strings.Contains(dep, "aws") || strings.Contains(dep, "/engine/auth") || strings.Contains(dep, "/engine/message/") ||
			strings.Contains(dep, "amqp091") || strings.Contains(dep, "franz-go") || strings.Contains(dep, "nats-io") ||
			strings.Contains(dep, "go.temporal.io") || strings.HasSuffix(dep, "/engine/temporal") {
			t.Errorf("engine depends on %s", dep)
		}
	}
}

const awsJSONAPI = `openapi: 3.0.3
info: {title: rpc, version: '1', x-aws-protocol: awsJson1_0}
servers: [{url: 'https://{host}/', variables: {host: {default: example.invalid}}}]
paths:
  /#X-Amz-Target=Svc.Describe:
    post:
      operationId: Describe
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {'200': {description: ok}}
`

const describeFlow = `
  - workflowId: w
    steps:
      - stepId: d
        operationId: Describe
        requestBody: {contentType: application/json, payload: {Id: x}}
        successCriteria: [{condition: $statusCode == 200}]
`

// A protocol is chosen per source at compile time: without a detector
// the source is plain HTTP; with awsjson.Detect its requests carry the
// protocol's Content-Type and its errors are read by AWS's conventions.
func TestProtocolIsChosenPerSourceAtCompileTime(t *testing.T) {
	var gotCT atomic.Value
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /": func(w http.ResponseWriter, r *http.Request, _ int) {
			gotCT.Store(r.Header.Get("Content-Type"))
			w.Header().Set("X-Amzn-ErrorType", "ThrottlingException:http://internal/")
			w.WriteHeader(400)
			w.Write([]byte(`{"__type":"svc#Other","message":"slow"}`))
		},
	})
	for _, tc := range []struct {
		name     string
		opts     []CompileOption
		protocol string
		ct, code string
	}{
		{"plain", nil, "http", "application/json", "svc#Other"},
		{"awsjson", []CompileOption{WithProtocols(awsjson.Detect)}, "awsJson1_0", "application/x-amz-json-1.0", "ThrottlingException"},
		{"first detector wins", []CompileOption{WithProtocols(func(*source.Source) protocol.Protocol { return nil }, awsjson.Detect, func(*source.Source) protocol.Protocol { return protocol.HTTP })}, "awsJson1_0", "application/x-amz-json-1.0", "ThrottlingException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := loadString(t, awsJSONAPI, describeFlow, tc.opts...)
			if p := plan.Source("api").Protocol.Name(); p != tc.protocol {
				t.Fatalf("protocol %s, want %s", p, tc.protocol)
			}
			_, err := plan.Run(context.Background(), "w", nil, &Options{Servers: map[string]string{"api": ts.URL}, PollInterval: -1})
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("error code: %#v from %v", se, err)
			}
			if got := gotCT.Load(); got != tc.ct {
				t.Fatalf("Content-Type %v, want %s", got, tc.ct)
			}
		})
	}
}

type countingMiddleware struct {
	name  string
	trace *[]string
	wraps *atomic.Int32
	vars  map[string]string
}

func (m countingMiddleware) Wrap(src *SourceRef, next Caller) Caller {
	m.wraps.Add(1)
	return CallerFunc(func(r *http.Request) (*http.Response, error) {
		*m.trace = append(*m.trace, m.name)
		r.Header.Add("X-Through", m.name)
		return next.Do(r)
	})
}

func (m countingMiddleware) ServerVariables(src *SourceRef) map[string]string { return m.vars }

// Middleware wraps each source's caller once per run, the first nearest
// the network; a middleware's server variables are defaults that the
// run's own ServerVariables override.
func TestMiddlewareOrderAndServerVariables(t *testing.T) {
	var host atomic.Value
	var through atomic.Value
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v2/status": func(w http.ResponseWriter, r *http.Request, _ int) {
			host.Store(r.Host)
			through.Store(strings.Join(r.Header.Values("X-Through"), ","))
			writeJSON(w, 200, map[string]any{})
		},
	})
	api := `openapi: 3.1.0
info: {title: t, version: '1'}
servers: [{url: 'http://{addr}/{ver}', variables: {addr: {default: example.invalid}, ver: {default: v1}}}]
paths:
  /status:
    get:
      operationId: getStatus
      responses: {'200': {description: ok}}
`
	plan := loadString(t, api, `
  - workflowId: w
    steps:
      - {stepId: a, operationId: getStatus}
      - {stepId: b, operationId: getStatus}
`)
	addr := strings.TrimPrefix(ts.URL, "http://")
	var trace []string
	var wraps atomic.Int32
	inner := countingMiddleware{name: "inner", trace: &trace, wraps: &wraps, vars: map[string]string{"addr": addr, "ver": "v9"}}
	outer := countingMiddleware{name: "outer", trace: &trace, wraps: &wraps}
	o := &Options{PollInterval: -1, Middleware: []Middleware{inner, outer},
		ServerVariables: map[string]map[string]string{"api": {"ver": "v2"}}}
	if _, err := plan.Run(context.Background(), "w", nil, o); err != nil {
		t.Fatal(err)
	}
	if host.Load() != addr {
		t.Fatalf("the middleware's server variable was not used: host %v", host.Load())
	}
	if got := strings.Join(trace, ","); got != "outer,inner,outer,inner" {
		t.Fatalf("call order %s", got)
	}
	if through.Load() != "outer,inner" || wraps.Load() != 2 {
		t.Fatalf("headers %v, wraps %d (want one wrap per middleware and source)", through.Load(), wraps.Load())
	}
}

// A secret is masked in every encoding it takes on the wire.
func TestRedactorMasksEveryEncoding(t *testing.T) {
	secret := `p@ss "w/rd"+é`
	x := newRedactor([]string{secret, "ab"})
	for _, form := range []string{
		secret,
		"q=p%40ss+%22w%2Frd%22%2B%C3%A9",
		`{"k":"p@ss \"w/rd\"+é"}`,
		"/items/p@ss%20%22w%2Frd%22+%C3%A9",
		"X-Token-B64: cEBzcyAidy9yZCIrw6k=", // the value alone, base64
	} {
		if got := x.String(form); strings.Contains(got, "ss") {
			t.Errorf("%q is shown as %q", form, got)
		}
	}
	if x.String("ab") != "ab" {
		t.Error("values shorter than 4 bytes are not masked")
	}
	h := x.Header(http.Header{"Authorization": {"anything"}, "X-Note": {secret}})
	if h.Get("Authorization") != Mask || h.Get("X-Note") != Mask {
		t.Errorf("headers %v", h)
	}
}
