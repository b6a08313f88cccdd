package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/arazzo-go/arazzo/engine/schema"
)

// Mask replaces secret values in every output.
const Mask = "****"

// sensitiveHeaders are masked in every event: credentials, session tokens
// and signatures.
var sensitiveHeaders = map[string]bool{
	"authorization":        true,
	"proxy-authorization":  true,
	"cookie":               true,
	"set-cookie":           true,
	"x-amz-security-token": true,
	"x-api-key":            true,
	"api-key":              true,
	"x-auth-token":         true,
}

// SensitiveHeader reports whether a header's value must never be shown.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	return sensitiveHeaders[n] || strings.Contains(n, "token") || strings.Contains(n, "secret") || strings.Contains(n, "password")
}

// redactor masks secret values, in every encoding they take on the wire,
// wherever the engine reports something: events, errors, dry runs. It is
// the one place masking happens. A nil *redactor, or one with no values,
// masks credential headers only. Values can be added while a run goes
// (AddSecret: a token fetched mid-run), so the replacer is swapped
// atomically and reads take no lock.
type redactor struct {
	mu     sync.Mutex // serializes add
	values []string
	r      atomic.Pointer[strings.Replacer]
}

// minSecret is the shortest value masked: shorter ones would mask common
// text ("1", "yes") everywhere.
const minSecret = 4

// newRedactor returns a redactor for values; it is never nil, so that
// middleware can add values to it during the run.
func newRedactor(values []string) *redactor {
	x := &redactor{}
	x.add(values...)
	return x
}

// add masks values too from now on.
func (x *redactor) add(values ...string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := len(x.values)
	for _, v := range values {
		if len(v) >= minSecret && !slices.Contains(x.values, v) {
			x.values = append(x.values, v)
		}
	}
	if len(x.values) == n {
		return
	}
	seen := map[string]bool{}
	var forms []string
	add := func(s string) {
		if len(s) >= minSecret && !seen[s] {
			seen[s] = true
			forms = append(forms, s)
		}
	}
	for _, v := range x.values {
		add(v)
		// The forms a value takes in a URL, a form body, a JSON string
		// and a base64 header such as Basic credentials.
		add(url.QueryEscape(v))
		add(url.PathEscape(v))
		add(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		if j, err := json.Marshal(v); err == nil {
			add(string(j[1 : len(j)-1]))
		}
		add(jsonString(v))
		add(base64.StdEncoding.EncodeToString([]byte(v)))
		add(base64.RawURLEncoding.EncodeToString([]byte(v)))
	}
	// Longest first, so a secret that contains another is masked whole.
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	pairs := make([]string, 0, 2*len(forms))
	for _, s := range forms {
		pairs = append(pairs, s, Mask)
	}
	x.r.Store(strings.NewReplacer(pairs...))
}

func (x *redactor) String(s string) string {
	if x == nil {
		return s
	}
	r := x.r.Load()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

func (x *redactor) Bytes(b []byte) []byte {
	if x == nil || len(b) == 0 || x.r.Load() == nil {
		return b
	}
	return []byte(x.String(string(b)))
}

// Header copies h with credential headers masked and secrets replaced.
func (x *redactor) Header(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if SensitiveHeader(k) {
			out[k] = []string{Mask}
			continue
		}
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = x.String(v)
		}
		out[k] = cp
	}
	return out
}

// strings copies message headers with credential headers masked and
// secrets replaced.
func (x *redactor) strings(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if SensitiveHeader(k) {
			out[k] = Mask
			continue
		}
		out[k] = x.String(v)
	}
	return out
}

// Event masks what an event carries: credential headers always, secret
// values wherever they appear.
func (x *redactor) Event(e Event) Event {
	if e.Request != nil {
		q := *e.Request
		q.URL, q.Body, q.Header = x.String(q.URL), x.Bytes(q.Body), x.Header(q.Header)
		e.Request = &q
	}
	if e.Response != nil {
		p := *e.Response
		p.Body, p.Header = x.Bytes(p.Body), x.Header(p.Header)
		e.Response = &p
	}
	if e.Msg != nil {
		m := *e.Msg
		m.Payload, m.Header = x.Bytes(m.Payload), x.strings(m.Header)
		e.Msg = &m
	}
	if x == nil || x.r.Load() == nil {
		return e
	}
	e.Err, e.Message = x.String(e.Err), x.String(e.Message)
	if e.Outputs != nil {
		e.Outputs, _ = x.Value(e.Outputs).(map[string]any)
	}
	return e
}

// Value masks the strings inside an output value (an API that echoes a
// credential into a body the workflow outputs). It copies what it
// changes: later expressions read the original.
func (x *redactor) Value(v any) any {
	if x == nil || x.r.Load() == nil {
		return v
	}
	switch t := v.(type) {
	case string:
		return x.String(t)
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = x.Value(e)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = x.Value(e)
		}
		return a
	}
	return v
}

// inputError masks the values a schema error quotes (a secret input that
// breaks its pattern or enum is quoted in the message).
func (x *redactor) inputError(err error) error {
	var ie *schema.InputError
	if x == nil || !errors.As(err, &ie) {
		return err
	}
	masked := &schema.InputError{Problems: make([]string, len(ie.Problems))}
	for i, p := range ie.Problems {
		masked.Problems[i] = x.String(p)
	}
	return masked
}

// Error masks a run error's texts in place.
func (x *redactor) Error(e *RunError) {
	if x == nil || e == nil || x.r.Load() == nil {
		return
	}
	e.Message, e.BodyExcerpt = x.String(e.Message), x.String(e.BodyExcerpt)
}

// jsonString is v as a JSON string body without HTML escaping, as request
// bodies are encoded.
func jsonString(v string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
