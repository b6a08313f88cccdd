// Package security applies the security requirements of OpenAPI
// descriptions: every scheme type OpenAPI 3.0/3.1 defines, as one
// engine.Middleware fed by one set of credential sources.
//
// Schemes (Kind):
//
//	apiKey         in a header, the query or a cookie
//	http basic     Authorization: Basic
//	http bearer    Authorization: Bearer
//	http digest    the RFC 7616 challenge and response (MD5, SHA-256, -sess)
//	oauth2         clientCredentials and password flows performed here (token
//	               fetched from tokenUrl with the requirement's scopes, cached
//	               for the run, fetched again when it expires or on a 401,
//	               once); authorizationCode and implicit take a token the user
//	               supplies (a browser flow is out of scope)
//	openIdConnect  discovery from openIdConnectUrl, then as oauth2
//	mutualTLS      a client certificate and key per source (engine.WithTLS)
//	AWS SigV4      a scheme marked x-amazon-apigateway-authtype: awsSigv4 is
//	               left to the sigv4 middleware; its credentials come from the
//	               same sources (see SigV4Credentials)
//
// Which scheme applies is decided per operation: the operation's
// `security` (else the description's); of several alternatives, the first
// whose credentials are all present. Redocly's `x-security` extension on a
// step or its workflow replaces that requirement for the step. A required
// scheme without credentials stops the run before anything is sent
// (Prepare), with an error that names the scheme, the --auth flag and the
// environment variable that would satisfy it.
//
// Credentials come from Layers, the first that gives a field winning:
// --auth flags (Flags), an --auth-file (File), the environment (Env), then
// x-security values. Every credential, fetched token and derived header
// value is added to the run's masking (engine.AddSecret).
package security

import (
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/protocol/awsdesc"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Kind is a security scheme's type, with http schemes told apart.
type Kind string

// The kinds of scheme.
const (
	APIKey        Kind = "apiKey"
	Basic         Kind = "http basic"
	Bearer        Kind = "http bearer"
	Digest        Kind = "http digest"
	OAuth2        Kind = "oauth2"
	OpenIDConnect Kind = "openIdConnect"
	MutualTLS     Kind = "mutualTLS"
	SigV4         Kind = "AWS SigV4"
	// UserPassword is an AsyncAPI broker's user and password (type
	// userPassword or plain): SASL/PLAIN for Kafka.
	UserPassword Kind = "user/password"
)

// KindOf classifies a security scheme.
func KindOf(ss *openapi3.SecurityScheme) (Kind, error) {
	if ss == nil {
		return "", fmt.Errorf("empty security scheme")
	}
	if ss.Extensions["x-amazon-apigateway-authtype"] == "awsSigv4" {
		return SigV4, nil
	}
	switch ss.Type {
	case "apiKey":
		switch ss.In {
		case "header", "query", "cookie":
		default:
			return "", fmt.Errorf("apiKey scheme with in: %q (want header, query or cookie)", ss.In)
		}
		if ss.Name == "" {
			return "", fmt.Errorf("apiKey scheme without a name")
		}
		return APIKey, nil
	case "http":
		switch strings.ToLower(ss.Scheme) {
		case "basic":
			return Basic, nil
		case "bearer":
			return Bearer, nil
		case "digest":
			return Digest, nil
		}
		return "", fmt.Errorf("http scheme %q is not supported (basic, bearer and digest are)", ss.Scheme)
	case "oauth2":
		if ss.Flows == nil {
			return "", fmt.Errorf("oauth2 scheme without flows")
		}
		return OAuth2, nil
	case "openIdConnect":
		if ss.OpenIdConnectUrl == "" {
			return "", fmt.Errorf("openIdConnect scheme without openIdConnectUrl")
		}
		return OpenIDConnect, nil
	case "mutualTLS":
		return MutualTLS, nil
	}
	return "", fmt.Errorf("security scheme type %q is not supported", ss.Type)
}

// Fields a credential may have, by kind. The first is what a plain VALUE
// fills when the kind takes one part.
var kindFields = map[Kind][]string{
	APIKey:        {"key"},
	Basic:         {"username", "password"},
	Digest:        {"username", "password"},
	UserPassword:  {"username", "password"},
	Bearer:        {"token"},
	OAuth2:        {"clientId", "clientSecret", "username", "password", "token"},
	OpenIDConnect: {"clientId", "clientSecret", "username", "password", "token"},
	MutualTLS:     {"cert", "key", "ca"},
	SigV4:         {"accessKeyId", "secretAccessKey", "sessionToken"},
}

// valueForm is how --auth SOURCE.SCHEME=VALUE is written for each kind.
var valueForm = map[Kind]string{
	APIKey:        "KEY",
	Basic:         "USER:PASSWORD",
	Digest:        "USER:PASSWORD",
	UserPassword:  "USER:PASSWORD",
	Bearer:        "TOKEN",
	OAuth2:        "CLIENT_ID:CLIENT_SECRET",
	OpenIDConnect: "CLIENT_ID:CLIENT_SECRET",
	MutualTLS:     "CERT_FILE,KEY_FILE[,CA_FILE]",
	SigV4:         "ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]",
}

// ValueForm is the VALUE of --auth SOURCE.SCHEME=VALUE for a kind.
func ValueForm(k Kind) string { return valueForm[k] }

// Fields are the named fields a kind's credential has
// (--auth SOURCE.SCHEME.FIELD=VALUE).
func Fields(k Kind) []string { return kindFields[k] }

// splitValue turns a VALUE into fields, as its kind reads it.
func splitValue(k Kind, v string) (map[string]string, error) {
	switch k {
	case APIKey:
		return map[string]string{"key": v}, nil
	case Bearer:
		return map[string]string{"token": v}, nil
	case Basic, Digest, UserPassword:
		u, p, ok := strings.Cut(v, ":")
		if !ok {
			return nil, fmt.Errorf("want USER:PASSWORD")
		}
		return map[string]string{"username": u, "password": p}, nil
	case OAuth2, OpenIDConnect:
		id, secret, ok := strings.Cut(v, ":")
		m := map[string]string{"clientId": id}
		if ok {
			m["clientSecret"] = secret
		}
		return m, nil
	case MutualTLS:
		parts := strings.Split(v, ",")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("want CERT_FILE,KEY_FILE[,CA_FILE]")
		}
		m := map[string]string{"cert": parts[0], "key": parts[1]}
		if len(parts) == 3 {
			m["ca"] = parts[2]
		}
		return m, nil
	case SigV4:
		parts := strings.SplitN(v, ":", 3)
		if len(parts) < 2 {
			return nil, fmt.Errorf("want ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]")
		}
		m := map[string]string{"accessKeyId": parts[0], "secretAccessKey": parts[1]}
		if len(parts) == 3 {
			m["sessionToken"] = parts[2]
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown kind %q", k)
}

// Scheme is a named security scheme of a source.
type Scheme struct {
	Source string // the source description's name; "" for an inline x-security scheme
	Name   string // the key in components.securitySchemes
	Kind   Kind
	Def    *openapi3.SecurityScheme
}

// Describe says what the scheme is, for messages: `"oauth" (oauth2
// clientCredentials)`.
func (s *Scheme) Describe() string {
	k := string(s.Kind)
	if s.Kind == OAuth2 && s.Def.Flows != nil {
		k += " " + strings.Join(flowNames(s.Def.Flows), ", ")
	}
	if s.Kind == APIKey {
		k += " in " + s.Def.In + " " + s.Def.Name
	}
	if s.Name == "" {
		return "inline x-security scheme (" + k + ")"
	}
	return fmt.Sprintf("%q (%s)", s.Name, k)
}

func flowNames(f *openapi3.OAuthFlows) []string {
	var out []string
	for _, x := range []struct {
		name string
		flow *openapi3.OAuthFlow
	}{{"clientCredentials", f.ClientCredentials}, {"password", f.Password}, {"authorizationCode", f.AuthorizationCode}, {"implicit", f.Implicit}} {
		if x.flow != nil {
			out = append(out, x.name)
		}
	}
	return out
}

// Schemes lists the security schemes of an OpenAPI source, by name, in
// name order. A scheme of a kind this package cannot apply is returned
// with its error.
func Schemes(ref *engine.SourceRef) ([]*Scheme, map[string]error) {
	if ref != nil && ref.Source != nil && ref.Source.Async != nil {
		return brokerSchemes(ref)
	}
	if ref == nil || ref.Source == nil || ref.Source.OpenAPI == nil || ref.Source.OpenAPI.Components == nil {
		return nil, nil
	}
	var out []*Scheme
	var bad map[string]error
	for name, r := range ref.Source.OpenAPI.Components.SecuritySchemes {
		if r == nil || r.Value == nil {
			continue
		}
		k, err := KindOf(r.Value)
		if _, sig := awsdesc.SigV4Scheme(name, r.Value); sig {
			// An Authorization apiKey described as SigV4 is signed by the
			// sigv4 middleware, never sent as a key.
			k, err = SigV4, nil
		}
		if err != nil {
			if bad == nil {
				bad = map[string]error{}
			}
			bad[name] = err
			continue
		}
		out = append(out, &Scheme{Source: ref.Name, Name: name, Kind: k, Def: r.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, bad
}

// brokerSchemes are an AsyncAPI source's security schemes that a broker
// transport can apply: a user and password (SASL/PLAIN for Kafka), or a
// client certificate (X509: TLS with it, and the CA to trust).
func brokerSchemes(ref *engine.SourceRef) ([]*Scheme, map[string]error) {
	var out []*Scheme
	var bad map[string]error
	for name, ss := range ref.Source.Async.SecuritySchemes {
		switch ss.Type {
		case "userPassword", "plain":
			out = append(out, &Scheme{Source: ref.Name, Name: name, Kind: UserPassword, Def: &openapi3.SecurityScheme{Type: ss.Type}})
		case "X509":
			out = append(out, &Scheme{Source: ref.Name, Name: name, Kind: MutualTLS, Def: &openapi3.SecurityScheme{Type: ss.Type}})
		default:
			if bad == nil {
				bad = map[string]error{}
			}
			bad[name] = fmt.Errorf("AsyncAPI security scheme type %q is not supported (userPassword, plain and X509 are)", ss.Type)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, bad
}

// PlanSchemes lists the security schemes of every OpenAPI source of a
// plan, by source name.
func PlanSchemes(plan *engine.Plan) map[string][]*Scheme {
	out := map[string][]*Scheme{}
	for _, sd := range plan.Doc.SourceDescriptions {
		if ref := plan.Source(sd.Name); ref != nil && (ref.Type == source.OpenAPI || ref.Type == source.AsyncAPI) {
			if ss, _ := Schemes(ref); len(ss) > 0 {
				out[sd.Name] = ss
			}
		}
	}
	return out
}

// requirements are an operation's security alternatives: its own
// `security`, else the description's. Each alternative lists scheme names;
// an empty alternative means no credentials are needed.
func requirements(op *source.Operation) openapi3.SecurityRequirements {
	if op == nil || op.Op == nil {
		return nil
	}
	if op.Op.Security != nil {
		return *op.Op.Security
	}
	if op.Source != nil && op.Source.OpenAPI != nil {
		return op.Source.OpenAPI.Security
	}
	return nil
}
