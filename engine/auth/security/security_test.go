package security_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/authserver"
)

// fixture is the test document against a real authserver on loopback.
type fixture struct {
	plan   *engine.Plan
	api    *authserver.Server
	srv    *httptest.Server
	hits   atomic.Int64
	now    time.Time
	mu     sync.Mutex
	events []engine.Event
}

func newFixture(t *testing.T, cfg authserver.Config) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg.Now = f.clock
	f.api = authserver.New(cfg)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.api.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	plan, diags := engine.LoadFile(context.Background(), "testdata/flow.arazzo.yaml", &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	f.plan = plan
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// run runs a workflow with credentials from one --auth-like layer.
func (f *fixture) run(t *testing.T, wf string, creds security.Values, inputs map[string]any, extra ...engine.Observer) (*engine.Result, error) {
	t.Helper()
	auth := security.New(security.Config{Layers: []security.Layer{creds.Layer("--auth")}, Now: f.clock})
	obs := append([]engine.Observer{engine.ObserverFunc(func(e engine.Event) {
		f.mu.Lock()
		f.events = append(f.events, e)
		f.mu.Unlock()
	})}, extra...)
	return f.plan.Run(context.Background(), wf, inputs, &engine.Options{
		Servers:    map[string]string{"items": f.srv.URL, "prices": f.srv.URL},
		Middleware: []engine.Middleware{auth}, Observers: obs, PollInterval: -1, Now: f.clock,
	})
}

// shown is everything the run reported, as JSON.
func (f *fixture) shown(t *testing.T, res *engine.Result, err error) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, _ := json.Marshal(struct {
		Events []engine.Event
		Result *engine.Result
		Err    string
	}{f.events, res, errText(err)})
	return string(data)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func creds(src, scheme, value string, fields ...string) security.Values {
	v := security.Values{src: {scheme: {"": value}}}
	for i := 0; i+1 < len(fields); i += 2 {
		v[src][scheme][fields[i]] = fields[i+1]
	}
	return v
}

// Every scheme, end to end against a server that enforces it; nothing the
// run reports shows a credential, a token or a derived header.
func TestEachSchemeAgainstAServerThatEnforcesIt(t *testing.T) {
	cases := []struct {
		wf    string
		creds security.Values
	}{
		{"oauth", creds("items", "oauth", authserver.ClientID+":"+authserver.ClientSecret)},
		{"oidc", creds("items", "oidc", authserver.ClientID+":"+authserver.ClientSecret)},
		{"password", creds("items", "pw", authserver.ClientID+":"+authserver.ClientSecret, "username", authserver.User, "password", authserver.Password)},
		{"apikey", creds("items", "key", authserver.APIKey)},
		{"apikeyQuery", creds("items", "keyQuery", authserver.APIKey)},
		{"apikeyCookie", creds("items", "keyCookie", authserver.APIKey)},
		{"basic", creds("items", "basic", authserver.User+":"+authserver.Password)},
		{"bearer", creds("items", "bearer", authserver.BearerToken)},
		{"digest", creds("items", "digest", authserver.User+":"+authserver.Password)},
		{"open", security.Values{}},
	}
	for _, c := range cases {
		t.Run(c.wf, func(t *testing.T) {
			f := newFixture(t, authserver.Config{Echo: true})
			res, err := f.run(t, c.wf, c.creds, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, f.shown(t, res, err))
			}
			out := f.shown(t, res, err)
			for _, secret := range []string{authserver.ClientSecret, authserver.Password, authserver.APIKey, authserver.BearerToken} {
				if strings.Contains(out, secret) {
					t.Errorf("the run shows %q:\n%s", secret, out)
				}
			}
			body, _ := res.Outputs["body"].(map[string]any)
			sent, _ := body["sent"].(map[string]any)
			if a, _ := sent["authorization"].(string); strings.HasPrefix(a, "Bearer ") && a != "Bearer "+engine.Mask {
				t.Errorf("the echoed token is shown: %q", a)
			}
		})
	}
}

// The oauth2 token is cached for the run; an expired one is fetched again
// before the request; a 401 fetches a fresh one once.
func TestTokenCachedRefreshedOnExpiryAndOn401(t *testing.T) {
	cc := creds("items", "oauth", authserver.ClientID+":"+authserver.ClientSecret)
	t.Run("cached", func(t *testing.T) {
		f := newFixture(t, authserver.Config{TokenTTL: time.Hour})
		if _, err := f.run(t, "twice", cc, nil); err != nil {
			t.Fatal(err)
		}
		if n := f.api.Stats().Tokens; n != 1 {
			t.Fatalf("%d tokens fetched for two calls, want 1", n)
		}
	})
	t.Run("expired", func(t *testing.T) {
		f := newFixture(t, authserver.Config{TokenTTL: time.Minute})
		advance := afterFirst(func() { f.advance(2 * time.Minute) })
		res, err := f.run(t, "twice", cc, nil, advance)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.api.Stats().Tokens; n != 2 {
			t.Fatalf("%d tokens fetched, want 2 (the first expired)", n)
		}
		if out := f.shown(t, res, err); !strings.Contains(out, "fetched a new OAuth token (it expired)") {
			t.Errorf("no notice of the refresh:\n%s", out)
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		f := newFixture(t, authserver.Config{TokenTTL: time.Minute})
		advance := afterFirst(func() { f.advance(2 * time.Minute) })
		pw := creds("items", "pw", authserver.ClientID+":"+authserver.ClientSecret, "username", authserver.User, "password", authserver.Password)
		if _, err := f.run(t, "twicePassword", pw, nil, advance); err != nil {
			t.Fatal(err)
		}
		if st := f.api.Stats(); st.Tokens != 2 || st.Refreshes != 1 {
			t.Fatalf("stats %+v, want 2 tokens, the second by refresh_token", st)
		}
	})
	t.Run("401", func(t *testing.T) {
		f := newFixture(t, authserver.Config{TokenTTL: time.Hour})
		revoke := afterFirst(f.api.RevokeTokens)
		res, err := f.run(t, "twice", cc, nil, revoke)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.api.Stats().Tokens; n != 2 {
			t.Fatalf("%d tokens fetched, want 2", n)
		}
		if !strings.Contains(f.shown(t, res, err), "the API answered 401") {
			t.Error("no notice of the 401 refresh")
		}
	})
}

// afterFirst calls do between the steps "first" and "second".
func afterFirst(do func()) engine.Observer {
	return engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.StepFinished && e.StepID == "first" {
			do()
		}
	})
}

// A wrong client secret fails the step with the token endpoint's answer,
// and the secret shows nowhere.
func TestWrongSecret(t *testing.T) {
	f := newFixture(t, authserver.Config{})
	wrong := authserver.ClientSecret + "-wrong"
	res, err := f.run(t, "oauth", creds("items", "oauth", authserver.ClientID+":"+wrong), nil)
	if err == nil || res == nil || res.Status != engine.Failed {
		t.Fatalf("res %v, err %v", res, err)
	}
	if !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("error %q does not say invalid_client", err)
	}
	if out := f.shown(t, res, err); strings.Contains(out, wrong) {
		t.Errorf("the wrong secret is shown:\n%s", out)
	}
	if st := f.api.Stats(); st.Refused != 1 {
		t.Errorf("stats %+v: want one refused token request", st)
	}
}

// A scope the client may not have is refused by the token endpoint.
func TestScopeIsChecked(t *testing.T) {
	f := newFixture(t, authserver.Config{Scopes: []string{"items:write"}})
	_, err := f.run(t, "oauth", creds("items", "oauth", authserver.ClientID+":"+authserver.ClientSecret), nil)
	if err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Fatalf("err %v, want invalid_scope", err)
	}
}

// A required scheme without credentials stops the run before anything is
// sent, naming the scheme, the flag and the variable.
func TestMissingCredentialStopsBeforeAnythingIsSent(t *testing.T) {
	cases := map[string][]string{
		"oauth":    {`security scheme "oauth" (oauth2 clientCredentials)`, "--auth items.oauth=CLIENT_ID:CLIENT_SECRET", "ARAZZO_AUTH_ITEMS_OAUTH"},
		"password": {"--auth items.pw.username=USER", "ARAZZO_AUTH_ITEMS_PW_PASSWORD"},
		"browser":  {"does not run browser flows", "--auth items.browser.token=TOKEN", "ARAZZO_AUTH_ITEMS_BROWSER_TOKEN"},
		"bearer":   {"one of its security alternatives", `"basic" (http basic)`, "--auth items.bearer=TOKEN", "ARAZZO_AUTH_ITEMS_BEARER"},
		"mtls":     {"--auth items.mtls=CERT_FILE,KEY_FILE[,CA_FILE]", "ARAZZO_AUTH_ITEMS_MTLS"},
		"digest":   {"--auth items.digest=USER:PASSWORD"},
	}
	for wf, want := range cases {
		t.Run(wf, func(t *testing.T) {
			f := newFixture(t, authserver.Config{})
			res, err := f.run(t, wf, security.Values{}, nil)
			var me *security.MissingError
			if res != nil || !errors.As(err, &me) {
				t.Fatalf("res %v, err %v: want no result and a MissingError", res, err)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if n := f.hits.Load(); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// Two sources with different schemes in one workflow: each gets its own.
func TestTwoSourcesWithDifferentSchemes(t *testing.T) {
	f := newFixture(t, authserver.Config{})
	c := creds("items", "oauth", authserver.ClientID+":"+authserver.ClientSecret)
	c["prices"] = map[string]map[string]string{"priceKey": {"": authserver.APIKey}}
	res, err := f.run(t, "twoSources", c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["name"] != "item-42" {
		t.Errorf("outputs %v", res.Outputs)
	}
}

// x-security: an inline scheme and a named one, values from inputs.
func TestXSecurity(t *testing.T) {
	f := newFixture(t, authserver.Config{Echo: true})
	in := map[string]any{"token": authserver.BearerToken, "key": authserver.APIKey}
	res, err := f.run(t, "xsecurity", security.Values{}, in)
	if err != nil {
		t.Fatalf("%v\n%s", err, f.shown(t, res, err))
	}
	// Without the input, the run stops before sending.
	f2 := newFixture(t, authserver.Config{})
	_, err = f2.run(t, "xsecurity", security.Values{}, map[string]any{"key": authserver.APIKey})
	if err == nil || !strings.Contains(err.Error(), "undefined: $inputs.token") || f2.hits.Load() != 0 {
		t.Fatalf("err %v, %d requests", err, f2.hits.Load())
	}
	// --auth wins over x-security values for a named scheme.
	f3 := newFixture(t, authserver.Config{})
	_, err = f3.run(t, "xsecurity", creds("items", "key", "wrong-key-from-flag"), in)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err %v: the flag's wrong key should have been sent", err)
	}
}

// mutualTLS: a server that requires a client certificate from a test CA
// made here; without the certificate the handshake fails.
func TestMutualTLS(t *testing.T) {
	pki, err := authserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key, err := pki.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, authserver.Config{})
	tlsSrv := httptest.NewUnstartedServer(f.api)
	if tlsSrv.TLS, err = pki.ServerTLS(); err != nil {
		t.Fatal(err)
	}
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	f.srv.URL = tlsSrv.URL
	res, err := f.run(t, "mtls", creds("items", "mtls", cert+","+key+","+ca), nil)
	if err != nil || res.Outputs["body"].(map[string]any)["kind"] != "mtls" {
		t.Fatalf("res %v, err %v", res, err)
	}
	// The CA alone (no client certificate) is refused by the server.
	other, err := authserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, otherCert, otherKey, _ := other.WriteFiles(dir)
	_, err = f.run(t, "mtls", creds("items", "mtls", otherCert+","+otherKey+","+ca), nil)
	if err == nil {
		t.Fatal("a certificate from another CA was accepted")
	}
	// A missing key file stops the run before anything is sent.
	_, err = f.run(t, "mtls", creds("items", "mtls", cert+","+dir+"/nope.pem"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.pem") {
		t.Fatalf("err %v", err)
	}
}

// A wrong digest password: the challenge is answered once, the second
// 401 fails the step.
func TestDigestWrongPassword(t *testing.T) {
	f := newFixture(t, authserver.Config{})
	res, err := f.run(t, "digest", creds("items", "digest", authserver.User+":not-the-password"), nil)
	if err == nil || res.Error.StatusCode != 401 || f.hits.Load() != 2 {
		t.Fatalf("err %v, %d requests (want 401 after one challenge)", err, f.hits.Load())
	}
}
