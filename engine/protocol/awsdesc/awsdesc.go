// Package awsdesc reads what an OpenAPI description says about an AWS
// service: whether it is one, the wire protocol it declares, and the
// shape of AWS endpoints. The protocol packages (awsjson, restjson,
// restxml, awsquery) and the SigV4 signer share it; nothing here names a
// particular service.
package awsdesc

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/source"
)

// Declared is the protocol info.x-aws-protocol names, normalised to the
// Smithy trait names: awsJson1_0, awsJson1_1, restJson1, restXml,
// awsQuery, ec2Query; "" when the description declares none.
func Declared(src *source.Source) string {
	if src == nil || src.OpenAPI == nil || src.OpenAPI.Info == nil {
		return ""
	}
	p, _ := src.OpenAPI.Info.Extensions["x-aws-protocol"].(string)
	switch strings.ToLower(strings.NewReplacer("-", "", "_", "", ".", "").Replace(p)) {
	case "awsjson10", "json10":
		return "awsJson1_0"
	case "awsjson11", "json11", "json":
		return "awsJson1_1"
	case "restjson1", "restjson":
		return "restJson1"
	case "restxml":
		return "restXml"
	case "awsquery", "query":
		return "awsQuery"
	case "ec2query", "ec2":
		return "ec2Query"
	}
	return ""
}

// IsAWS reports a description of an AWS service: it names a signing name
// (info.x-aws-signingName) or its server is an AWS host once the server's
// variables are expanded.
func IsAWS(src *source.Source) bool {
	if src == nil || src.OpenAPI == nil {
		return false
	}
	if src.OpenAPI.Info != nil {
		if n, _ := src.OpenAPI.Info.Extensions["x-aws-signingName"].(string); n != "" {
			return true
		}
	}
	if sv := FirstServer(src); sv != nil {
		_, _, _, ok := Host(Expand(sv))
		return ok
	}
	return false
}

// FirstServer is the document's first server, else the first an
// operation declares.
func FirstServer(src *source.Source) *openapi3.Server {
	servers := src.OpenAPI.Servers
	if len(servers) == 0 {
		for _, op := range src.Operations() {
			if ss := op.Servers(); len(ss) > 0 {
				servers = ss
				break
			}
		}
	}
	if len(servers) == 0 {
		return nil
	}
	return servers[0]
}

// Expand fills a server URL template with its variables' defaults; a
// region variable without one gets us-east-1 (only the host's shape
// matters here).
func Expand(sv *openapi3.Server) string {
	u := sv.URL
	for name, v := range sv.Variables {
		val := v.Default
		if val == "" && name == "region" {
			val = "us-east-1"
		}
		u = strings.ReplaceAll(u, "{"+name+"}", val)
	}
	return u
}

// Host reads an AWS endpoint URL: its host, the service label (the label
// before the region, or before the domain when there is none) and the
// region label, if any.
func Host(raw string) (host, service, region string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", "", "", false
	}
	host = strings.ToLower(u.Hostname())
	rest := ""
	for _, suffix := range []string{".amazonaws.com.cn", ".amazonaws.com"} {
		if r, cut := strings.CutSuffix(host, suffix); cut {
			rest, ok = r, true
			break
		}
	}
	if !ok || rest == "" {
		return "", "", "", false
	}
	labels := strings.Split(rest, ".")
	if n := len(labels); n > 1 && regionRE.MatchString(labels[n-1]) {
		region, labels = labels[n-1], labels[:n-1]
	}
	return host, labels[len(labels)-1], region, true
}

// regionRE matches region names of every partition (us-east-1,
// cn-north-1, us-gov-west-1, eu-central-2, ap-southeast-4, ...).
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// Partition names a region's partition and its DNS suffix.
func Partition(region string) (name, suffix string) {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov", "amazonaws.com"
	}
	return "aws", "amazonaws.com"
}

// MediaTypes lists the media types of the description's request and
// success response bodies, lower case, each once.
func MediaTypes(src *source.Source) map[string]bool {
	out := map[string]bool{}
	for _, op := range src.Operations() {
		if rb := op.Op.RequestBody; rb != nil && rb.Value != nil {
			for mt := range rb.Value.Content {
				out[strings.ToLower(mt)] = true
			}
		}
		if op.Op.Responses != nil {
			for code, r := range op.Op.Responses.Map() {
				if r == nil || r.Value == nil || !strings.HasPrefix(code, "2") {
					continue
				}
				for mt := range r.Value.Content {
					out[strings.ToLower(mt)] = true
				}
			}
		}
	}
	return out
}

// RPCShape tells the RPC shapes apart from REST ones in a description
// that declares no protocol: "json" for AWS JSON (an X-Amz-Target header
// parameter or path key, an application/x-amz-json-1.x body,
// info.x-aws-targetPrefix), "query" for the query protocols (#Action= or
// ?Action= path keys, an Action query parameter), "" otherwise. The REST
// protocols abstain from RPC-shaped sources whatever order detectors run in.
func RPCShape(src *source.Source) string {
	if src == nil || src.OpenAPI == nil {
		return ""
	}
	if src.OpenAPI.Info != nil {
		if p, _ := src.OpenAPI.Info.Extensions["x-aws-targetPrefix"].(string); p != "" {
			return "json"
		}
	}
	for _, op := range src.Operations() {
		if strings.Contains(op.Path, "#X-Amz-Target=") || op.Parameter("X-Amz-Target", "header") != nil {
			return "json"
		}
		if rb := op.Op.RequestBody; rb != nil && rb.Value != nil {
			for mt := range rb.Value.Content {
				if strings.HasPrefix(strings.ToLower(mt), "application/x-amz-json-") {
					return "json"
				}
			}
		}
		if strings.Contains(op.Path, "#Action=") || strings.Contains(op.Path, "?Action=") || op.Parameter("Action", "query") != nil {
			return "query"
		}
	}
	return ""
}

var sigv4Words = regexp.MustCompile(`(?i)sig(nature)?\s*(version\s*)?v?4|aws4-hmac|sigv4`)

// SigV4Scheme reports whether a security scheme (name is its key in
// components.securitySchemes) stands for AWS Signature Version 4, and says
// why: x-amazon-apigateway-authtype: awsSigv4, or an apiKey scheme for the
// Authorization header whose key or description says Signature Version 4,
// as descriptions generated for AWS write it. The signer and the security
// middleware share this, so a SigV4 scheme is never taken for an API key.
func SigV4Scheme(name string, ss *openapi3.SecurityScheme) (why string, ok bool) {
	if ss == nil {
		return "", false
	}
	if t, _ := ss.Extensions["x-amazon-apigateway-authtype"].(string); strings.EqualFold(t, "awsSigv4") {
		return "security scheme " + name + " (x-amazon-apigateway-authtype: awsSigv4)", true
	}
	if ss.Type == "apiKey" && strings.EqualFold(ss.Name, "Authorization") && sigv4Words.MatchString(ss.Description+" "+name) {
		return "security scheme " + name + " (an Authorization apiKey described as Signature Version 4)", true
	}
	return "", false
}
