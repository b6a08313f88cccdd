package source

// AsyncAPI 2.6 and 3.0 descriptions, read with yaml.v3 so every object
// keeps its line and column: `validate` points into the description, not
// only into the Arazzo document.
//
// Both versions load into one model written from the API's side, as
// AsyncAPI 3.0 writes it: an operation's Action is what the API does
// (send or receive). A 2.6 `publish` operation (clients publish, the API
// receives) becomes Action "receive"; a 2.6 `subscribe` operation becomes
// "send".

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/document"
)

// AsyncAPI is the type of an AsyncAPI source description.
const AsyncAPI Type = "asyncapi"

// AsyncDoc is a loaded AsyncAPI description.
type AsyncDoc struct {
	Version    string // "2.6.0", "3.0.0"
	Servers    []*AsyncServer
	Channels   map[string]*Channel        // by channel id (3.0) or address (2.6)
	Operations map[string]*AsyncOperation // by operation id
	// SecuritySchemes are components.securitySchemes, by name.
	SecuritySchemes map[string]*AsyncSecurityScheme
	root            *yaml.Node
}

// AsyncSecurityScheme is an AsyncAPI security scheme: its type
// (userPassword, plain, scramSha256, X509, ...) is what a transport needs.
type AsyncSecurityScheme struct {
	Name, Type string
	Pos        document.Pos
}

// AsyncServer is a server of an AsyncAPI description.
type AsyncServer struct {
	Name     string
	Host     string // host[:port], with {variables} as written
	Protocol string // kafka, mqtt, nats, ws, ...
	Pathname string
	// Variables are the server variables' default values.
	Variables map[string]string
	// Security names the security schemes the server lists (3.0: the
	// components' keys; 2.6: the requirement names).
	Security []string
	Pos      document.Pos
}

// Channel is an AsyncAPI channel.
type Channel struct {
	ID       string
	Address  string // with {parameters} as written; "" when unknown
	Params   []string
	Messages []*AsyncMessage
	Servers  []string // the servers it is available on; all when empty
	Bindings map[string]any
	Pos      document.Pos
}

// AsyncOperation is an AsyncAPI operation, from the API's side.
type AsyncOperation struct {
	ID       string
	Action   string // "send" or "receive": what the API does
	Channel  *Channel
	Messages []*AsyncMessage
	Reply    *Reply
	Bindings map[string]any
	Pos      document.Pos
}

// Reply is a 3.0 operation's reply: where the API answers.
type Reply struct {
	Channel  *Channel
	Messages []*AsyncMessage
}

// AsyncMessage is an AsyncAPI message.
type AsyncMessage struct {
	Name        string
	ContentType string
	Headers     any // JSON Schema, as decoded
	Payload     any
	// CorrelationID is the correlation id's location, a runtime
	// expression such as $message.header#/orderRequestId; "" for none.
	CorrelationID string
	Bindings      map[string]any
	Pos           document.Pos
}

// Operation returns the operation with the given id, or nil.
func (d *AsyncDoc) Operation(id string) *AsyncOperation { return d.Operations[id] }

// ChannelAt resolves a JSON pointer into the description
// (#/channels/place-order) to a channel, or nil.
func (d *AsyncDoc) ChannelAt(pointer string) *Channel {
	p := strings.TrimPrefix(pointer, "#")
	toks := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(toks) != 2 || toks[0] != "channels" {
		return nil
	}
	id := strings.NewReplacer("~1", "/", "~0", "~").Replace(toks[1])
	if u, err := url.PathUnescape(id); err == nil {
		id = u
	}
	return d.Channels[id]
}

// OperationIDs lists the operation ids, sorted, for messages.
func (d *AsyncDoc) OperationIDs() []string { return slices.Sorted(maps.Keys(d.Operations)) }

// asyncLoader turns the YAML tree into the model, resolving local $refs.
type asyncLoader struct {
	file     string
	root     *yaml.Node
	doc      *AsyncDoc
	messages map[*yaml.Node]*AsyncMessage
	channels map[*yaml.Node]*Channel
	depth    int
}

// loadAsyncAPI reads an AsyncAPI 2.6 or 3.0 description.
func loadAsyncAPI(file string, data []byte) (doc *AsyncDoc, err error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %v", file, err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML or JSON object", file)
	}
	top := root.Content[0]
	l := &asyncLoader{file: file, root: top, doc: &AsyncDoc{Channels: map[string]*Channel{}, Operations: map[string]*AsyncOperation{}, root: top},
		messages: map[*yaml.Node]*AsyncMessage{}, channels: map[*yaml.Node]*Channel{}}
	v := get(top, "asyncapi")
	if v == nil || v.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("%s: no asyncapi version field", file)
	}
	l.doc.Version = v.Value
	l.doc.SecuritySchemes = map[string]*AsyncSecurityScheme{}
	if err := each(get(get(top, "components"), "securitySchemes"), func(name string, k, v *yaml.Node) error {
		n, err := l.deref(v)
		if err == nil {
			l.doc.SecuritySchemes[name] = &AsyncSecurityScheme{Name: name, Type: str(n, "type"), Pos: pos(k)}
		}
		return err
	}); err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(v.Value, "3."):
		err = l.v3(top)
	case strings.HasPrefix(v.Value, "2."):
		minor, _ := strconv.Atoi(strings.Split(v.Value, ".")[1])
		if minor < 3 {
			return nil, fmt.Errorf("%s:%d:%d: AsyncAPI %s is not supported: 2.3 to 2.6 and 3.0 are", file, v.Line, v.Column, v.Value)
		}
		err = l.v2(top)
	default:
		return nil, fmt.Errorf("%s:%d:%d: AsyncAPI %s is not supported (2.3 to 2.6 and 3.0 are)", file, v.Line, v.Column, v.Value)
	}
	if err != nil {
		return nil, err
	}
	return l.doc, nil
}

func pos(n *yaml.Node) document.Pos { return document.Pos{Line: n.Line, Col: n.Column} }

// get returns the value of key in a mapping node, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func str(m *yaml.Node, key string) string {
	if v := get(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// each calls f for every key of a mapping node, in document order.
func each(m *yaml.Node, f func(key string, k, v *yaml.Node) error) error {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if err := f(m.Content[i].Value, m.Content[i], m.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// deref follows a local $ref (#/...) to the node it names. References to
// other files are refused with their position: the policy-checked loader
// reads only the description itself for AsyncAPI.
func (l *asyncLoader) deref(n *yaml.Node) (*yaml.Node, error) {
	for range 32 {
		if n == nil {
			return nil, nil
		}
		if n.Kind == yaml.AliasNode {
			n = n.Alias
			continue
		}
		ref := get(n, "$ref")
		if ref == nil {
			return n, nil
		}
		target, ok := strings.CutPrefix(ref.Value, "#")
		if !ok {
			return nil, fmt.Errorf("%s:%d:%d: $ref %q: only references inside the description (#/...) are followed for AsyncAPI", l.file, ref.Line, ref.Column, ref.Value)
		}
		cur := l.root
		for _, tok := range strings.Split(strings.TrimPrefix(target, "/"), "/") {
			if tok == "" {
				continue
			}
			tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			var next *yaml.Node
			switch cur.Kind {
			case yaml.MappingNode:
				next = get(cur, tok)
			case yaml.SequenceNode:
				if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(cur.Content) {
					next = cur.Content[i]
				}
			}
			if next == nil {
				return nil, fmt.Errorf("%s:%d:%d: $ref %q points to nothing", l.file, ref.Line, ref.Column, ref.Value)
			}
			// A pointer may pass through another $ref (#/channels/x/messages/y).
			var err error
			if cur, err = l.deref(next); err != nil {
				return nil, err
			}
		}
		n = cur
	}
	return nil, fmt.Errorf("%s:%d:%d: $ref chain too long", l.file, n.Line, n.Column)
}

// value decodes a node (a schema, bindings) to plain Go values, with
// local $refs resolved.
func (l *asyncLoader) value(n *yaml.Node) (any, error) {
	l.depth++
	defer func() { l.depth-- }()
	if l.depth > 64 {
		return nil, nil // a recursive schema: deep enough for checks
	}
	n, err := l.deref(n)
	if err != nil || n == nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		err := each(n, func(k string, _, v *yaml.Node) error {
			x, err := l.value(v)
			m[k] = x
			return err
		})
		return m, err
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := l.value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s:%d:%d: %v", l.file, n.Line, n.Column, err)
	}
	return v, nil
}

func (l *asyncLoader) bindings(n *yaml.Node) map[string]any {
	v, _ := l.value(get(n, "bindings"))
	m, _ := v.(map[string]any)
	return m
}

func (l *asyncLoader) servers(top *yaml.Node, v3 bool) error {
	return each(get(top, "servers"), func(name string, _, v *yaml.Node) error {
		n, err := l.deref(v)
		if err != nil {
			return err
		}
		s := &AsyncServer{Name: name, Protocol: str(n, "protocol"), Pos: pos(n), Variables: map[string]string{}}
		if v3 {
			s.Host, s.Pathname = str(n, "host"), str(n, "pathname")
		} else {
			// 2.x: url is host[:port][/path], with or without a scheme.
			u := str(n, "url")
			if _, rest, ok := strings.Cut(u, "://"); ok {
				u = rest
			}
			s.Host, s.Pathname, _ = strings.Cut(u, "/")
			if s.Pathname != "" {
				s.Pathname = "/" + s.Pathname
			}
		}
		if s.Host == "" {
			return fmt.Errorf("%s:%d:%d: server %q has no host", l.file, n.Line, n.Column, name)
		}
		if err := each(get(n, "variables"), func(vn string, _, vv *yaml.Node) error {
			vv, err := l.deref(vv)
			if err != nil {
				return err
			}
			s.Variables[vn] = str(vv, "default")
			return nil
		}); err != nil {
			return err
		}
		if sec := get(n, "security"); sec != nil && sec.Kind == yaml.SequenceNode {
			for _, item := range sec.Content {
				if r := get(item, "$ref"); r != nil {
					s.Security = append(s.Security, r.Value[strings.LastIndex(r.Value, "/")+1:])
					continue
				}
				_ = each(item, func(k string, _, _ *yaml.Node) error { s.Security = append(s.Security, k); return nil })
			}
		}
		l.doc.Servers = append(l.doc.Servers, s)
		return nil
	})
}

func (l *asyncLoader) message(n *yaml.Node, name string) (*AsyncMessage, error) {
	if r := get(n, "$ref"); name == "" && r != nil {
		// A 2.6 operation's message: named by its reference.
		name = r.Value[strings.LastIndex(r.Value, "/")+1:]
	}
	n, err := l.deref(n)
	if err != nil || n == nil {
		return nil, err
	}
	if m, ok := l.messages[n]; ok {
		return m, nil
	}
	m := &AsyncMessage{Name: name, ContentType: str(n, "contentType"), Pos: pos(n), Bindings: l.bindings(n)}
	if t := str(n, "name"); t != "" {
		m.Name = t
	}
	l.messages[n] = m
	if m.Headers, err = l.value(get(n, "headers")); err != nil {
		return nil, err
	}
	payload := get(n, "payload")
	if p, _ := l.deref(payload); p != nil && get(p, "schema") != nil && get(p, "schemaFormat") != nil {
		payload = get(p, "schema") // a 3.0 multi-format schema object
	}
	if m.Payload, err = l.value(payload); err != nil {
		return nil, err
	}
	if c := get(n, "correlationId"); c != nil {
		c, err := l.deref(c)
		if err != nil {
			return nil, err
		}
		m.CorrelationID = str(c, "location")
	}
	return m, nil
}

// messageList reads a list of message $refs (3.0 operations) or a map of
// messages (3.0 channels), or a 2.6 oneOf.
func (l *asyncLoader) messageList(n *yaml.Node) ([]*AsyncMessage, error) {
	n, err := l.deref(n)
	if err != nil || n == nil {
		return nil, err
	}
	var out []*AsyncMessage
	add := func(name string, v *yaml.Node) error {
		m, err := l.message(v, name)
		if m != nil {
			out = append(out, m)
		}
		return err
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			name := ""
			if r := get(c, "$ref"); r != nil {
				name = r.Value[strings.LastIndex(r.Value, "/")+1:]
			}
			if err := add(name, c); err != nil {
				return nil, err
			}
		}
	case yaml.MappingNode:
		if one := get(n, "oneOf"); one != nil {
			return l.messageList(one)
		}
		if get(n, "payload") != nil || get(n, "headers") != nil || get(n, "contentType") != nil {
			return out, add("", n) // a single 2.6 message
		}
		err = each(n, func(k string, _, v *yaml.Node) error { return add(k, v) })
	}
	return out, err
}

func (l *asyncLoader) channel(n *yaml.Node, id string) (*Channel, error) {
	n, err := l.deref(n)
	if err != nil || n == nil {
		return nil, err
	}
	if c, ok := l.channels[n]; ok {
		return c, nil
	}
	c := &Channel{ID: id, Address: str(n, "address"), Pos: pos(n), Bindings: l.bindings(n)}
	l.channels[n] = c
	_ = each(get(n, "parameters"), func(k string, _, _ *yaml.Node) error { c.Params = append(c.Params, k); return nil })
	if s := get(n, "servers"); s != nil && s.Kind == yaml.SequenceNode {
		for _, x := range s.Content {
			if r := get(x, "$ref"); r != nil {
				c.Servers = append(c.Servers, r.Value[strings.LastIndex(r.Value, "/")+1:])
			} else if x.Kind == yaml.ScalarNode {
				c.Servers = append(c.Servers, x.Value)
			}
		}
	}
	c.Messages, err = l.messageList(get(n, "messages"))
	return c, err
}

func (l *asyncLoader) v3(top *yaml.Node) error {
	if err := l.servers(top, true); err != nil {
		return err
	}
	if err := each(get(top, "channels"), func(id string, _, v *yaml.Node) error {
		c, err := l.channel(v, id)
		if err == nil {
			c.ID = id
			l.doc.Channels[id] = c
		}
		return err
	}); err != nil {
		return err
	}
	return each(get(top, "operations"), func(id string, k, v *yaml.Node) error {
		n, err := l.deref(v)
		if err != nil {
			return err
		}
		op := &AsyncOperation{ID: id, Action: str(n, "action"), Pos: pos(k), Bindings: l.bindings(n)}
		if op.Action != "send" && op.Action != "receive" {
			return fmt.Errorf("%s:%d:%d: operation %q: action must be send or receive, found %q", l.file, n.Line, n.Column, id, op.Action)
		}
		ch := get(n, "channel")
		if ch == nil {
			return fmt.Errorf("%s:%d:%d: operation %q has no channel", l.file, n.Line, n.Column, id)
		}
		if op.Channel, err = l.channel(ch, ""); err != nil {
			return err
		}
		if op.Messages, err = l.messageList(get(n, "messages")); err != nil {
			return err
		}
		if len(op.Messages) == 0 {
			op.Messages = op.Channel.Messages
		}
		if r, err := l.deref(get(n, "reply")); err != nil {
			return err
		} else if r != nil {
			op.Reply = &Reply{}
			if rc := get(r, "channel"); rc != nil {
				if op.Reply.Channel, err = l.channel(rc, ""); err != nil {
					return err
				}
			}
			if op.Reply.Messages, err = l.messageList(get(r, "messages")); err != nil {
				return err
			}
			if len(op.Reply.Messages) == 0 && op.Reply.Channel != nil {
				op.Reply.Messages = op.Reply.Channel.Messages
			}
		}
		l.doc.Operations[id] = op
		return nil
	})
}

func (l *asyncLoader) v2(top *yaml.Node) error {
	if err := l.servers(top, false); err != nil {
		return err
	}
	return each(get(top, "channels"), func(addr string, _, v *yaml.Node) error {
		n, err := l.deref(v)
		if err != nil {
			return err
		}
		c := &Channel{ID: addr, Address: addr, Pos: pos(n), Bindings: l.bindings(n)}
		l.channels[n] = c
		_ = each(get(n, "parameters"), func(k string, _, _ *yaml.Node) error { c.Params = append(c.Params, k); return nil })
		if s := get(n, "servers"); s != nil && s.Kind == yaml.SequenceNode {
			for _, x := range s.Content {
				c.Servers = append(c.Servers, x.Value)
			}
		}
		l.doc.Channels[addr] = c
		for verb, action := range map[string]string{"publish": "receive", "subscribe": "send"} {
			on, err := l.deref(get(n, verb))
			if err != nil {
				return err
			}
			if on == nil {
				continue
			}
			msgs, err := l.messageList(get(on, "message"))
			if err != nil {
				return err
			}
			c.Messages = append(c.Messages, msgs...)
			id := str(on, "operationId")
			if id == "" {
				continue
			}
			if prev := l.doc.Operations[id]; prev != nil {
				return fmt.Errorf("%s:%d:%d: operationId %q is used twice", l.file, on.Line, on.Column, id)
			}
			l.doc.Operations[id] = &AsyncOperation{ID: id, Action: action, Channel: c, Messages: msgs, Pos: pos(on), Bindings: l.bindings(on)}
		}
		return nil
	})
}
