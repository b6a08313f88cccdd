package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/antchfx/xmlquery"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// builtRequest is a request ready to send, with what expressions can read
// of it ($request.*, $url, $method).
type builtRequest struct {
	protocol.Request
	query map[string]string
	path  map[string]string
}

// buildRequest evaluates a step's parameters and body against ctx and lays
// out the HTTP request the operation describes.
func (r *run) buildRequest(s *Step, ctx expr.Context) (*builtRequest, error) {
	op := s.Operation
	b := &builtRequest{Request: protocol.Request{Operation: op, Method: op.Method, Header: http.Header{}}}
	base, err := r.serverURL(s)
	if err != nil {
		return nil, err
	}
	if _, overridden := r.opts.Servers[s.Source.Name]; !overridden {
		for _, m := range r.opts.Middleware {
			if er, ok := m.(EndpointResolver); ok {
				var note string
				if base, note = er.Endpoint(s.Source, op, base); note != "" {
					b.Notices = append(b.Notices, note)
				}
			}
		}
	}
	// Descriptions of RPC-style APIs key several operations on one path
	// with a fragment ("/#Action=X"); the fragment only tells them apart
	// and is never sent.
	p, _, _ := strings.Cut(op.Path, "#")
	// A path key may carry fixed query members (`/{Bucket}?list-type=2`);
	// a parameter of the same name is not sent a second time.
	var fixed url.Values
	if _, q, ok := strings.Cut(p, "?"); ok {
		fixed, _ = url.ParseQuery(q)
	}
	var cookies []string
	for _, prm := range s.Params {
		v, ok := prm.Value.Eval(ctx)
		if !ok {
			b.Notices = append(b.Notices, fmt.Sprintf("parameter %s (%s) is undefined and is not sent", prm.Name, prm.In))
			continue
		}
		ev := protocol.Param{Name: prm.Name, In: prm.In, Value: v}
		if prm.Decl != nil && prm.Decl.Schema != nil {
			ev.Schema = prm.Decl.Schema.Value
		}
		b.Params = append(b.Params, ev)
		style, explode := paramStyle(prm)
		switch prm.In {
		case "path":
			text := serializePath(prm.Name, v, style, explode)
			if b.path == nil {
				b.path = map[string]string{}
			}
			b.path[prm.Name] = expr.Text(v)
			p = strings.ReplaceAll(p, "{"+prm.Name+"}", text)
			if strings.Contains(p, "{+"+prm.Name+"}") || strings.Contains(p, "{"+prm.Name+"+}") {
				// A reserved (RFC 6570 {+name}) or greedy ({name+}) label
				// spans segments: its slashes stay slashes.
				greedy := strings.ReplaceAll(text, "%2F", "/")
				p = strings.ReplaceAll(strings.ReplaceAll(p, "{+"+prm.Name+"}", greedy), "{"+prm.Name+"+}", greedy)
			}
		case "query":
			if b.query == nil {
				b.query = map[string]string{}
			}
			b.query[prm.Name] = expr.Text(v)
			if _, dup := fixed[prm.Name]; dup {
				if fixed.Get(prm.Name) != expr.Text(v) {
					b.Notices = append(b.Notices, fmt.Sprintf("query parameter %s=%s is not sent: the operation's path already fixes %s=%s", prm.Name, expr.Text(v), prm.Name, fixed.Get(prm.Name)))
				}
				continue
			}
			b.Query = append(b.Query, serializeQuery(prm.Name, v, style, explode)...)
		case "header":
			b.Header.Set(prm.Name, serializeSimple(v, explode))
			// Keep the author's spelling on the wire.
			if canon := http.CanonicalHeaderKey(prm.Name); canon != prm.Name {
				b.Header[prm.Name] = b.Header[canon]
				delete(b.Header, canon)
			}
		case "cookie":
			cookies = append(cookies, prm.Name+"="+serializeSimple(v, explode))
		case "querystring":
			b.Query = append(b.Query, serializeQueryString(prm, v))
		}
	}
	if i := strings.IndexByte(p, '{'); i >= 0 {
		if j := strings.IndexByte(p[i:], '}'); j > 0 {
			return nil, fmt.Errorf("path parameter %s has no value (operation %s)", p[i+1:i+j], op)
		}
	}
	if len(cookies) > 0 {
		b.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	b.Server, b.Path = base, p
	if s.Body != nil {
		if err := b.setBody(s.Body, ctx, op); err != nil {
			return nil, err
		}
	}
	if p := s.Source.Protocol; p != nil {
		if err := p.Prepare(&b.Request); err != nil {
			return nil, fmt.Errorf("%s protocol: %w", p.Name(), err)
		}
	}
	b.URL = b.BuildURL()
	return b, nil
}

// serverURL picks the base URL: an override for the source, else the
// operation's first server with its variables filled in. It is worked out
// once per run and source.
func (r *run) serverURL(s *Step) (string, error) {
	servers := s.Operation.Servers()
	key := serverKey{s.Source, serverOf(servers)}
	if u, ok := r.servers[key]; ok {
		return u, nil
	}
	u, err := r.resolveServer(s, servers)
	if err == nil {
		if r.servers == nil {
			r.servers = map[serverKey]string{}
		}
		r.servers[key] = u
	}
	return u, err
}

type serverKey struct {
	src    *SourceRef
	server *openapi3.Server
}

func serverOf(ss openapi3.Servers) *openapi3.Server {
	if len(ss) == 0 {
		return nil
	}
	return ss[0]
}

func (r *run) resolveServer(s *Step, servers openapi3.Servers) (string, error) {
	name := s.Source.Name
	if o, ok := r.opts.Servers[name]; ok {
		return o, nil
	}
	if len(servers) == 0 || servers[0] == nil || servers[0].URL == "" || strings.HasPrefix(servers[0].URL, "/") {
		rel := ""
		if len(servers) > 0 && servers[0] != nil {
			rel = servers[0].URL
		}
		if loc := s.Operation.Source.Location; strings.HasPrefix(loc, "http") {
			base, _ := url.Parse(loc)
			ref, _ := url.Parse(rel)
			if base != nil && ref != nil {
				return base.ResolveReference(ref).String(), nil
			}
		}
		return "", &NoServerError{Source: name}
	}
	sv := servers[0]
	u := sv.URL
	var defaults map[string]string
	for _, m := range r.opts.Middleware {
		if d, ok := m.(ServerVariableDefaults); ok {
			for k, v := range d.ServerVariables(s.Source) {
				if defaults == nil {
					defaults = map[string]string{}
				}
				defaults[k] = v
			}
		}
	}
	for v, def := range sv.Variables {
		val := def.Default
		if o, ok := defaults[v]; ok {
			val = o
		}
		if o, ok := r.opts.ServerVariables[name][v]; ok {
			val = o
		} else if o, ok := r.opts.ServerVariables[""][v]; ok {
			val = o
		}
		u = strings.ReplaceAll(u, "{"+v+"}", val)
	}
	return u, nil
}

// paramStyle is the declared style and explode, else OpenAPI's defaults:
// form for query and cookie, simple otherwise; explode only for form.
func paramStyle(p *Param) (string, bool) {
	style := ""
	if p.Decl != nil {
		style = p.Decl.Style
	}
	if style == "" {
		style = "simple"
		if p.In == "query" || p.In == "cookie" {
			style = "form"
		}
	}
	if p.Decl != nil && p.Decl.Explode != nil {
		return style, *p.Decl.Explode
	}
	return style, style == "form"
}

// pairs lists an object's members in key order, as text.
func pairs(m map[string]any) [][2]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, len(keys))
	for i, k := range keys {
		out[i] = [2]string{k, expr.Text(m[k])}
	}
	return out
}

func items(a []any) []string {
	out := make([]string, len(a))
	for i, e := range a {
		out[i] = expr.Text(e)
	}
	return out
}

// serializeSimple is OpenAPI's simple style (headers, and path by default).
func serializeSimple(v any, explode bool) string {
	switch x := v.(type) {
	case []any:
		return strings.Join(items(x), ",")
	case map[string]any:
		var parts []string
		for _, kv := range pairs(x) {
			if explode {
				parts = append(parts, kv[0]+"="+kv[1])
			} else {
				parts = append(parts, kv[0], kv[1])
			}
		}
		return strings.Join(parts, ",")
	}
	return expr.Text(v)
}

func serializePath(name string, v any, style string, explode bool) string {
	esc := func(s string) string { return url.PathEscape(s) }
	switch style {
	case "label":
		sep := ","
		if explode {
			sep = "."
		}
		return "." + strings.Join(mapStrings(splitSimple(v, explode), esc), sep)
	case "matrix":
		switch x := v.(type) {
		case []any:
			if explode {
				var parts []string
				for _, it := range items(x) {
					parts = append(parts, ";"+name+"="+esc(it))
				}
				return strings.Join(parts, "")
			}
			return ";" + name + "=" + strings.Join(mapStrings(items(x), esc), ",")
		case map[string]any:
			if explode {
				var parts []string
				for _, kv := range pairs(x) {
					parts = append(parts, ";"+kv[0]+"="+esc(kv[1]))
				}
				return strings.Join(parts, "")
			}
		}
		return ";" + name + "=" + strings.Join(mapStrings(splitSimple(v, false), esc), ",")
	}
	return strings.Join(mapStrings(splitSimple(v, explode), esc), ",")
}

// splitSimple breaks a value into the tokens simple style joins with commas.
func splitSimple(v any, explode bool) []string {
	switch x := v.(type) {
	case []any:
		return items(x)
	case map[string]any:
		var out []string
		for _, kv := range pairs(x) {
			if explode {
				out = append(out, kv[0]+"="+kv[1])
			} else {
				out = append(out, kv[0], kv[1])
			}
		}
		return out
	}
	return []string{expr.Text(v)}
}

func mapStrings(ss []string, f func(string) string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

// serializeQuery returns `name=value` pieces, already escaped.
func serializeQuery(name string, v any, style string, explode bool) []string {
	q := url.QueryEscape
	switch x := v.(type) {
	case []any:
		its := items(x)
		switch {
		case style == "spaceDelimited" && !explode:
			return []string{q(name) + "=" + strings.Join(mapStrings(its, q), "%20")}
		case style == "pipeDelimited" && !explode:
			return []string{q(name) + "=" + strings.Join(mapStrings(its, q), "|")}
		case explode:
			var out []string
			for _, it := range its {
				out = append(out, q(name)+"="+q(it))
			}
			return out
		}
		return []string{q(name) + "=" + strings.Join(mapStrings(its, q), ",")}
	case map[string]any:
		var out []string
		switch {
		case style == "deepObject":
			for _, kv := range pairs(x) {
				out = append(out, q(name+"["+kv[0]+"]")+"="+q(kv[1]))
			}
		case explode:
			for _, kv := range pairs(x) {
				out = append(out, q(kv[0])+"="+q(kv[1]))
			}
		default:
			var parts []string
			for _, kv := range pairs(x) {
				parts = append(parts, q(kv[0]), q(kv[1]))
			}
			out = append(out, q(name)+"="+strings.Join(parts, ","))
		}
		return out
	}
	return []string{q(name) + "=" + q(expr.Text(v))}
}

// setBody evaluates the payload, applies replacements and serializes it by
// content type.
func (b *builtRequest) setBody(body *Body, ctx expr.Context, op *source.Operation) error {
	ct := body.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if body.HasPayload && body.Payload != nil && body.Payload.IsContainer() && len(body.Replacements) == 0 && IsJSONMediaType(ct) {
		// The common case, a JSON object or array template, is encoded
		// straight from the template; $request.body decodes it if asked.
		data, _, err := body.Payload.AppendJSON(make([]byte, 0, 256), ctx)
		if err != nil {
			return fmt.Errorf("the request body cannot be encoded as JSON: %v", err)
		}
		b.SetBody(data)
	} else {
		var v any
		if body.HasPayload && body.Payload != nil {
			var ok bool
			if v, ok = body.Payload.Eval(ctx); !ok {
				b.Notices = append(b.Notices, "the request body is undefined and is not sent")
				return nil
			}
		}
		if len(body.Replacements) > 0 {
			var err error
			if v, err = applyReplacements(v, body.Replacements, ctx, ct); err != nil {
				return err
			}
		}
		data, err := encodeBody(v, ct, b, op)
		if err != nil {
			return err
		}
		b.SetValue(v, data)
	}
	if b.ContentType == "" {
		b.ContentType = ct
	}
	b.Header.Set("Content-Type", b.ContentType)
	return nil
}

func encodeBody(v any, ct string, b *builtRequest, op *source.Operation) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	}
	switch {
	case isFormType(ct):
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a form-urlencoded body needs an object or a string payload, got %T", v)
		}
		vals := url.Values{}
		for _, kv := range pairs(m) {
			vals.Add(kv[0], kv[1])
		}
		return []byte(vals.Encode()), nil
	case isMultipartType(ct):
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a multipart body needs an object payload, got %T", v)
		}
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, kv := range pairs(m) {
			if err := w.WriteField(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		b.ContentType = w.FormDataContentType()
		return buf.Bytes(), nil
	case isXMLType(ct):
		return encodeXML(v, protocol.BodySchema(op, mediaType(ct)))
	}
	return protocol.MarshalJSON(v)
}

// applyReplacements sets each target in the payload: JSON pointers for JSON
// (a string payload is parsed first), XPath for XML.
func applyReplacements(v any, reps []Replacement, ctx expr.Context, ct string) (any, error) {
	if isXMLType(ct) {
		s, _ := v.(string)
		doc, err := xmlquery.Parse(strings.NewReader(s))
		if err != nil {
			return nil, fmt.Errorf("replacements: the XML payload does not parse: %v", err)
		}
		for _, rep := range reps {
			val, ok := rep.Value.Eval(ctx)
			if !ok {
				continue
			}
			target := rep.Target
			nodes, err := xmlquery.QueryAll(doc, target)
			if err != nil {
				return nil, fmt.Errorf("replacement target %q is not a valid XPath: %v", target, err)
			}
			if len(nodes) == 0 {
				return nil, fmt.Errorf("replacement target %q matches nothing in the XML payload", target)
			}
			for _, n := range nodes {
				n.FirstChild, n.LastChild = nil, nil
				xmlquery.AddChild(n, &xmlquery.Node{Type: xmlquery.TextNode, Data: expr.Text(val)})
			}
		}
		out := doc.OutputXML(false)
		// The XML library adds a declaration; keep the author's payload as
		// it was when it had none.
		if !strings.HasPrefix(strings.TrimSpace(s), "<?xml") && strings.HasPrefix(out, "<?xml") {
			if i := strings.Index(out, "?>"); i >= 0 {
				out = out[i+2:]
			}
		}
		return out, nil
	}
	if s, ok := v.(string); ok {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("replacements: the payload is not JSON: %v", err)
		}
	}
	for _, rep := range reps {
		val, ok := rep.Value.Eval(ctx)
		if !ok {
			continue
		}
		if rep.jp != nil {
			var err error
			if v, err = rep.setAll(v, val); err != nil {
				return nil, err
			}
			continue
		}
		toks, err := jsonpointer.Split(rep.Target)
		if err != nil {
			return nil, fmt.Errorf("replacement target %q: %v", rep.Target, err)
		}
		// Set copies what it changes: the payload may share parts with
		// inputs, outputs or the compiled template.
		if v, err = jsonpointer.Set(v, toks, val); err != nil {
			return nil, fmt.Errorf("replacement target %q: %v", rep.Target, err)
		}
	}
	return v, nil
}
