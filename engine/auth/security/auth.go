package security

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/expr"
)

// Config is where credentials come from and how time passes.
type Config struct {
	// Layers are searched in order; the first that gives a field wins.
	// x-security values come after all of them.
	Layers []Layer
	// Now is the clock tokens expire by; default time.Now.
	Now func() time.Time
}

// Auth applies security requirements; it is an engine.Middleware and an
// engine.Preparer. One Auth may serve any number of plans and concurrent
// runs: what a run learns (tokens, digest nonces) is kept in the callers
// Wrap returns, which live as long as the run.
type Auth struct {
	cfg   Config
	xsec  sync.Map // *engine.Step → xResult
	certs sync.Map // certKey → certResult
}

// New returns the middleware for cfg.
func New(cfg Config) *Auth {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Auth{cfg: cfg}
}

// need is one scheme to apply, with its credential.
type need struct {
	scheme *Scheme
	fields map[string]string
	scopes []string
}

// secrets are the credential's values that must never be shown.
func (n *need) secrets() []string {
	var out []string
	for _, f := range []string{"key", "password", "token", "clientSecret", "secretAccessKey", "sessionToken"} {
		if v := n.fields[f]; v != "" && !(n.scheme.Kind == MutualTLS && f == "key") {
			out = append(out, v)
		}
	}
	return out
}

// present reports whether a credential is complete enough to apply.
func present(s *Scheme, f map[string]string) bool {
	switch s.Kind {
	case APIKey:
		return f["key"] != ""
	case Basic, Digest:
		return f["username"] != ""
	case Bearer:
		return f["token"] != ""
	case OAuth2:
		if f["token"] != "" {
			return true
		}
		fl := s.Def.Flows
		return (fl.ClientCredentials != nil && f["clientId"] != "") ||
			(fl.Password != nil && f["clientId"] != "" && f["username"] != "" && f["password"] != "")
	case OpenIDConnect:
		return f["token"] != "" || f["clientId"] != ""
	case MutualTLS:
		return f["cert"] != "" && f["key"] != ""
	case SigV4:
		// The sigv4 middleware signs; without credentials here it uses
		// its own (the AWS SDK's chain).
		return true
	}
	return false
}

// choose decides what a step's request needs: its x-security entries, or
// the first of its operation's alternatives whose credentials are present.
// known says whether values reads the step's workflow's inputs (at
// Prepare time only the run's own workflow's are known); when it does
// not, x-security values that are expressions count as present.
func (a *Auth) choose(step *engine.Step, values expr.Context, known bool) ([]need, error) {
	entries, err := a.xSecurity(step)
	if err != nil {
		return nil, err
	}
	var schemes []*Scheme
	var unusable map[string]error
	if step.Source != nil {
		schemes, unusable = Schemes(step.Source)
	}
	if entries != nil {
		return a.xNeeds(step, entries, schemes, values, known)
	}
	reqs := requirements(step.Operation)
	if len(reqs) == 0 {
		return nil, nil
	}
	miss := &MissingError{WorkflowID: step.Workflow.ID, StepID: step.ID, Source: step.Source.Name}
	for _, alt := range reqs {
		needs, missing, err := a.alternative(step, alt, schemes, unusable)
		if err != nil {
			return nil, err
		}
		if len(missing) == 0 {
			return needs, nil
		}
		miss.Alternatives = append(miss.Alternatives, missing)
	}
	return nil, miss
}

// alternative resolves one security requirement object: the needs when
// every scheme has credentials, else the schemes without.
func (a *Auth) alternative(step *engine.Step, alt openapi3.SecurityRequirement, schemes []*Scheme, unusable map[string]error) ([]need, []*Scheme, error) {
	names := make([]string, 0, len(alt))
	for n := range alt {
		names = append(names, n)
	}
	sort.Strings(names)
	var needs []need
	var missing []*Scheme
	for _, name := range names {
		s := find(schemes, name)
		if s == nil {
			if err := unusable[name]; err != nil {
				return nil, nil, fmt.Errorf("operation %s of source %s requires security scheme %q: %v", opName(step), step.Source.Name, name, err)
			}
			return nil, nil, fmt.Errorf("operation %s of source %s requires security scheme %q, which its description does not define", opName(step), step.Source.Name, name)
		}
		f, err := resolve(a.cfg.Layers, s, nil)
		if err != nil {
			return nil, nil, err
		}
		if !present(s, f) {
			missing = append(missing, s)
			continue
		}
		needs = append(needs, need{scheme: s, fields: f, scopes: alt[name]})
	}
	return needs, missing, nil
}

func find(schemes []*Scheme, name string) *Scheme {
	for _, s := range schemes {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func opName(s *engine.Step) string {
	if s.Operation != nil && s.Operation.ID != "" {
		return s.Operation.ID
	}
	if s.Operation != nil {
		return s.Operation.Method + " " + s.Operation.Path
	}
	return s.ID
}

// MissingError is a required security scheme without credentials: every
// alternative the operation allows lacks something.
type MissingError struct {
	WorkflowID, StepID, Source string
	// Alternatives are, for each alternative, the schemes without
	// credentials.
	Alternatives [][]*Scheme
	// Detail replaces the list of what to give (an x-security value).
	Detail string
}

func (e *MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %s of workflow %s (source %s) cannot be sent: ", e.StepID, e.WorkflowID, e.Source)
	if e.Detail != "" {
		b.WriteString(e.Detail)
		return b.String()
	}
	if len(e.Alternatives) > 1 {
		b.WriteString("it needs credentials for one of its security alternatives; ")
	}
	for i, alt := range e.Alternatives {
		if i > 0 {
			b.WriteString("; or ")
		}
		for j, s := range alt {
			if j > 0 {
				b.WriteString(", and ")
			}
			fmt.Fprintf(&b, "no credentials for security scheme %s: %s", s.Describe(), howToGive(s))
		}
	}
	return b.String()
}

// howToGive names the exact flag and environment variable that would
// satisfy a scheme.
func howToGive(s *Scheme) string {
	flag := func(field, form string) string {
		if field == "" {
			return fmt.Sprintf("--auth %s.%s=%s", s.Source, s.Name, form)
		}
		return fmt.Sprintf("--auth %s.%s.%s=%s", s.Source, s.Name, field, form)
	}
	env := func(field string) string { return EnvName(s.Source, s.Name, field) }
	switch s.Kind {
	case OAuth2:
		fl := s.Def.Flows
		switch {
		case fl.ClientCredentials != nil:
		case fl.Password != nil:
			return fmt.Sprintf("give %s %s %s, or set %s, %s and %s", flag("", ValueForm(s.Kind)), flag("username", "USER"), flag("password", "PASSWORD"),
				env(""), env("username"), env("password"))
		default:
			return fmt.Sprintf("arazzo does not run browser flows (authorizationCode, implicit): give a token with %s, or set %s", flag("token", "TOKEN"), env("token"))
		}
	case SigV4:
		return "" // always present
	}
	return fmt.Sprintf("give %s, or set %s", flag("", ValueForm(s.Kind)), env(""))
}

// Prepare checks, before anything is sent, that every step the run can
// reach has the credentials its operation requires, loads client
// certificates, and adds every credential to the run's masking.
func (a *Auth) Prepare(ctx context.Context, scope *engine.RunScope) error {
	var errs []error
	seen := map[string]bool{}
	for _, step := range scope.Steps {
		needs, err := a.choose(step, scope.Values, step.Workflow == scope.Workflow)
		if err != nil {
			if msg := err.Error(); !seen[msg] {
				seen[msg] = true
				errs = append(errs, err)
			}
			continue
		}
		for _, n := range needs {
			scope.AddSecret(n.secrets()...)
			if n.scheme.Kind == MutualTLS {
				if _, err := a.cert(n.fields); err != nil {
					if msg := err.Error(); !seen[msg] {
						seen[msg] = true
						errs = append(errs, fmt.Errorf("source %s, security scheme %s: %w", n.scheme.Source, n.scheme.Describe(), err))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Wrap gives an OpenAPI source a caller that applies its operations'
// security requirements; it keeps the run's tokens and digest nonces.
func (a *Auth) Wrap(src *engine.SourceRef, next engine.Caller) engine.Caller {
	if src.Source == nil || src.Source.OpenAPI == nil {
		return next
	}
	return &caller{a: a, src: src, next: next}
}

// caller applies security to one source's requests in one run.
type caller struct {
	a    *Auth
	src  *engine.SourceRef
	next engine.Caller

	mu        sync.Mutex
	tokens    map[tokenKey]*token
	discovery map[string]*oidcConfig
	digests   map[string]*digestChallenge
	tls       map[string]engine.Caller
}

// Do applies what the request's step needs and sends it, answering a
// digest challenge or refreshing an OAuth token on a 401, once.
func (c *caller) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	call := engine.CallOf(ctx)
	if call == nil || call.Step == nil {
		return c.next.Do(req)
	}
	needs, err := c.a.choose(call.Step, call.Values, true)
	if err != nil {
		return nil, err
	}
	if len(needs) == 0 {
		return c.next.Do(req)
	}
	body, err := bodyOf(req)
	if err != nil {
		return nil, err
	}
	send := c.next
	for _, n := range needs {
		engine.AddSecret(ctx, n.secrets()...)
		if n.scheme.Kind == MutualTLS {
			if send, err = c.tlsCaller(n); err != nil {
				return nil, err
			}
		}
	}
	out, err := c.authorize(ctx, call, req, body, needs, false)
	if err != nil {
		return nil, err
	}
	resp, err := send.Do(out)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// One more try, answering the challenge or with a fresh token.
	retry := false
	for _, n := range needs {
		switch n.scheme.Kind {
		case Digest:
			if ch := pickChallenge(resp.Header); ch != nil {
				c.setDigest(n.scheme, ch)
				retry = true
			}
		case OAuth2, OpenIDConnect:
			if n.fields["token"] == "" {
				retry = true
			}
		}
	}
	if !retry {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	out, err = c.authorize(ctx, call, req, body, needs, true)
	if err != nil {
		return nil, err
	}
	return send.Do(out)
}

// authorize returns a copy of req with every need applied (the engine's
// request, which $request expressions read, is left as it was built).
// refresh fetches new OAuth tokens.
func (c *caller) authorize(ctx context.Context, call *engine.Call, req *http.Request, body []byte, needs []need, refresh bool) (*http.Request, error) {
	out := req.Clone(ctx)
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	for _, n := range needs {
		f := n.fields
		switch n.scheme.Kind {
		case APIKey:
			applyAPIKey(out, n.scheme.Def, f["key"])
		case Basic:
			out.SetBasicAuth(f["username"], f["password"])
			engine.AddSecret(ctx, out.Header.Get("Authorization"), strings.TrimPrefix(out.Header.Get("Authorization"), "Basic "))
		case Bearer:
			out.Header.Set("Authorization", "Bearer "+f["token"])
		case Digest:
			if h := c.digestAuthorization(n.scheme, out.Method, out.URL.RequestURI(), f["username"], f["password"], body); h != "" {
				out.Header.Set("Authorization", h)
			}
		case OAuth2, OpenIDConnect:
			t, err := c.token(ctx, call, n, refresh)
			if err != nil {
				return nil, err
			}
			out.Header.Set("Authorization", "Bearer "+t.access)
		}
	}
	return out, nil
}

func applyAPIKey(r *http.Request, def *openapi3.SecurityScheme, key string) {
	switch def.In {
	case "header":
		r.Header.Set(def.Name, key)
	case "query":
		q := url.QueryEscape(def.Name) + "=" + url.QueryEscape(key)
		if r.URL.RawQuery != "" {
			q = r.URL.RawQuery + "&" + q
		}
		r.URL.RawQuery = q
	case "cookie":
		r.AddCookie(&http.Cookie{Name: def.Name, Value: key})
	}
}

// bodyOf reads a request's body so it can be sent again.
func bodyOf(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// SigV4Keys returns the AWS keys the layers give for a source's SigV4
// scheme (a scheme marked x-amazon-apigateway-authtype: awsSigv4), so a
// program can hand them to the sigv4 middleware: SigV4 credentials come
// from the same flags, file and environment as every other scheme.
func SigV4Keys(layers []Layer, ref *engine.SourceRef) (keyID, secret, session string, ok bool, err error) {
	schemes, _ := Schemes(ref)
	for _, s := range schemes {
		if s.Kind != SigV4 {
			continue
		}
		f, err := resolve(layers, s, nil)
		if err != nil {
			return "", "", "", false, err
		}
		if f["accessKeyId"] != "" && f["secretAccessKey"] != "" {
			return f["accessKeyId"], f["secretAccessKey"], f["sessionToken"], true, nil
		}
	}
	return "", "", "", false, nil
}

// AuthenticateBroker implements engine.BrokerAuthenticator: the broker of
// an AsyncAPI source gets the credential of the first of its server's
// security schemes that has one (--auth SOURCE.SCHEME=USER:PASSWORD or
// =CERT_FILE,KEY_FILE[,CA_FILE] for X509, an --auth-file, the
// environment): a user and password, or TLS with a client certificate. A server that lists schemes but has
// no credential for any is an error that says how to give one.
func (a *Auth) AuthenticateBroker(_ context.Context, src *engine.SourceRef, ep *message.Endpoint) error {
	srv := src.AsyncServer()
	if srv == nil || len(srv.Security) == 0 || ep.Username != "" {
		return nil
	}
	schemes, bad := Schemes(src)
	var wanted []string
	for _, name := range srv.Security {
		s := find(schemes, name)
		if s == nil {
			if err := bad[name]; err != nil {
				return fmt.Errorf("source %s, server %s: scheme %q: %v", src.Name, srv.Name, name, err)
			}
			continue
		}
		f, err := resolve(a.cfg.Layers, s, nil)
		if err != nil {
			return err
		}
		switch {
		case s.Kind == UserPassword && f["username"] != "":
			ep.Username, ep.Password = f["username"], f["password"]
			return nil
		case s.Kind == MutualTLS && present(s, f):
			r, err := a.cert(f)
			if err != nil {
				return fmt.Errorf("security scheme %s: %w", s.Describe(), err)
			}
			ep.TLS = &tls.Config{Certificates: []tls.Certificate{r.cert}, RootCAs: r.pool, MinVersion: tls.VersionTLS12}
			return nil
		}
		wanted = append(wanted, fmt.Sprintf("security scheme %s: %s", s.Describe(), howToGive(s)))
	}
	if len(wanted) == 0 {
		return nil
	}
	return fmt.Errorf("source %s (server %s) cannot be reached without credentials: no credentials for %s", src.Name, srv.Name, strings.Join(wanted, "; or "))
}
