package security

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Layer is one place credentials come from. Lookup returns a field of the
// credential for a source's scheme; field "" is the whole VALUE, which the
// scheme's kind splits into fields (see ValueForm).
type Layer struct {
	// Origin names the layer in messages: "--auth", "--auth-file creds.yaml".
	Origin string
	Lookup func(source, scheme, field string) (string, bool)
}

// Values is credentials as a map: source name → scheme name → field →
// value, field "" being the VALUE form.
type Values map[string]map[string]map[string]string

func (v Values) set(source, scheme, field, value string) {
	if v[source] == nil {
		v[source] = map[string]map[string]string{}
	}
	if v[source][scheme] == nil {
		v[source][scheme] = map[string]string{}
	}
	v[source][scheme][field] = value
}

// Layer makes a layer of v.
func (v Values) Layer(origin string) Layer {
	return Layer{Origin: origin, Lookup: func(src, scheme, field string) (string, bool) {
		s, ok := v[src][scheme][field]
		return s, ok
	}}
}

// All returns every value, for masking.
func (v Values) All() []string {
	var out []string
	for _, schemes := range v {
		for _, fields := range schemes {
			for f, s := range fields {
				if f != "cert" && f != "ca" && f != "username" && f != "clientId" && f != "accessKeyId" {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// ParseFlags reads --auth values: SOURCE.SCHEME=VALUE or
// SOURCE.SCHEME.FIELD=VALUE. A source name has no dot (Arazzo's rule); a
// scheme name may, so SCHEME.FIELD is kept whole and told apart when it is
// looked up (see Check).
func ParseFlags(flags []string) (Values, error) {
	v := Values{}
	for _, f := range flags {
		key, val, ok := strings.Cut(f, "=")
		src, rest, dotted := strings.Cut(key, ".")
		if !ok || !dotted || src == "" || rest == "" {
			return nil, fmt.Errorf("--auth %q: want SOURCE.SCHEME=VALUE (or SOURCE.SCHEME.FIELD=VALUE)", redactFlag(f))
		}
		v.set(src, rest, "", val)
	}
	return v, nil
}

// redactFlag keeps the value of a malformed flag out of its error.
func redactFlag(f string) string {
	if k, _, ok := strings.Cut(f, "="); ok {
		return k + "=…"
	}
	if len(f) > 12 {
		return f[:4] + "…"
	}
	return f
}

// ParseFile reads an --auth-file: a JSON or YAML map of source → scheme
// → VALUE, or → a map of fields.
//
//	petstore:
//	  apiKeyAuth: 3f9c…
//	  oauth: {clientId: app, clientSecret: s3cr3t}
func ParseFile(name string, data []byte) (Values, error) {
	var raw map[string]map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: want a map of source → scheme → VALUE or fields: %v", name, err)
	}
	v := Values{}
	for src, schemes := range raw {
		for scheme, val := range schemes {
			switch x := val.(type) {
			case string:
				v.set(src, scheme, "", x)
			case map[string]any:
				for field, fv := range x {
					s, ok := scalar(fv)
					if !ok {
						return nil, fmt.Errorf("%s: %s.%s.%s: want a string", name, src, scheme, field)
					}
					v.set(src, scheme, field, s)
				}
			default:
				return nil, fmt.Errorf("%s: %s.%s: want a string or a map of fields", name, src, scheme)
			}
		}
	}
	return v, nil
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, int64, float64, bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

// EnvName is the environment variable that holds a credential:
// ARAZZO_AUTH_<SOURCE>_<SCHEME> for the VALUE, with _<FIELD> appended for
// a field (clientSecret → CLIENT_SECRET). Names are upper-cased and every
// character other than a letter or digit becomes _.
func EnvName(source, scheme, field string) string {
	n := "ARAZZO_AUTH_" + envPart(source) + "_" + envPart(scheme)
	if field != "" {
		n += "_" + envPart(snake(field))
	}
	return n
}

func envPart(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// snake turns clientSecret into client_secret.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Env is the environment as a layer (getenv is os.Getenv in a program).
func Env(getenv func(string) string) Layer {
	return Layer{Origin: "the environment", Lookup: func(src, scheme, field string) (string, bool) {
		v := getenv(EnvName(src, scheme, field))
		return v, v != ""
	}}
}

// Check reports keys of v that name no source or scheme the plans'
// descriptions declare (a typo would otherwise be ignored silently), and
// splits SCHEME.FIELD keys into scheme and field.
func Check(v Values, origin string, schemes map[string][]*Scheme) (Values, error) {
	out := Values{}
	for src, m := range v {
		known, ok := schemes[src]
		if !ok {
			var names []string
			for n := range schemes {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%s names source %q, which declares no security schemes here (sources with schemes: %s)", origin, src, list(names))
		}
		for key, fields := range m {
			sc, field := splitKey(key, known)
			if sc == nil {
				var names []string
				for _, s := range known {
					names = append(names, s.Name)
				}
				return nil, fmt.Errorf("%s names %s.%s: source %s has no security scheme %q (it has %s)", origin, src, key, src, key, list(names))
			}
			for f, val := range fields {
				if f == "" {
					f = field
				}
				if f != "" && !validField(sc.Kind, f) {
					return nil, fmt.Errorf("%s: %s.%s.%s: a %s scheme has no field %q (fields: %s)", origin, src, sc.Name, f, sc.Kind, f, strings.Join(Fields(sc.Kind), ", "))
				}
				if f == "" {
					if _, err := splitValue(sc.Kind, val); err != nil {
						return nil, fmt.Errorf("%s %s.%s=…: %v", origin, src, sc.Name, err)
					}
				}
				out.set(src, sc.Name, f, val)
			}
		}
	}
	return out, nil
}

// splitKey finds the scheme a key names: SCHEME, or SCHEME.FIELD.
func splitKey(key string, known []*Scheme) (*Scheme, string) {
	for _, s := range known {
		if s.Name == key {
			return s, ""
		}
	}
	if i := strings.LastIndex(key, "."); i > 0 {
		for _, s := range known {
			if s.Name == key[:i] {
				return s, key[i+1:]
			}
		}
	}
	return nil, ""
}

func validField(k Kind, f string) bool {
	for _, x := range kindFields[k] {
		if x == f {
			return true
		}
	}
	return false
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// resolve gathers a scheme's credential from the layers, the first layer
// that gives a field winning; extra (x-security values) comes last.
func resolve(layers []Layer, s *Scheme, extra map[string]string) (map[string]string, error) {
	out := map[string]string{}
	fill := func(m map[string]string) {
		for k, v := range m {
			if _, ok := out[k]; !ok && v != "" {
				out[k] = v
			}
		}
	}
	if s.Source != "" {
		for _, l := range layers {
			if v, ok := l.Lookup(s.Source, s.Name, ""); ok && v != "" {
				m, err := splitValue(s.Kind, v)
				if err != nil {
					return nil, fmt.Errorf("%s: %s.%s: %v", l.Origin, s.Source, s.Name, err)
				}
				// A field given in the same layer wins over the VALUE's.
				for _, f := range kindFields[s.Kind] {
					if fv, ok := l.Lookup(s.Source, s.Name, f); ok && fv != "" {
						m[f] = fv
					}
				}
				fill(m)
				continue
			}
			for _, f := range kindFields[s.Kind] {
				if fv, ok := l.Lookup(s.Source, s.Name, f); ok && fv != "" {
					fill(map[string]string{f: fv})
				}
			}
		}
	}
	fill(extra)
	return out, nil
}
