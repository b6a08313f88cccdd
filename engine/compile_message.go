package engine

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Compiling AsyncAPI steps (1.1): resolve the operation or channel, check
// the step's action against the description, choose the transport.

// WithTransports adds broker transports: a source whose AsyncAPI server
// speaks one of a transport's protocols exchanges its messages through
// it. Without one, `run` refuses the source's steps and `validate` warns.
func WithTransports(ts ...message.Transport) CompileOption {
	return func(c *compiler) { c.transports = append(c.transports, ts...) }
}

// MessageTarget is what an AsyncAPI step sends or receives.
type MessageTarget struct {
	// Action is the step's: "send" or "receive".
	Action string
	// Operation is the AsyncAPI operation (nil for a channelPath step).
	Operation *source.AsyncOperation
	Channel   *source.Channel
	// Messages are the messages the channel or operation allows; the
	// first gives the content type.
	Messages []*source.AsyncMessage
	// Correlation is the value a received message must carry at
	// CorrelationAt (the message's correlationId location); nil for none.
	Correlation   *expr.Value
	CorrelationAt *corrLocation
	// schemas are the messages' compiled payload and headers schemas
	// (nil where a message has none or it does not compile), for the
	// contract checks.
	schemas []messageSchemas
	// binds are the AsyncAPI bindings handed to the transport.
	binds *message.Bindings
}

type messageSchemas struct {
	name             string
	payload, headers *schema.Message
}

// ContentType is the content type of what the step sends or receives:
// its requestBody's, else the first message's, else JSON.
func (t *MessageTarget) ContentType(s *Step) string {
	if s.Body != nil && s.Body.ContentType != "" {
		return s.Body.ContentType
	}
	for _, m := range t.Messages {
		if m.ContentType != "" {
			return m.ContentType
		}
	}
	return "application/json"
}

// bindings are the AsyncAPI bindings of what the step sends or
// receives: its channel's, its operation's when the step uses the
// operation's own channel (not its reply), its first message's.
func (t *MessageTarget) bindings() *message.Bindings {
	b := &message.Bindings{}
	if t.Channel != nil {
		b.Channel = t.Channel.Bindings
	}
	if t.Operation != nil && t.Operation.Channel == t.Channel {
		b.Operation = t.Operation.Bindings
	}
	if len(t.Messages) > 0 {
		b.Message = t.Messages[0].Bindings
	}
	if b.Channel == nil && b.Operation == nil && b.Message == nil {
		return nil
	}
	return b
}

// asyncServer is the server of an AsyncAPI source its steps use, chosen
// at compile time: the first whose protocol has a transport.
type asyncServer struct {
	server    *source.AsyncServer
	transport message.Transport
}

// transportFor returns the transport serving protocol, or nil.
func transportFor(ts []message.Transport, protocol string) message.Transport {
	for _, t := range ts {
		for _, p := range t.Protocols() {
			if strings.EqualFold(p, protocol) {
				return t
			}
		}
	}
	return nil
}

func (c *compiler) protocolNames() string {
	var names []string
	for _, t := range c.transports {
		names = append(names, t.Protocols()...)
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// chooseServer picks an AsyncAPI source's server.
func (c *compiler) chooseServer(ref *SourceRef) {
	doc := ref.Source.Async
	for _, s := range doc.Servers {
		if t := transportFor(c.transports, s.Protocol); t != nil {
			ref.async = &asyncServer{server: s, transport: t}
			return
		}
	}
	if len(doc.Servers) > 0 {
		ref.async = &asyncServer{server: doc.Servers[0]}
	} else {
		ref.async = &asyncServer{}
	}
}

var channelPathRE = regexp.MustCompile(`^\{?\$sourceDescriptions\.([A-Za-z0-9_\-]+)(?:\.url)?\}?(#.*)$`)

// messageStep compiles an AsyncAPI step.
func (c *compiler) messageStep(s *Step) {
	sd := s.Doc
	s.Kind = MessageStep
	t := &MessageTarget{Action: sd.Action}
	switch sd.Action {
	case "send", "receive":
	case "":
		c.errorf(sd.Pos, "async-action", "step %q is an AsyncAPI step: it needs `action: send` or `action: receive`", s.ID)
	default:
		c.errorf(sd.At("action"), "async-action", "action is send or receive, found %q", sd.Action)
	}
	var ref *SourceRef
	switch {
	case sd.OperationPath != "":
		c.errorf(sd.At("operationPath"), "async-target", "an AsyncAPI step names its operation with operationId ($sourceDescriptions.<name>.<operationId>) or its channel with channelPath; operationPath is for OpenAPI paths")
		return
	case sd.ChannelPath != "":
		m := channelPathRE.FindStringSubmatch(sd.ChannelPath)
		if m == nil {
			c.errorf(sd.At("channelPath"), "async-target", "channelPath is {$sourceDescriptions.<name>.url}#/channels/<channel>, found %q", sd.ChannelPath)
			return
		}
		if ref = c.asyncSource(m[1], sd.At("channelPath"), sd.ChannelPath); ref == nil {
			return
		}
		if t.Channel = ref.Source.Async.ChannelAt(m[2]); t.Channel == nil {
			c.errorf(sd.At("channelPath"), "async-target", "source %q has no channel at %s (channels: %s)", m[1], m[2], channelIDs(ref.Source.Async))
			return
		}
		t.Messages = t.Channel.Messages
	case sd.OperationID != "":
		ref, t.Operation = c.asyncOperation(sd)
		if t.Operation == nil {
			return
		}
		op := t.Operation
		t.Channel, t.Messages = op.Channel, op.Messages
		// The description speaks for the API: the workflow sends what the
		// API receives and receives what it sends, or its reply.
		switch {
		case sd.Action == "" || sd.Action != op.Action:
		case op.Reply != nil && op.Reply.Channel != nil:
			t.Channel, t.Messages = op.Reply.Channel, op.Reply.Messages
		default:
			c.errorf(sd.At("action"), "async-action", "operation %q is one the API %ss (AsyncAPI describes the API's side), so a workflow %ss it: write `action: %s`, or use channelPath to %s on its channel regardless", op.ID, op.Action, opposite(op.Action), opposite(op.Action), sd.Action)
		}
	default:
		c.errorf(sd.Pos, "async-target", "step %q has an action but neither operationId nor channelPath", s.ID)
		return
	}
	s.Source, s.Message = ref, t
	t.binds = t.bindings()
	c.messageSchemas(s, t)
	switch {
	case ref.async.server == nil:
		// No servers: where and which protocol come from --server at run
		// time (endpoint says so when it is missing).
		s.perform = messageCall{}
	case ref.async.transport == nil:
		c.unsupported(sd.At("action"), fmt.Sprintf("source %q speaks protocol %s, for which this program has no transport (it has: %s)", ref.Name, ref.async.server.Protocol, c.protocolNames()))
	default:
		s.perform = messageCall{}
	}
	if sd.HasCorrelationID {
		if sd.Action == "send" {
			c.warnf(sd.At("correlationId"), "correlation-id", "correlationId applies to receive steps; a send step sets it as a header or payload field")
		}
		at := ""
		for _, m := range t.Messages {
			if m.CorrelationID != "" {
				at = m.CorrelationID
				break
			}
		}
		if at == "" {
			c.errorf(sd.At("correlationId"), "correlation-id", "correlationId is given but no message of channel %q declares a correlationId location to compare it with", t.Channel.ID)
		} else if l, err := parseCorrLocation(at); err != nil {
			c.errorf(sd.At("correlationId"), "correlation-id", "%v", err)
		} else {
			t.CorrelationAt = l
			t.Correlation = c.value(sd.CorrelationID, sd.At("correlationId"), true)
		}
	}
	for _, p := range sd.Parameters {
		if p.Parameter == nil {
			continue
		}
		switch p.In {
		case "header":
		case "channel":
			if !hasString(t.Channel.Params, p.Name) && !strings.Contains(t.Channel.Address, "{"+p.Name+"}") {
				c.errorf(p.At("name"), "parameter-undeclared", "channel %q has no parameter %q (its address is %q)", t.Channel.ID, p.Name, t.Channel.Address)
			}
		default:
			c.errorf(p.At("in"), "parameter-in", "parameter %q of an AsyncAPI step is in: header or in: channel, found %q", p.Name, p.In)
		}
	}
}

// messageSchemas compiles the payload and headers schemas of a step's
// messages, once per message (they are shared by every step using it).
func (c *compiler) messageSchemas(s *Step, t *MessageTarget) {
	if c.msgSchemas == nil {
		c.msgSchemas = map[*source.AsyncMessage]messageSchemas{}
	}
	for _, m := range t.Messages {
		ms, done := c.msgSchemas[m]
		if !done {
			ms.name = m.Name
			for _, x := range []struct {
				what string
				raw  any
				out  **schema.Message
			}{{"payload", m.Payload, &ms.payload}, {"headers", m.Headers, &ms.headers}} {
				if x.raw == nil {
					continue
				}
				sch, err := schema.CompileMessage(m.Name+" "+x.what, x.raw)
				if err != nil {
					c.warnf(s.Doc.At("action"), "message-schema", "the %s schema of message %q does not compile, so it is not checked: %v", x.what, m.Name, oneLine(err))
					continue
				}
				*x.out = sch
			}
			c.msgSchemas[m] = ms
		}
		t.schemas = append(t.schemas, ms)
	}
}

func opposite(action string) string {
	if action == "send" {
		return "receive"
	}
	return "send"
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func channelIDs(d *source.AsyncDoc) string {
	var ids []string
	for id := range d.Channels {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

// asyncSource returns the named AsyncAPI source, or reports why not.
func (c *compiler) asyncSource(name string, pos document.Pos, text string) *SourceRef {
	ref := c.plan.sources[name]
	switch {
	case ref == nil:
		c.errorf(pos, "async-target", "%q names source %q, which is not declared (sources: %s)", text, name, c.sourceNames())
		return nil
	case c.unavailable[name]:
		return nil
	case ref.Source == nil || ref.Source.Async == nil:
		c.errorf(pos, "async-target", "%q names source %q, which is not an AsyncAPI description", text, name)
		return nil
	}
	return ref
}

// asyncOperation resolves an AsyncAPI step's operationId: qualified, or
// bare when exactly one AsyncAPI source has it.
func (c *compiler) asyncOperation(sd *document.Step) (*SourceRef, *source.AsyncOperation) {
	id, pos := sd.OperationID, sd.At("operationId")
	if rest, ok := strings.CutPrefix(id, "$sourceDescriptions."); ok {
		name, opID, _ := strings.Cut(rest, ".")
		ref := c.asyncSource(name, pos, id)
		if ref == nil {
			return nil, nil
		}
		if op := ref.Source.Async.Operation(opID); op != nil {
			return ref, op
		}
		c.errorf(pos, "operation-unresolved", "AsyncAPI source %q has no operation %q (operations: %s)", name, opID, strings.Join(ref.Source.Async.OperationIDs(), ", "))
		return nil, nil
	}
	var found []*SourceRef
	for _, sdoc := range c.doc.SourceDescriptions {
		if ref := c.plan.sources[sdoc.Name]; ref != nil && ref.Source != nil && ref.Source.Async != nil && ref.Source.Async.Operation(id) != nil {
			found = append(found, ref)
		}
	}
	switch len(found) {
	case 1:
		return found[0], found[0].Source.Async.Operation(id)
	case 0:
		c.errorf(pos, "operation-unresolved", "no AsyncAPI source has an operation %q", id)
	default:
		c.errorf(pos, "operation-ambiguous", "operation %q is in sources %s and %s: write $sourceDescriptions.<name>.%s", id, found[0].Name, found[1].Name, id)
	}
	return nil, nil
}

// channelAddress fills a channel address's {parameters}.
func channelAddress(addr string, params map[string]string) (string, error) {
	out, missing := fillBraces(addr, params)
	if len(missing) > 0 {
		return "", fmt.Errorf("channel address %q needs parameter(s) %s (give them with in: channel)", addr, strings.Join(missing, ", "))
	}
	return out, nil
}

// fillBraces replaces each {name} in s by vals[name]; missing lists the
// names vals lacks.
func fillBraces(s string, vals map[string]string) (out string, missing []string) {
	out = paramRE.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := vals[m[1:len(m)-1]]
		if !ok {
			missing = append(missing, m[1:len(m)-1])
		}
		return v
	})
	return out, missing
}

var paramRE = regexp.MustCompile(`\{[^{}]+\}`)

// corrLocation is an AsyncAPI correlationId location:
// $message.header#/<pointer> or $message.payload#/<pointer>.
type corrLocation struct {
	Text   string
	Header bool
	Tokens []string
}

func parseCorrLocation(loc string) (*corrLocation, error) {
	part, ptr, _ := strings.Cut(loc, "#")
	l := &corrLocation{Text: loc}
	switch part {
	case "$message.header":
		l.Header = true
	case "$message.payload":
	default:
		return nil, fmt.Errorf("a correlationId location is $message.header#/<pointer> or $message.payload#/<pointer>, found %q", loc)
	}
	toks, err := jsonpointer.Split(ptr)
	if err != nil {
		return nil, fmt.Errorf("correlationId location %q: %v", loc, err)
	}
	if l.Header && len(toks) != 1 {
		return nil, fmt.Errorf("correlationId location %q: a header location names one header", loc)
	}
	l.Tokens = toks
	return l, nil
}

// of reads a message's correlation id.
func (l *corrLocation) of(header map[string]string, payload any, hasPayload bool) (string, bool) {
	if l.Header {
		for k, v := range header {
			if strings.EqualFold(k, l.Tokens[0]) {
				return v, true
			}
		}
		return "", false
	}
	if !hasPayload {
		return "", false
	}
	v, ok := jsonpointer.Get(payload, l.Tokens)
	if !ok {
		return "", false
	}
	return expr.Text(v), true
}
