package authserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The token endpoint checks client, secret, grant type and scopes, and
// the tokens it issues expire.
func TestTokenEndpointEnforces(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := New(Config{TokenTTL: time.Minute, Now: func() time.Time { return now }})
	post := func(form url.Values, id, secret string) (int, string) {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(body)
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {ReadScope}}
	for _, c := range []struct {
		form       url.Values
		id, secret string
		status     int
		want       string
	}{
		{cc, ClientID, ClientSecret + "x", 401, "invalid_client"},
		{cc, "someone-else", ClientSecret, 401, "invalid_client"},
		{url.Values{"grant_type": {"authorization_code"}}, ClientID, ClientSecret, 400, "unsupported_grant_type"},
		{url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, ClientID, ClientSecret, 400, "invalid_scope"},
		{url.Values{"grant_type": {"password"}, "username": {User}, "password": {"nope"}}, ClientID, ClientSecret, 400, "invalid_grant"},
		{url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"made-up"}}, ClientID, ClientSecret, 400, "invalid_grant"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}}, "", "", 200, "access_token"},
	} {
		if code, body := post(c.form, c.id, c.secret); code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%v: %d %s, want %d %s", c.form, code, body, c.status, c.want)
		}
	}
	code, body := post(cc, ClientID, ClientSecret)
	if code != 200 {
		t.Fatal(body)
	}
	tok := body[strings.Index(body, `"access_token":"`)+16:]
	tok = tok[:strings.IndexByte(tok, '"')]
	get := func() int {
		r := httptest.NewRequest("GET", "/oauth/items/1", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	if get() != 200 {
		t.Fatal("a fresh token is refused")
	}
	now = now.Add(time.Minute)
	if get() != http.StatusUnauthorized {
		t.Fatal("an expired token is accepted")
	}
}
