// Package authserver is a local API that really enforces every OpenAPI
// security scheme arazzo applies, with the OAuth 2.0 token endpoint and
// OpenID Connect discovery document they need. The auth example
// (`arazzo run examples/auth/shop.arazzo.yaml --emulate auth`), the
// engine's tests of engine/auth/security and the CLI's scripts use it; no
// account and no network are needed.
//
// Resources are GET /{kind}/items/{id} (or /{kind}.{label}/items/{id}),
// where kind says what the request must carry:
//
//	oauth          a bearer token this server issued, unexpired, with scope items:read
//	apikey         X-API-Key: APIKey
//	apikey-query   ?api_key=APIKey
//	apikey-cookie  Cookie: session=APIKey
//	basic          Basic User:Password
//	bearer         Bearer BearerToken
//	digest         an RFC 7616 digest answer (SHA-256 or MD5) for User:Password
//	mtls           a TLS client certificate from the server's test CA
//	               (served by the TLS listener, see PKI)
//	open           nothing
//
// POST /oauth/token issues tokens for the client_credentials, password and
// refresh_token grants; it checks the client id and secret (HTTP Basic or
// form), the grant type and the scopes, and tokens expire after TokenTTL.
// GET /.well-known/openid-configuration points at it.
package authserver

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Test credentials the server accepts. They are public and worthless
// anywhere but here.
const (
	ClientID     = "arazzo-example-client"
	ClientSecret = "example-client-secret-5b1e0c"
	User         = "ann"
	Password     = "example-password-77c2d9"
	APIKey       = "example-api-key-3a9d41f0"
	BearerToken  = "example-static-token-c0ffee42"
	// ReadScope is what resources under /oauth need.
	ReadScope = "items:read"
)

// Config shapes the server.
type Config struct {
	// TokenTTL is how long an issued token lives (default 1h).
	TokenTTL time.Duration
	// Scopes the client may ask for (default items:read, items:write).
	Scopes []string
	// Now is the clock tokens expire by (default time.Now).
	Now func() time.Time
	// Echo makes every answer repeat the credentials it was sent, as
	// careless APIs do: tests use it to prove they are masked.
	Echo bool
}

// Server is the API. It is safe for concurrent use.
type Server struct {
	cfg    Config
	mu     sync.Mutex
	tokens map[string]issued
	// refresh tokens, to the scopes they renew
	refresh map[string][]string
	nonces  map[string]bool
	stats   Stats
}

type issued struct {
	scopes  []string
	expires time.Time
}

// Stats counts what the token endpoint did.
type Stats struct {
	Tokens    int // tokens issued, refreshes included
	Refreshes int // refresh_token grants honoured
	Refused   int // token requests refused
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{ReadScope, "items:write"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, tokens: map[string]issued{}, refresh: map[string][]string{}, nonces: map[string]bool{}}
}

// Stats returns the token endpoint's counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// RevokeTokens forgets every issued token: the next request with one gets
// 401, as after a key rotation.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth/token":
		s.token(w, r)
	case r.URL.Path == "/.well-known/openid-configuration":
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		writeJSON(w, 200, map[string]any{
			"issuer":                scheme + "://" + r.Host,
			"token_endpoint":        scheme + "://" + r.Host + "/oauth/token",
			"grant_types_supported": []string{"client_credentials", "password", "refresh_token"},
			"scopes_supported":      s.cfg.Scopes,
		})
	default:
		s.resource(w, r)
	}
}

// resource serves GET /{kind}/items/{id} when the request carries what
// kind asks for.
func (s *Server) resource(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[1] != "items" || r.Method != http.MethodGet {
		writeJSON(w, 404, map[string]any{"error": "no such resource: " + r.Method + " " + r.URL.Path})
		return
	}
	// What follows a dot is a label (/oauth.password/items/1): one
	// description can give several operations the same kind of check.
	kind, _, _ := strings.Cut(parts[0], ".")
	id := parts[2]
	var why string
	switch kind {
	case "oauth":
		why = s.checkToken(r)
		if why != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="items", error="invalid_token"`)
		}
	case "apikey":
		why = checkEqual(r.Header.Get("X-API-Key"), APIKey, "X-API-Key")
	case "apikey-query":
		why = checkEqual(r.URL.Query().Get("api_key"), APIKey, "the api_key query parameter")
	case "apikey-cookie":
		c, _ := r.Cookie("session")
		v := ""
		if c != nil {
			v = c.Value
		}
		why = checkEqual(v, APIKey, "the session cookie")
	case "basic":
		u, p, ok := r.BasicAuth()
		if !ok || u != User || subtle.ConstantTimeCompare([]byte(p), []byte(Password)) != 1 {
			why = "basic credentials missing or wrong"
			w.Header().Set("WWW-Authenticate", `Basic realm="items"`)
		}
	case "bearer":
		why = checkEqual(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), BearerToken, "the bearer token")
	case "digest":
		if why = s.checkDigest(r); why != "" {
			for _, alg := range []string{"SHA-256", "MD5"} {
				w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Digest realm="items", qop="auth", algorithm=%s, nonce=%q, opaque="arazzo"`, alg, s.nonce()))
			}
		}
	case "mtls":
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			why = "a client certificate from the test CA is required"
		}
	case "open":
	default:
		writeJSON(w, 404, map[string]any{"error": "no such kind: " + kind})
		return
	}
	body := map[string]any{"id": id, "name": "item-" + id, "kind": kind, "price": 10 * len(id)}
	if s.cfg.Echo {
		body["sent"] = map[string]any{"authorization": r.Header.Get("Authorization"), "apiKey": r.Header.Get("X-API-Key"), "query": r.URL.RawQuery, "cookie": r.Header.Get("Cookie")}
	}
	if why != "" {
		body = map[string]any{"error": why, "sent": body["sent"]}
		writeJSON(w, 401, body)
		return
	}
	writeJSON(w, 200, body)
}

func checkEqual(got, want, what string) string {
	if got == "" {
		return what + " is missing"
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return what + " is wrong"
	}
	return ""
}

func (s *Server) checkToken(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "a bearer token is required"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	switch {
	case !ok:
		return "unknown token"
	case !s.cfg.Now().Before(t.expires):
		return "the token has expired"
	case !slices.Contains(t.scopes, ReadScope):
		return "the token lacks scope " + ReadScope
	}
	return ""
}

// token is the OAuth 2.0 token endpoint (RFC 6749 §4.3, §4.4, §6).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, code, desc string) {
		s.mu.Lock()
		s.stats.Refused++
		s.mu.Unlock()
		if status == 401 {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		}
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		refuse(405, "invalid_request", "POST the token request")
		return
	}
	if err := r.ParseForm(); err != nil {
		refuse(400, "invalid_request", "the body is not a form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) != 1 {
		refuse(401, "invalid_client", "unknown client or wrong secret")
		return
	}
	var scopes []string
	if sc := r.PostForm.Get("scope"); sc != "" {
		scopes = strings.Fields(sc)
	}
	for _, sc := range scopes {
		if !slices.Contains(s.cfg.Scopes, sc) {
			refuse(400, "invalid_scope", "scope "+sc+" is not allowed for this client")
			return
		}
	}
	grant := r.PostForm.Get("grant_type")
	refresh := false
	switch grant {
	case "client_credentials":
	case "password":
		if r.PostForm.Get("username") != User || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("password")), []byte(Password)) != 1 {
			refuse(400, "invalid_grant", "wrong user or password")
			return
		}
		refresh = true
	case "refresh_token":
		s.mu.Lock()
		old, ok := s.refresh[r.PostForm.Get("refresh_token")]
		delete(s.refresh, r.PostForm.Get("refresh_token"))
		s.mu.Unlock()
		if !ok {
			refuse(400, "invalid_grant", "unknown refresh token")
			return
		}
		scopes, refresh = old, true
		s.mu.Lock()
		s.stats.Refreshes++
		s.mu.Unlock()
	default:
		refuse(400, "unsupported_grant_type", "grant_type "+grant+" is not supported")
		return
	}
	access := random()
	s.mu.Lock()
	s.tokens[access] = issued{scopes: scopes, expires: s.cfg.Now().Add(s.cfg.TokenTTL)}
	s.stats.Tokens++
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(s.cfg.TokenTTL.Seconds()), "scope": strings.Join(scopes, " ")}
	if refresh {
		rt := random()
		s.refresh[rt] = scopes
		resp["refresh_token"] = rt
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, resp)
}

func (s *Server) nonce() string {
	n := random()
	s.mu.Lock()
	s.nonces[n] = true
	s.mu.Unlock()
	return n
}

// checkDigest verifies an RFC 7616 answer with qop=auth.
func (s *Server) checkDigest(r *http.Request) string {
	h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Digest ")
	if !ok {
		return "digest credentials are required"
	}
	p := params(h)
	s.mu.Lock()
	known := s.nonces[p["nonce"]]
	s.mu.Unlock()
	var newHash func() hash.Hash
	switch p["algorithm"] {
	case "SHA-256":
		newHash = sha256.New
	case "MD5", "":
		newHash = md5.New
	}
	switch {
	case !known:
		return "unknown nonce"
	case newHash == nil:
		return "unsupported algorithm"
	case p["username"] != User || p["realm"] != "items" || p["qop"] != "auth" || p["uri"] != r.URL.RequestURI():
		return "the digest answer does not match the request"
	}
	sum := func(parts ...string) string {
		d := newHash()
		d.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(d.Sum(nil))
	}
	want := sum(sum(User, "items", Password), p["nonce"], p["nc"], p["cnonce"], "auth", sum(r.Method, p["uri"]))
	if subtle.ConstantTimeCompare([]byte(want), []byte(p["response"])) != 1 {
		return "wrong digest response"
	}
	return ""
}

// params parses `a="x", b=y` (quoted values hold no quotes here).
func params(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		out[strings.ToLower(k)] = strings.Trim(v, `"`)
	}
	return out
}

func random() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
