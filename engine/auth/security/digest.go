package security

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
)

// digestChallenge is a WWW-Authenticate: Digest challenge (RFC 7616),
// kept for the run so later requests answer it without a 401 first.
type digestChallenge struct {
	realm, nonce, opaque, algorithm, qop string
	userhash                             bool
	nc                                   int
}

// pickChallenge reads the Digest challenges of a 401 and prefers SHA-256
// to MD5, as RFC 7616 §3.7 asks.
func pickChallenge(h http.Header) *digestChallenge {
	var best *digestChallenge
	for _, v := range h.Values("Www-Authenticate") {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		p := authParams(params)
		ch := &digestChallenge{realm: p["realm"], nonce: p["nonce"], opaque: p["opaque"], algorithm: p["algorithm"], userhash: strings.EqualFold(p["userhash"], "true")}
		if ch.algorithm == "" {
			ch.algorithm = "MD5"
		}
		if newHash(ch.algorithm) == nil || ch.nonce == "" {
			continue
		}
		for _, q := range strings.Split(p["qop"], ",") {
			switch q = strings.TrimSpace(q); q {
			case "auth":
				ch.qop = q
			case "auth-int":
				if ch.qop == "" {
					ch.qop = q
				}
			}
		}
		if best == nil || (strings.HasPrefix(strings.ToUpper(ch.algorithm), "SHA-256") && !strings.HasPrefix(strings.ToUpper(best.algorithm), "SHA-256")) {
			best = ch
		}
	}
	return best
}

// authParams parses `a="x, y", b=z` auth parameters.
func authParams(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(strings.TrimSpace(s), ",") {
		s = strings.TrimSpace(s)
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val, s = b.String(), s[min(i+1, len(s)):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		out[key] = val
	}
	return out
}

func newHash(alg string) func() hash.Hash {
	switch strings.TrimSuffix(strings.ToUpper(alg), "-SESS") {
	case "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

// authorize answers the challenge for one request; each answer counts.
func (ch *digestChallenge) authorize(method, uri, user, pass string, body []byte) string {
	h := newHash(ch.algorithm)
	sum := func(parts ...string) string {
		d := h()
		d.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(d.Sum(nil))
	}
	ch.nc++
	nc := fmt.Sprintf("%08x", ch.nc)
	var cb [12]byte
	rand.Read(cb[:])
	cnonce := hex.EncodeToString(cb[:])
	ha1 := sum(user, ch.realm, pass)
	if strings.HasSuffix(strings.ToUpper(ch.algorithm), "-SESS") {
		ha1 = sum(ha1, ch.nonce, cnonce)
	}
	ha2 := sum(method, uri)
	if ch.qop == "auth-int" {
		ha2 = sum(method, uri, hexHash(h, body))
	}
	var resp string
	if ch.qop == "" {
		resp = sum(ha1, ch.nonce, ha2)
	} else {
		resp = sum(ha1, ch.nonce, nc, cnonce, ch.qop, ha2)
	}
	name := user
	if ch.userhash {
		name = sum(user, ch.realm)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%q, realm=%q, nonce=%q, uri=%q, algorithm=%s, response=%q`, name, ch.realm, ch.nonce, uri, ch.algorithm, resp)
	if ch.qop != "" {
		fmt.Fprintf(&b, `, qop=%s, nc=%s, cnonce=%q`, ch.qop, nc, cnonce)
	}
	if ch.opaque != "" {
		fmt.Fprintf(&b, `, opaque=%q`, ch.opaque)
	}
	if ch.userhash {
		b.WriteString(`, userhash=true`)
	}
	return b.String()
}

func hexHash(h func() hash.Hash, b []byte) string {
	d := h()
	d.Write(b)
	return hex.EncodeToString(d.Sum(nil))
}

// digestAuthorization answers the challenge a scheme has met in this run;
// "" before the first challenge.
func (c *caller) digestAuthorization(s *Scheme, method, uri, user, pass string, body []byte) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.digests[s.Name]; ch != nil {
		return ch.authorize(method, uri, user, pass, body)
	}
	return ""
}

func (c *caller) setDigest(s *Scheme, ch *digestChallenge) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.digests == nil {
		c.digests = map[string]*digestChallenge{}
	}
	c.digests[s.Name] = ch
}
