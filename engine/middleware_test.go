package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// hookMiddleware uses every hook middleware.go offers.
type hookMiddleware struct {
	prepared *RunScope
	refuse   error
	seen     []string // step id and server URL of each request
}

func (m *hookMiddleware) Prepare(_ context.Context, s *RunScope) error {
	m.prepared = s
	return m.refuse
}

func (m *hookMiddleware) Wrap(_ *SourceRef, next Caller) Caller {
	return CallerFunc(func(r *http.Request) (*http.Response, error) {
		c := CallOf(r.Context())
		m.seen = append(m.seen, c.Step.ID+" "+c.ServerURL)
		// A credential made during the run: the API echoes it.
		AddSecret(r.Context(), "minted-"+c.Step.ID+"-credential")
		r.Header.Set("X-Minted", "minted-"+c.Step.ID+"-credential")
		return next.Do(r)
	})
}

const hookAPI = `openapi: 3.1.0
info: {title: t, version: '1'}
servers: [{url: 'http://example.invalid/v1'}]
paths:
  /echo:
    get:
      operationId: echo
      responses: {'200': {description: ok}}
`

const hookFlow = `
  - workflowId: main
    steps:
      - stepId: first
        operationId: echo
        outputs: {minted: $response.body#/minted}
      - stepId: call
        workflowId: callee
    outputs: {minted: $steps.first.outputs.minted}
  - workflowId: callee
    steps:
      - {stepId: inner, operationId: echo}
  - workflowId: unreachable
    steps:
      - {stepId: never, operationId: echo}
`

// Middleware learns which step a request is for and the source's base URL,
// adds what it mints to the run's masking (events, outputs, errors), and
// sees, before anything is sent, every step the run can reach.
func TestMiddlewareHooks(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/echo": func(w http.ResponseWriter, r *http.Request, _ int) {
			writeJSON(w, 200, map[string]any{"minted": r.Header.Get("X-Minted")})
		},
	})
	plan := loadString(t, hookAPI, hookFlow)
	m := &hookMiddleware{}
	var shown strings.Builder
	o := &Options{PollInterval: -1, Middleware: []Middleware{m}, Servers: map[string]string{"api": ts.URL + "/v1"},
		Observers: []Observer{ObserverFunc(func(e Event) { json.NewEncoder(&shown).Encode(e) })}}
	res, err := plan.Run(context.Background(), "main", nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.seen, ","); got != "first "+ts.URL+"/v1,inner "+ts.URL+"/v1" {
		t.Errorf("the middleware saw %s", got)
	}
	var ids []string
	for _, s := range m.prepared.Steps {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "first,inner" || m.prepared.Workflow.ID != "main" {
		t.Errorf("Prepare saw steps %v of %s", ids, m.prepared.Workflow.ID)
	}
	if strings.Contains(shown.String(), "minted-") || res.Outputs["minted"] != Mask {
		t.Errorf("a minted credential is shown: outputs %v\n%s", res.Outputs, shown.String())
	}

	// A Preparer's objection: no result, nothing sent.
	before := ts.count("GET /v1/echo")
	m.refuse = errors.New("no credentials")
	res, err = plan.Run(context.Background(), "main", nil, o)
	if res != nil || err == nil || err.Error() != "no credentials" || ts.count("GET /v1/echo") != before {
		t.Fatalf("res %v, err %v, %d requests", res, err, ts.count("GET /v1/echo")-before)
	}
}

// WithTLS copies the default caller with a transport of its own and
// refuses callers it cannot configure.
func TestWithTLS(t *testing.T) {
	base := NewHTTPClient(0)
	c, err := WithTLS(base, func(cfg *tls.Config) { cfg.ServerName = "example.test" })
	if err != nil {
		t.Fatal(err)
	}
	hc := c.(*http.Client)
	if hc == base || hc.Transport.(*http.Transport).TLSClientConfig.ServerName != "example.test" || base.Transport != nil {
		t.Fatal("the copy shares or lacks its TLS configuration")
	}
	if hc.CheckRedirect == nil {
		t.Error("the copy lost the redirect policy")
	}
	if _, err := WithTLS(CallerFunc(http.DefaultClient.Do), func(*tls.Config) {}); err == nil {
		t.Error("a CallerFunc cannot take a TLS configuration")
	}
}
