package security

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/arazzo-go/arazzo/engine"
)

// tokenKey identifies a cached token: the scheme and the scopes asked for.
type tokenKey struct{ scheme, scopes string }

type token struct {
	access, refresh string
	expires         time.Time // zero: the server gave no lifetime
}

// grant is how a token is obtained: the endpoint and the grant type.
type grant struct {
	tokenURL, refreshURL string
	grantType            string // client_credentials or password
}

// token returns the access token for n: the user's own, or one fetched
// with the scheme's flow and cached for the run; a fresh one when refresh
// is set (the API said 401) or the cached one has expired.
func (c *caller) token(ctx context.Context, call *engine.Call, n need, refresh bool) (*token, error) {
	if t := n.fields["token"]; t != "" {
		return &token{access: t}, nil
	}
	scopes := slices.Clone(n.scopes)
	slices.Sort(scopes)
	key := tokenKey{n.scheme.Name, strings.Join(scopes, " ")}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.tokens[key]
	now := c.a.cfg.Now()
	if old != nil && !refresh && (old.expires.IsZero() || now.Before(old.expires)) {
		return old, nil
	}
	g, err := c.grant(ctx, call, n)
	if err != nil {
		return nil, err
	}
	var t *token
	if old != nil && old.refresh != "" {
		// A refresh token is tried first; if the server refuses it, the
		// flow is run again.
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.refresh}}
		u := g.refreshURL
		if u == "" {
			u = g.tokenURL
		}
		t, _ = c.requestToken(ctx, n, u, form)
	}
	if t == nil {
		form := url.Values{"grant_type": {g.grantType}}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		if g.grantType == "password" {
			form.Set("username", n.fields["username"])
			form.Set("password", n.fields["password"])
		}
		if t, err = c.requestToken(ctx, n, g.tokenURL, form); err != nil {
			return nil, err
		}
	}
	if old != nil {
		why := "it expired"
		if refresh {
			why = "the API answered 401"
		}
		engine.Report(ctx, engine.Event{Kind: engine.Notice, Message: fmt.Sprintf("security scheme %s: fetched a new OAuth token (%s)", n.scheme.Describe(), why)})
	}
	if c.tokens == nil {
		c.tokens = map[tokenKey]*token{}
	}
	c.tokens[key] = t
	return t, nil
}

// grant finds the token endpoint and grant type: the password flow when a
// user is given and the scheme has one, else client credentials; for
// openIdConnect, from the discovery document.
func (c *caller) grant(ctx context.Context, call *engine.Call, n need) (grant, error) {
	s, f := n.scheme, n.fields
	user := f["username"] != "" && f["password"] != ""
	if s.Kind == OpenIDConnect {
		d, err := c.discover(ctx, call, s)
		if err != nil {
			return grant{}, err
		}
		g := grant{tokenURL: d.TokenEndpoint, grantType: "client_credentials"}
		if user {
			g.grantType = "password"
		}
		if len(d.GrantTypes) > 0 && !slices.Contains(d.GrantTypes, g.grantType) {
			return grant{}, fmt.Errorf("security scheme %s: the provider does not support the %s grant (it supports %s)", s.Describe(), g.grantType, strings.Join(d.GrantTypes, ", "))
		}
		return g, nil
	}
	fl := s.Def.Flows
	var g grant
	switch {
	case user && fl.Password != nil:
		g = grant{tokenURL: fl.Password.TokenURL, refreshURL: fl.Password.RefreshURL, grantType: "password"}
	case fl.ClientCredentials != nil:
		g = grant{tokenURL: fl.ClientCredentials.TokenURL, refreshURL: fl.ClientCredentials.RefreshURL, grantType: "client_credentials"}
	default:
		return grant{}, fmt.Errorf("security scheme %s: no flow arazzo can run with the credentials given", s.Describe())
	}
	var err error
	if g.tokenURL, err = resolveURL(call.ServerURL, g.tokenURL); err != nil {
		return grant{}, fmt.Errorf("security scheme %s: tokenUrl: %v", s.Describe(), err)
	}
	if g.refreshURL != "" {
		g.refreshURL, _ = resolveURL(call.ServerURL, g.refreshURL)
	}
	return g, nil
}

// resolveURL resolves a description's URL against the source's server
// URL, as OpenAPI says relative URLs are.
func resolveURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if r.IsAbs() {
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil || !b.IsAbs() {
		return "", fmt.Errorf("%q is relative and the source has no absolute server URL", ref)
	}
	return b.ResolveReference(r).String(), nil
}

// requestToken posts a token request, authenticating the client with HTTP
// Basic (RFC 6749 §2.3.1, which every server must accept).
func (c *caller) requestToken(ctx context.Context, n need, tokenURL string, form url.Values) (*token, error) {
	id, secret := n.fields["clientId"], n.fields["clientSecret"]
	if secret == "" {
		form.Set("client_id", id) // a public client names itself in the form
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("security scheme %s: token request: %v", n.scheme.Describe(), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := c.next.Do(req)
	if err != nil {
		return nil, fmt.Errorf("security scheme %s: token request to %s: %w", n.scheme.Describe(), tokenURL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tr struct {
		AccessToken  string      `json:"access_token"`
		TokenType    string      `json:"token_type"`
		ExpiresIn    json.Number `json:"expires_in"`
		RefreshToken string      `json:"refresh_token"`
		Error        string      `json:"error"`
		Description  string      `json:"error_description"`
	}
	jerr := json.Unmarshal(data, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		msg := tr.Error
		if tr.Description != "" {
			msg += ": " + tr.Description
		}
		if msg == "" {
			msg = strings.TrimSpace(string(data))
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
		}
		if jerr == nil && resp.StatusCode == http.StatusOK {
			msg = "the response has no access_token"
		}
		return nil, fmt.Errorf("security scheme %s: the token endpoint %s refused the %s grant: %d %s", n.scheme.Describe(), tokenURL, form.Get("grant_type"), resp.StatusCode, msg)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return nil, fmt.Errorf("security scheme %s: the token endpoint issued a %q token; only bearer tokens are supported", n.scheme.Describe(), tr.TokenType)
	}
	engine.AddSecret(ctx, tr.AccessToken, tr.RefreshToken)
	t := &token{access: tr.AccessToken, refresh: tr.RefreshToken}
	if secs, err := tr.ExpiresIn.Float64(); err == nil && secs > 0 {
		life := time.Duration(secs * float64(time.Second))
		// Renew a little early, so a token does not expire in flight.
		t.expires = c.a.cfg.Now().Add(life - min(life/10, 30*time.Second))
	}
	return t, nil
}

// oidcConfig is what an OpenID Connect discovery document says that we use.
type oidcConfig struct {
	TokenEndpoint string   `json:"token_endpoint"`
	GrantTypes    []string `json:"grant_types_supported"`
}

// discover reads openIdConnectUrl once per run.
func (c *caller) discover(ctx context.Context, call *engine.Call, s *Scheme) (*oidcConfig, error) {
	u, err := resolveURL(call.ServerURL, s.Def.OpenIdConnectUrl)
	if err != nil {
		return nil, fmt.Errorf("security scheme %s: openIdConnectUrl: %v", s.Describe(), err)
	}
	if d, ok := c.discovery[u]; ok {
		return d, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.next.Do(req)
	if err != nil {
		return nil, fmt.Errorf("security scheme %s: discovery at %s: %w", s.Describe(), u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var d oidcConfig
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &d) != nil || d.TokenEndpoint == "" {
		return nil, fmt.Errorf("security scheme %s: discovery at %s gave %d and no token_endpoint", s.Describe(), u, resp.StatusCode)
	}
	if d.TokenEndpoint, err = resolveURL(u, d.TokenEndpoint); err != nil {
		return nil, err
	}
	if c.discovery == nil {
		c.discovery = map[string]*oidcConfig{}
	}
	c.discovery[u] = &d
	return &d, nil
}
