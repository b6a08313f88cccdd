package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Run tests of what Arazzo 1.1 adds, each over real HTTP on loopback
// against handlers that check what they receive.

const header11 = "arazzo: 1.1.0\ninfo: {title: test, version: '1'}\n"

// load11 writes the document (and extra files) into a temp dir beside the
// OpenAPI 3.2 test description and compiles it.
func load11(t *testing.T, doc string, extra map[string]string) (*Plan, diag.List) {
	t.Helper()
	dir := t.TempDir()
	api, err := os.ReadFile("testdata/testapi32.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"testapi.openapi.yaml": string(api), "test.arazzo.yaml": doc}
	for k, v := range extra {
		files[k] = v
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return LoadFile(context.Background(), filepath.Join(dir, "test.arazzo.yaml"), &source.Loader{})
}

func compile11(t *testing.T, workflows string) *Plan {
	t.Helper()
	doc := header11 + "sourceDescriptions:\n  - name: api\n    url: ./testapi.openapi.yaml\n    type: openapi\nworkflows:\n" + workflows
	plan, diags := load11(t, doc, nil)
	if plan == nil {
		t.Fatalf("document does not compile:\n%s\n%s", diags.Error(), doc)
	}
	return plan
}

func TestQuerystringParameters(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /v1/search": func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.URL.RawQuery != "category=toys&limit=5&inStock=true" {
				writeJSON(w, 400, map[string]string{"got": r.URL.RawQuery})
				return
			}
			writeJSON(w, 200, map[string]any{"n": 1})
		},
		"GET /v1/find": func(w http.ResponseWriter, r *http.Request, _ int) {
			// The JSON media type: the whole query is the escaped JSON text.
			if raw, err := url.QueryUnescape(r.URL.RawQuery); err != nil || raw != `{"status":"active"}` || strings.ContainsAny(r.URL.RawQuery, `{"}`) {
				writeJSON(w, 400, map[string]string{"got": r.URL.RawQuery})
				return
			}
			writeJSON(w, 200, map[string]any{"n": 2})
		},
	})
	plan := compile11(t, `
  - workflowId: w
    inputs: {type: object, properties: {category: {type: string}}}
    steps:
      - stepId: form
        operationId: search
        parameters:
          - name: q
            in: querystring
            value: "category={$inputs.category}&limit=5&inStock=true"
      - stepId: json
        operationId: find
        parameters:
          - name: filter
            in: querystring
            value: '{"status":"active"}'
`)
	if _, err := plan.Run(context.Background(), "w", map[string]any{"category": "toys"}, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestStepTimeoutFailsAndOnFailureDecides(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			select { // the first call hangs until the client gives up
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Second):
			}
		}
		writeJSON(w, 200, map[string]int{"call": n})
	}
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"GET /v1/slow": slow})
	plan := compile11(t, `
  - workflowId: retried
    steps:
      - stepId: s
        operationId: slow
        timeout: 100
        onFailure:
          - {name: again, type: retry, retryLimit: 1}
        outputs: {call: $response.body#/call}
    outputs: {call: $steps.s.outputs.call}
  - workflowId: unhandled
    steps:
      - stepId: s
        operationId: slow
        timeout: 100
`)
	start := time.Now()
	res, err := plan.Run(context.Background(), "retried", nil, testOptions(ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["call"] != json.Number("2") || res.Steps[0].Runs != 2 {
		t.Fatalf("outputs %v, steps %+v", res.Outputs, res.Steps[0])
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("the timeout did not cut the first call short")
	}
	ts2 := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"GET /v1/slow": slow})
	_, err = plan.Run(context.Background(), "unhandled", nil, testOptions(ts2, nil))
	var te *StepTimeoutError
	if !errors.As(err, &te) || te.Timeout != 100*time.Millisecond || !strings.Contains(err.Error(), "timed out after 100ms") {
		t.Fatalf("err %v", err)
	}
}

func TestStepDependsOnOrdersExplicitAndImplicit(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/login": jsonHandler(200, `{"token":"t-1"}`),
		"GET /v1/orders": func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.Header.Get("Authorization") != "Bearer t-1" {
				writeJSON(w, 401, map[string]string{"error": "no token"})
				return
			}
			writeJSON(w, 200, []any{map[string]any{"id": 7}})
		},
		"POST /v1/notify": func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(204) },
	})
	plan := compile11(t, `
  - workflowId: w
    steps:
      - stepId: orders
        operationId: listOrders
        dependsOn: [login]
        parameters:
          - {name: Authorization, in: header, value: "Bearer {$steps.login.outputs.token}"}
      - stepId: notify
        operationId: notify
        parameters:
          - {name: who, in: query, value: $steps.audit.outputs.who}
      - stepId: login
        operationId: login
        outputs: {token: $response.body#/token}
      - stepId: audit
        operationId: login
        outputs: {who: $response.body#/token}
`)
	if _, err := plan.Run(context.Background(), "w", nil, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range ts.requests() {
		order = append(order, r.Method+" "+r.Path+"?"+r.Query)
	}
	want := []string{"POST /v1/login?", "GET /v1/orders?", "POST /v1/login?", "POST /v1/notify?who=t-1"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
}

func TestDependsOnAcrossWorkflowsAndDocuments(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/login": jsonHandler(200, `{"token":"t-1"}`),
		"GET /v1/slow":   jsonHandler(200, `{}`),
	})
	sub := header11 + `sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
workflows:
  - workflowId: remote
    steps:
      - {stepId: auth, operationId: login}
`
	doc := header11 + `sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
  - {name: sub, url: ./sub.arazzo.yaml, type: arazzo}
workflows:
  - workflowId: first
    steps:
      - {stepId: auth, operationId: login}
  - workflowId: local
    dependsOn: [first]
    steps:
      - stepId: after
        operationId: slow
        dependsOn: [$workflows.first.steps.auth]
  - workflowId: crossdoc
    steps:
      - {stepId: call, workflowId: $sourceDescriptions.sub.remote}
      - stepId: after
        operationId: slow
        dependsOn: [$sourceDescriptions.sub.remote.steps.auth]
  - workflowId: missing
    steps:
      - stepId: after
        operationId: slow
        dependsOn: [$workflows.first.steps.auth]
`
	plan, diags := load11(t, doc, map[string]string{"sub.arazzo.yaml": sub})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	for _, wf := range []string{"local", "crossdoc"} {
		if _, err := plan.Run(context.Background(), wf, nil, testOptions(ts, nil)); err != nil {
			t.Fatalf("%s: %v", wf, err)
		}
	}
	before := ts.count("GET /v1/slow")
	_, err := plan.Run(context.Background(), "missing", nil, testOptions(ts, nil))
	var de *StepDependencyError
	if !errors.As(err, &de) || de.Dependency != "$workflows.first.steps.auth" {
		t.Fatalf("err %v", err)
	}
	if ts.count("GET /v1/slow") != before {
		t.Fatal("a step whose dependency has not run was sent")
	}
}

func TestForwardReferenceWithoutDependsOnIsReported(t *testing.T) {
	doc := header11 + `sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
workflows:
  - workflowId: w
    steps:
      - stepId: orders
        operationId: listOrders
        parameters:
          - {name: Authorization, in: header, value: $steps.login.outputs.token}
      - stepId: login
        operationId: login
        outputs: {token: $response.body#/token}
  - workflowId: cycle
    steps:
      - {stepId: a, operationId: login, dependsOn: [b]}
      - {stepId: b, operationId: login, dependsOn: [a]}
`
	_, diags := load11(t, doc, nil)
	got := diags.Error()
	for _, want := range []string{"[forward-reference]", "add dependsOn: [login] to step \"orders\"", "[depends-on-cycle]"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

func TestSelectorObjectsEverywhere(t *testing.T) {
	invoice := `<Invoice><Header><InvoiceNumber>INV-42</InvoiceNumber></Header><Lines><Line sku="a"/><Line sku="b"/></Lines></Invoice>`
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/login": jsonHandler(200, `{"user":{"token":"t-9","roles":["admin","ops"]},"items":[{"sku":"ABC","qty":1},{"sku":"XYZ","qty":2}]}`),
		"GET /v1/invoice": func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, invoice)
		},
		"POST /v1/orders": func(w http.ResponseWriter, r *http.Request, _ int) {
			body, _ := io.ReadAll(r.Body)
			want := `{"invoice":"INV-42","items":[{"qty":1,"sku":"ABC"},{"qty":99,"sku":"XYZ"}],"lines":2,"role":"ops"}`
			if r.Header.Get("X-Order") != "t-9" || string(body) != want {
				writeJSON(w, 400, map[string]string{"header": r.Header.Get("X-Order"), "body": string(body)})
				return
			}
			writeJSON(w, 201, map[string]any{"order": map[string]any{"id": 5}})
		},
	})
	plan := compile11(t, `
  - workflowId: w
    steps:
      - stepId: login
        operationId: login
        outputs:
          payload: $response.body
          token:
            context: $response.body
            selector: $.user.token
            type: jsonpath
      - stepId: invoice
        operationId: getInvoice
        outputs:
          xml: $response.body
      - stepId: order
        operationId: createOrder
        parameters:
          - name: X-Order
            in: header
            value: {context: $steps.login.outputs.payload, selector: /user/token, type: jsonpointer}
        requestBody:
          contentType: application/json
          payload:
            invoice:
              context: $steps.invoice.outputs.xml
              selector: /Invoice/Header/InvoiceNumber
              type: {type: xpath, version: xpath-30}
            lines:
              context: $steps.invoice.outputs.xml
              selector: count(//Line)
              type: {type: xpath, version: xpath-10}
            role: {context: $steps.login.outputs.payload, selector: "$.user.roles[1]", type: {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}}
            items: $steps.login.outputs.payload#/items
          replacements:
            - target: $.items[?@.sku=='XYZ'].qty
              targetSelectorType: jsonpath
              value: {context: $inputs.patch, selector: $.qty, type: jsonpath}
        outputs:
          id: {context: $response.body, selector: /order/id, type: jsonpointer}
    inputs: {type: object, properties: {patch: {type: object}}}
    outputs:
      token: $steps.login.outputs.token
      id: $steps.order.outputs.id
`)
	res, err := plan.Run(context.Background(), "w", map[string]any{"patch": map[string]any{"qty": 99}}, testOptions(ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"token": "t-9", "id": json.Number("5")}; !reflect.DeepEqual(res.Outputs, want) {
		t.Fatalf("outputs %#v", res.Outputs)
	}
}

func TestCriteriaByExpressionTypeAndTruthiness(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/login": jsonHandler(200, `{"id":"ord-17","pets":[{"name":"rex","status":"sold"}],"empty":[]}`),
		"GET /v1/invoice": func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<r><pet>rex</pet><pet>tom</pet></r>`)
		},
		"POST /v1/notify": func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(204) },
	})
	plan := compile11(t, `
  - workflowId: pass
    inputs: {type: object, properties: {prefix: {type: string}, status: {type: string}}}
    steps:
      - stepId: s
        operationId: login
        successCriteria:
          - {context: $response.body, condition: "$.pets[?@.status == '{$inputs.status}']", type: jsonpath}
          - {context: $response.body, condition: "$.pets[*]", type: {type: jsonpath, version: rfc9535}}
          - {context: $response.body, condition: "$.pets[0].name == 'rex'", type: {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}}
          - {context: $response.body#/id, condition: '^{$inputs.prefix}-\d+$', type: regex}
      - stepId: x
        operationId: getInvoice
        successCriteria:
          - {context: $response.body, condition: count(/r/pet) = 2, type: {type: xpath, version: xpath-10}}
          - {context: $response.body, condition: /r/pet, type: xpath}
  - workflowId: emptylist
    steps:
      - stepId: s
        operationId: login
        successCriteria:
          - {context: $response.body, condition: "$.empty[*]", type: jsonpath}
        onFailure:
          - {name: tell, type: goto, stepId: told}
      - stepId: unreached
        operationId: login
      - stepId: told
        operationId: notify
  - workflowId: xpath31
    steps:
      - stepId: s
        operationId: getInvoice
        successCriteria:
          - {context: $response.body, condition: "count(/r/pet) eq 2", type: xpath}
`)
	res, err := plan.Run(context.Background(), "pass", map[string]any{"prefix": "ord", "status": "sold"}, testOptions(ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Succeeded {
		t.Fatal(res.Status)
	}
	// An empty nodelist fails the criterion, and onFailure decides.
	if _, err := plan.Run(context.Background(), "emptylist", nil, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
	if ts.count("POST /v1/notify") != 1 || ts.count("POST /v1/login") != 2 {
		t.Fatalf("hits %v", ts.hits)
	}
	// XPath 3.1 (the 1.1 default) is refused before anything is sent.
	before := ts.count("GET /v1/invoice")
	_, err = plan.Run(context.Background(), "xpath31", nil, testOptions(ts, nil))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "XPath xpath-31 is not supported") {
		t.Fatalf("err %v", err)
	}
	if ts.count("GET /v1/invoice") != before {
		t.Fatal("an unsupported workflow sent a request")
	}
}

func TestSelfIsTheBaseURIAndAnExpression(t *testing.T) {
	api, err := os.ReadFile("testdata/testapi32.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ts *testServer
	ts = newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"GET /specs/api.yaml": func(w http.ResponseWriter, _ *http.Request, _ int) {
			// The description names the same loopback server.
			io.WriteString(w, strings.Replace(string(api), "https://api.invalid/v1", ts.URL+"/v1", 1))
		},
		"POST /v1/notify": func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.URL.Query().Get("who") != ts.URL+"/workflows/purchase.arazzo.yaml" {
				writeJSON(w, 400, map[string]string{"who": r.URL.Query().Get("who")})
				return
			}
			w.WriteHeader(204)
		},
	})
	// Retrieved from a temp dir, identified by $self on the server: the
	// relative source resolves against $self (Appendix B, first case).
	dir := t.TempDir()
	doc := header11 + "$self: " + ts.URL + "/workflows/purchase.arazzo.yaml\n" + `sourceDescriptions:
  - {name: api, url: ../specs/api.yaml, type: openapi}
workflows:
  - workflowId: w
    steps:
      - stepId: s
        operationId: notify
        parameters: [{name: who, in: query, value: $self}]
    outputs: {self: $self}
`
	path := filepath.Join(dir, "local.arazzo.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, diags := LoadFile(context.Background(), path, &source.Loader{AllowRemote: true, AllowPrivate: true})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	res, err := plan.Run(context.Background(), "w", nil, &Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["self"] != ts.URL+"/workflows/purchase.arazzo.yaml" || ts.count("GET /specs/api.yaml") != 1 {
		t.Fatalf("outputs %v, hits %v", res.Outputs, ts.hits)
	}
}

// The cases of the 1.1 specification's Appendix B.
func TestBaseURIAppendixB(t *testing.T) {
	tests := []struct{ name, retrieval, self, ref, want string }{
		{"$self within content", "file:///Users/dev/projects/workflows/purchase.arazzo.yaml", "https://api.example.com/workflows/purchase.arazzo.yaml", "../specs/petstore.yaml", "https://api.example.com/specs/petstore.yaml"},
		{"retrieval URI, no $self", "file:///Users/dev/projects/workflows/purchase.arazzo.yaml", "", "../specs/petstore.yaml", "/Users/dev/projects/specs/petstore.yaml"},
		{"encapsulating entity", "https://api.example.com/workflows/purchase.arazzo.json", "", "../specs/petstore.json", "https://api.example.com/specs/petstore.json"},
		{"application default", "https://workflows.example.com/a7b3c4d5", "", "specs/petstore.yaml", "https://workflows.example.com/specs/petstore.yaml"},
		{"relative $self", "https://api.example.com/v2/api-description.yaml", "workflows/purchase.arazzo.yaml", "../specs/petstore.yaml", "https://api.example.com/v2/specs/petstore.yaml"},
		{"identity vs location", "https://cdn.example.com/cache/abc123.yaml", "https://workflows.example.com/canonical/purchase.arazzo.yaml", "other.yaml", "https://workflows.example.com/canonical/other.yaml"},
	}
	for _, tt := range tests {
		base := resolveBase(tt.retrieval, tt.self)
		got, err := source.Resolve(base, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q (%v), want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestActionParametersAreTargetInputs(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/login": jsonHandler(200, `{"token":"t-3"}`),
		"GET /v1/slow": func(w http.ResponseWriter, _ *http.Request, n int) {
			writeJSON(w, 503, map[string]int{"n": n})
		},
		"POST /v1/notify": func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.URL.Query().Get("who") != "t-3" {
				writeJSON(w, 400, map[string]string{"who": r.URL.Query().Get("who")})
				return
			}
			w.WriteHeader(204)
		},
	})
	plan := compile11(t, `
  - workflowId: main
    steps:
      - stepId: login
        operationId: login
        outputs: {token: $response.body#/token}
        onSuccess:
          - name: hand-over
            type: goto
            workflowId: tell
            parameters:
              - {name: who, value: $steps.login.outputs.token}
  - workflowId: viaRetry
    steps:
      - stepId: login
        operationId: login
        outputs: {token: $response.body#/token}
      - stepId: flaky
        operationId: slow
        onFailure:
          - name: tell-then-retry
            type: retry
            retryLimit: 1
            workflowId: tell
            parameters:
              - {name: who, value: $steps.login.outputs.token}
  - workflowId: tell
    inputs: {type: object, required: [who], properties: {who: {type: string}}}
    steps:
      - stepId: n
        operationId: notify
        parameters: [{name: who, in: query, value: $inputs.who}]
`)
	if _, err := plan.Run(context.Background(), "main", nil, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
	_, err := plan.Run(context.Background(), "viaRetry", nil, testOptions(ts, nil))
	if err == nil || ts.count("POST /v1/notify") != 2 || ts.count("GET /v1/slow") != 2 {
		t.Fatalf("err %v, hits %v", err, ts.hits)
	}
}

func TestAsyncAPIStepsWithoutTransportValidateButDoNotRun(t *testing.T) {
	async, err := os.ReadFile(filepath.Join(spec11Dir, "examples", "pet-asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"POST /v1/login": jsonHandler(200, `{}`)})
	doc := header11 + `sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
  - {name: orders, url: ./pet-asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: w
    steps:
      - {stepId: first, operationId: login}
      - stepId: place
        operationId: $sourceDescriptions.orders.placeOrder
        action: send
        requestBody: {payload: {petId: 1}}
      - stepId: confirm
        channelPath: '{$sourceDescriptions.orders.url}#/channels/confirm-order'
        action: receive
        correlationId: $inputs.id
        dependsOn: [place]
        timeout: 6000
        outputs: {orderId: $message.payload#/orderId}
    inputs: {type: object, properties: {id: {type: string}}}
`
	plan, diags := load11(t, doc, map[string]string{"pet-asyncapi.yaml": string(async)})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	if got := render(diags, ""); !strings.Contains(got, "warning: source \"orders\" speaks protocol kafka, for which this program has no transport (it has: none)") {
		t.Fatalf("no warning about the AsyncAPI steps:\n%s", got)
	}
	_, err = plan.Run(context.Background(), "w", nil, testOptions(ts, nil))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "step place: source \"orders\" speaks protocol kafka") || !strings.Contains(err.Error(), "step confirm") {
		t.Fatalf("err %v", err)
	}
	if len(ts.requests()) != 0 {
		t.Fatal("a refused run sent requests")
	}
}

func TestOneOneFeaturesIn10DocumentsPointToUpgrade(t *testing.T) {
	doc := `arazzo: 1.0.1
$self: https://example.com/a.arazzo.yaml
info: {title: t, version: '1'}
sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
workflows:
  - workflowId: w
    steps:
      - stepId: s
        operationId: search
        timeout: 10
        parameters:
          - {name: q, in: querystring, value: a=1}
        outputs:
          x: {context: $response.body, selector: $.a, type: jsonpath}
          y: $self
`
	_, diags := load11(t, doc, nil)
	got := diags.Error()
	for _, want := range []string{
		"test.arazzo.yaml:2:1: error: the $self field is an Arazzo 1.1 feature, but this document declares arazzo: 1.0.1; run `arazzo upgrade",
		"test.arazzo.yaml:11:9: error: the timeout field is an Arazzo 1.1 feature",
		"test.arazzo.yaml:13:27: error: in: querystring is an Arazzo 1.1 feature",
		"test.arazzo.yaml:15:14: error: a Selector Object is an Arazzo 1.1 feature",
		"$self is an Arazzo 1.1 expression",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

// The Go API treats both versions alike: the same workflow declared as
// 1.0.1 and as 1.1.0 compiles, dry-runs and runs to the same results, with
// the same events.
func TestSameWorkflowOnBothVersions(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/login": jsonHandler(200, `{"token":"t-5","state":"done"}`),
		"GET /v1/orders": func(w http.ResponseWriter, r *http.Request, n int) {
			if r.Header.Get("Authorization") != "t-5" {
				writeJSON(w, 401, map[string]string{"error": "no token"})
				return
			}
			writeJSON(w, 200, map[string]any{"orders": []any{map[string]any{"id": n}}})
		},
	})
	body := `
sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
workflows:
  - workflowId: w
    steps:
      - stepId: login
        operationId: login
        successCriteria:
          - {context: $response.body, condition: "$.state == 'done'", type: jsonpath}
        outputs: {token: $response.body#/token}
      - stepId: orders
        operationId: listOrders
        parameters: [{name: Authorization, in: header, value: $steps.login.outputs.token}]
        successCriteria:
          - {context: $response.body, condition: "$.orders[?@.id == 1]", type: jsonpath}
        outputs: {first: $response.body#/orders/0/id}
    outputs: {first: $steps.orders.outputs.first}
`
	type outcome struct {
		Dry    []DryRequest
		Status Status
		Out    map[string]any
		Events []string
	}
	var got []outcome
	for _, v := range []string{"1.0.1", "1.1.0"} {
		plan, diags := load11(t, "arazzo: "+v+"\ninfo: {title: t, version: '1'}\n"+body, nil)
		if plan == nil {
			t.Fatalf("%s: %s", v, diags.Error())
		}
		o := testOptions(ts, nil)
		dry, err := plan.DryRun(context.Background(), "w", nil, o)
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		o.Observers = []Observer{ObserverFunc(func(e Event) {
			events = append(events, string(e.Kind)+" "+e.StepID+" "+e.Criterion+" "+e.Message)
		})}
		ts.mu.Lock()
		ts.hits = map[string]int{}
		ts.mu.Unlock()
		res, err := plan.Run(context.Background(), "w", nil, o)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		got = append(got, outcome{dry, res.Status, res.Outputs, events})
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Fatalf("1.0 and 1.1 differ:\n%+v\n%+v", got[0], got[1])
	}
	if got[0].Out["first"] != json.Number("1") {
		t.Fatalf("outputs %v", got[0].Out)
	}
}

// A 1.1 reference by identity: a source whose absolute URL is the $self of
// a document already loaded is that document, read where it was found and
// not fetched; a document that names the entry document by its $self is a
// cycle.
func TestSourcesResolveBySelfIdentity(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){"POST /v1/login": jsonHandler(200, `{}`)})
	dir := t.TempDir()
	api, _ := os.ReadFile("testdata/testapi32.openapi.yaml")
	sub := header11 + `$self: https://example.com/wf/sub.arazzo.yaml
sourceDescriptions:
  - {name: api, url: file://` + filepath.ToSlash(dir) + `/testapi.openapi.yaml, type: openapi}
workflows:
  - workflowId: remote
    steps:
      - {stepId: auth, operationId: login}
`
	main := header11 + `$self: https://example.com/wf/main.arazzo.yaml
sourceDescriptions:
  - {name: sub, url: file://` + filepath.ToSlash(dir) + `/sub.arazzo.yaml, type: arazzo}
  - {name: again, url: https://example.com/wf/sub.arazzo.yaml, type: arazzo}
workflows:
  - workflowId: w
    steps:
      - {stepId: call, workflowId: $sourceDescriptions.again.remote}
`
	loop := header11 + `$self: https://example.com/wf/loop.arazzo.yaml
sourceDescriptions:
  - {name: back, url: file://` + filepath.ToSlash(dir) + `/back.arazzo.yaml, type: arazzo}
workflows:
  - workflowId: w
    steps:
      - {stepId: call, workflowId: $sourceDescriptions.back.b}
`
	back := header11 + `sourceDescriptions:
  - {name: loop, url: https://example.com/wf/loop.arazzo.yaml, type: arazzo}
workflows:
  - workflowId: b
    steps:
      - {stepId: call, workflowId: $sourceDescriptions.loop.w}
`
	for name, text := range map[string]string{"testapi.openapi.yaml": string(api), "sub.arazzo.yaml": sub, "main.arazzo.yaml": main, "loop.arazzo.yaml": loop, "back.arazzo.yaml": back} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan, diags := LoadFile(context.Background(), filepath.Join(dir, "main.arazzo.yaml"), &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	if got := plan.Source("again").Location; got != filepath.Join(dir, "sub.arazzo.yaml") {
		t.Fatalf("again is read from %s", got)
	}
	if _, err := plan.Run(context.Background(), "w", nil, &Options{Servers: map[string]string{"api": ts.URL + "/v1"}}); err != nil {
		t.Fatal(err)
	}
	if ts.count("POST /v1/login") != 1 {
		t.Fatal("the workflow of the source found by identity did not run")
	}
	_, diags = LoadFile(context.Background(), filepath.Join(dir, "loop.arazzo.yaml"), &source.Loader{})
	if !strings.Contains(diags.Error(), "[source-cycle]") {
		t.Fatalf("no cycle reported:\n%s", diags.Error())
	}
}

func TestParameterLocationChecks11(t *testing.T) {
	doc := header11 + `sourceDescriptions:
  - {name: api, url: ./testapi.openapi.yaml, type: openapi}
workflows:
  - workflowId: w
    steps:
      - stepId: s
        operationId: search
        parameters:
          - {name: q, in: querystring, value: a=1}
          - {name: extra, in: query, value: b}
          - {name: topic, in: channel, value: c}
`
	_, diags := load11(t, doc, nil)
	got := render(diags, "")
	for _, want := range []string{"warning: step \"s\" sends a querystring parameter with 1 other", "error: parameter \"topic\": in: channel is for AsyncAPI steps"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

func TestXMLReplacementTargetsAndTimedWorkflowCall(t *testing.T) {
	ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
		"POST /v1/xml": func(w http.ResponseWriter, r *http.Request, _ int) {
			body, _ := io.ReadAll(r.Body)
			if string(body) != `<order><line>1</line><line>9</line><who>ann</who></order>` {
				writeJSON(w, 400, map[string]string{"body": string(body)})
				return
			}
			writeJSON(w, 200, map[string]string{})
		},
		"GET /v1/slow": func(w http.ResponseWriter, r *http.Request, _ int) {
			<-r.Context().Done() // never answers in time
		},
	})
	plan := compile11(t, `
  - workflowId: xml
    inputs: {type: object, properties: {who: {type: string}}}
    steps:
      - stepId: post
        operationId: postXML
        requestBody:
          contentType: application/xml
          payload: <order><line>1</line><line>2</line><who>?</who></order>
          replacements:
            - target: /order/line[last()]
              targetSelectorType: {type: xpath, version: xpath-10}
              value: '9'
            - target: /order/who
              value: $inputs.who
  - workflowId: caller
    steps:
      - stepId: call
        workflowId: slowly
        timeout: 100
        onFailure:
          - {name: give-up, type: end}
  - workflowId: slowly
    steps:
      - {stepId: s, operationId: slow}
`)
	if _, err := plan.Run(context.Background(), "xml", map[string]any{"who": "ann"}, testOptions(ts, nil)); err != nil {
		t.Fatal(err)
	}
	// A workflow-call step's timeout covers the whole called workflow; the
	// end action decides, so the failure is the timed-out step's.
	start := time.Now()
	res, err := plan.Run(context.Background(), "caller", nil, testOptions(ts, nil))
	var te *StepTimeoutError
	if !errors.As(err, &te) || te.StepID != "call" || res.Status != Failed || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v, result %+v", err, res)
	}
}
