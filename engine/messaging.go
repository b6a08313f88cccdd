package engine

// The message step kind (AsyncAPI, Arazzo 1.1): send a message, or receive
// one on a subscription opened when the workflow starts, through the
// transport chosen for the step's source at compile time. No broker
// client is imported here; transports live in package message's
// sub-packages.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source"
)

// DefaultMessageTimeout bounds a receive step that has no timeout of its
// own: a message that never comes must not hang a run.
const DefaultMessageTimeout = 30 * time.Second

// MessageInfo describes a message sent or received, on MessageSent and
// MessageReceived events.
type MessageInfo struct {
	Protocol string
	Server   string
	Channel  string
	Header   map[string]string
	Payload  []byte // capped
}

// BrokerAuthenticator is a Middleware that also gives brokers their
// credentials: it fills ep (username, password, TLS) for a source's
// connection before it is dialled.
type BrokerAuthenticator interface {
	AuthenticateBroker(ctx context.Context, src *SourceRef, ep *message.Endpoint) error
}

// AsyncServer is the AsyncAPI server an AsyncAPI source's steps use
// (chosen at compile time), or nil for other sources. A --server
// override changes where it is, not its security.
func (ref *SourceRef) AsyncServer() *source.AsyncServer {
	if ref == nil || ref.async == nil {
		return nil
	}
	return ref.async.server
}

// msgExchange is the message a step sent or received, as $message reads it.
type msgExchange struct {
	header     map[string]string
	payload    any
	hasPayload bool
}

// starter is a step kind with work to do when its workflow starts: a
// receive subscribes then, before any step can trigger its message.
type starter interface {
	start(ctx context.Context, f *frame, s *Step) error
}

// begin applies the step's timeout to a wait in the background.
func (t timed) begin(ctx context.Context, f *frame, s *Step, attempt int) func() *stepOutcome {
	sctx, cancel := context.WithTimeout(ctx, s.Timeout)
	wait := t.performer.(backgrounder).begin(sctx, f, s, attempt)
	return func() *stepOutcome {
		defer cancel()
		res := wait()
		if ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) && res.err != nil {
			res.err = &StepTimeoutError{StepID: s.ID, Timeout: s.Timeout, Err: res.err}
			res.interrupted = false
		}
		return res
	}
}

func (t timed) start(ctx context.Context, f *frame, s *Step) error {
	if st, ok := t.performer.(starter); ok {
		return st.start(ctx, f, s)
	}
	return nil
}

// startSteps runs the starters of a workflow's steps; the returned
// function undoes them when the workflow ends.
func (r *run) startSteps(ctx context.Context, f *frame) (func(), *Step, error) {
	var started []*Step
	stop := func() {
		for _, s := range started {
			r.closeSubscription(s)
		}
	}
	for _, s := range f.w.Steps {
		if st, ok := s.perform.(starter); ok {
			if err := st.start(ctx, f, s); err != nil {
				stop()
				return func() {}, s, err
			}
			started = append(started, s)
		}
	}
	return stop, nil, nil
}

type messageCall struct{}

// brokers holds a run's broker connections and subscriptions.
type brokers struct {
	mu    sync.Mutex
	conns map[*SourceRef]message.Conn
	subs  map[*Step]message.Subscription
}

func (r *run) closeSubscription(s *Step) {
	r.brokers.mu.Lock()
	sub := r.brokers.subs[s]
	delete(r.brokers.subs, s)
	r.brokers.mu.Unlock()
	if sub != nil {
		sub.Close()
	}
}

// closeBrokers closes every connection of the run.
func (r *run) closeBrokers() {
	r.brokers.mu.Lock()
	conns, subs := r.brokers.conns, r.brokers.subs
	r.brokers.conns, r.brokers.subs = nil, nil
	r.brokers.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
	for _, c := range conns {
		c.Close()
	}
}

// endpoint is where a source's broker is: a --server override
// (kafka://host:port, the scheme naming the protocol), else the server
// chosen at compile time, its variables filled.
func (r *run) endpoint(s *Step) (message.Endpoint, message.Transport, error) {
	ref := s.Source
	if o, ok := r.opts.Servers[ref.Name]; ok {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return message.Endpoint{}, nil, fmt.Errorf("--server %s=%s: a broker address is PROTOCOL://HOST:PORT (kafka://127.0.0.1:9092)", ref.Name, o)
		}
		t := transportFor(s.Workflow.Plan.transports, u.Scheme)
		if t == nil {
			return message.Endpoint{}, nil, fmt.Errorf("--server %s=%s: no transport for protocol %q", ref.Name, o, u.Scheme)
		}
		ep := message.Endpoint{Protocol: u.Scheme, Host: u.Host, Path: u.Path}
		if u.User != nil {
			ep.Username = u.User.Username()
			ep.Password, _ = u.User.Password()
		}
		return ep, t, nil
	}
	srv := ref.async.server
	if srv == nil {
		return message.Endpoint{}, nil, fmt.Errorf("the AsyncAPI description of source %s has no servers: give one with --server %s=PROTOCOL://HOST:PORT", ref.Name, ref.Name)
	}
	vars := map[string]string{}
	for k, v := range srv.Variables {
		vars[k] = v
	}
	for _, m := range []map[string]string{r.opts.ServerVariables[""], r.opts.ServerVariables[ref.Name]} {
		for k, v := range m {
			vars[k] = v
		}
	}
	host, err := fillVars(srv.Host, vars)
	if err != nil {
		return message.Endpoint{}, nil, fmt.Errorf("server %s: %v", srv.Name, err)
	}
	return message.Endpoint{Protocol: srv.Protocol, Host: host, Path: srv.Pathname}, ref.async.transport, nil
}

func fillVars(s string, vars map[string]string) (string, error) {
	out, missing := fillBraces(s, vars)
	if len(missing) > 0 {
		return "", fmt.Errorf("%q needs server variable(s) %s (give them with --server-var)", s, strings.Join(missing, ", "))
	}
	return out, nil
}

// conn returns the run's connection to the step's broker, dialling it
// the first time.
func (r *run) conn(ctx context.Context, s *Step) (message.Conn, message.Endpoint, error) {
	ep, t, err := r.endpoint(s)
	if err != nil {
		return nil, ep, err
	}
	r.brokers.mu.Lock()
	c := r.brokers.conns[s.Source]
	r.brokers.mu.Unlock()
	if c != nil {
		return c, ep, nil
	}
	for _, m := range r.opts.Middleware {
		if a, ok := m.(BrokerAuthenticator); ok {
			if err := a.AuthenticateBroker(ctx, s.Source, &ep); err != nil {
				return nil, ep, err
			}
		}
	}
	if ep.Password != "" {
		r.redact.add(ep.Password)
	}
	c, err = t.Dial(ctx, ep)
	if err != nil {
		return nil, ep, err
	}
	r.brokers.mu.Lock()
	if r.brokers.conns == nil {
		r.brokers.conns = map[*SourceRef]message.Conn{}
	}
	r.brokers.conns[s.Source] = c
	r.brokers.mu.Unlock()
	return c, ep, nil
}

// channel is the step's channel address, its parameters filled.
func (f *frame) channel(s *Step) (string, error) {
	ch := s.Message.Channel
	addr := ch.Address
	if addr == "" {
		addr = ch.ID
	}
	params := map[string]string{}
	for _, p := range s.Params {
		if p.In == "channel" {
			if v, ok := p.Value.Eval(f); ok {
				params[p.Name] = fmt.Sprint(v)
			}
		}
	}
	if !strings.Contains(addr, "{") {
		return addr, nil
	}
	return channelAddress(addr, params)
}

// start subscribes a receive step's channel.
func (messageCall) start(ctx context.Context, f *frame, s *Step) error {
	if s.Message.Action != "receive" || f.run.dry {
		return nil
	}
	r := f.run
	c, ep, err := r.conn(ctx, s)
	if err != nil {
		return &MessageError{Step: s.ID, Op: "connect", Server: ep.Host, Err: err}
	}
	ch, err := f.channel(s)
	if err != nil {
		return &RequestError{err}
	}
	var sub message.Subscription
	if bs, ok := c.(message.BindingSubscriber); ok {
		sub, err = bs.SubscribeBound(ctx, ch, s.Message.binds)
	} else {
		sub, err = c.Subscribe(ctx, ch)
	}
	if err != nil {
		return &MessageError{Step: s.ID, Op: "subscribe to " + ch, Server: ep.Host, Err: err}
	}
	r.brokers.mu.Lock()
	if r.brokers.subs == nil {
		r.brokers.subs = map[*Step]message.Subscription{}
	}
	if old := r.brokers.subs[s]; old != nil {
		old.Close()
	}
	r.brokers.subs[s] = sub
	r.brokers.mu.Unlock()
	return nil
}

func (m messageCall) perform(ctx context.Context, f *frame, s *Step, attempt int) *stepOutcome {
	if s.Message.Action == "send" {
		return m.send(ctx, f, s, attempt)
	}
	return m.receive(ctx, f, s, attempt)
}

func (messageCall) send(ctx context.Context, f *frame, s *Step, attempt int) *stepOutcome {
	r := f.run
	ch, err := f.channel(s)
	if err != nil {
		return &stepOutcome{err: &RequestError{err}}
	}
	msg := &message.Message{Channel: ch, Header: map[string]string{}, ContentType: s.Message.ContentType(s), Bindings: s.Message.binds}
	for _, p := range s.Params {
		if p.In == "header" {
			if v, ok := p.Value.Eval(f); ok {
				msg.Header[p.Name] = fmt.Sprint(v)
			}
		}
	}
	ex := &exchange{msg: &msgExchange{header: msg.Header}}
	if s.Body != nil {
		b := &builtRequest{Request: protocol.Request{Header: http.Header{}}}
		body := *s.Body
		body.ContentType = msg.ContentType
		if err := b.setBody(&body, f, nil); err != nil {
			return &stepOutcome{err: &RequestError{err}}
		}
		for _, n := range b.Notices {
			r.notice(f, s, attempt, n)
		}
		msg.Payload = b.Body
		ex.msg.payload, ex.msg.hasPayload = decodePayload(msg.Payload, msg.ContentType)
	}
	vs, err := r.checkMessage(f, s, attempt, CheckRequest, msg.Header, ex.msg.payload, ex.msg.hasPayload)
	if err != nil {
		return &stepOutcome{err: err, ex: ex, violations: vs} // not sent: the message itself is wrong
	}
	c, ep, err := r.conn(ctx, s)
	if err != nil {
		return &stepOutcome{err: &MessageError{Step: s.ID, Op: "connect", Server: ep.Host, Err: err}, ex: ex, interrupted: true, violations: vs}
	}
	if err := c.Send(ctx, msg); err != nil {
		return &stepOutcome{err: &MessageError{Step: s.ID, Op: "send to " + ch, Server: ep.Host, Err: err}, ex: ex, interrupted: true, violations: vs}
	}
	if r.observed() {
		r.emit(Event{Kind: MessageSent, WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Msg: msgInfo(ep, msg)})
	}
	return &stepOutcome{ex: ex, violations: vs}
}

// checkMessage checks a message against the step's message schemas
// (Options.Checks: CheckRequest for what is sent, CheckSchema for what is
// received): it conforms when one of the messages the channel or
// operation allows accepts it; otherwise the closest one's complaints are
// reported. The error is the step's when one has error severity.
func (r *run) checkMessage(f *frame, s *Step, attempt int, check Check, header map[string]string, payload any, has bool) ([]Violation, error) {
	sev := r.opts.Checks[check]
	if sev == CheckOff || len(s.Message.schemas) == 0 {
		return nil, nil
	}
	var best []Violation
	for _, ms := range s.Message.schemas {
		var vs []Violation
		if ms.payload != nil && has {
			for _, p := range ms.payload.Validate(payload) {
				vs = append(vs, Violation{Check: check, Severity: sev, Pointer: p.Pointer, Rule: p.Rule, Message: "message " + ms.name + " payload: " + p.Message})
			}
		}
		if ms.headers != nil {
			h := make(map[string]any, len(header))
			for k, v := range header {
				h[k] = v
			}
			for _, p := range ms.headers.Validate(h) {
				vs = append(vs, Violation{Check: check, Severity: sev, Pointer: p.Pointer, Rule: p.Rule, Message: "message " + ms.name + " headers: " + p.Message})
			}
		}
		if len(vs) == 0 {
			return nil, nil
		}
		if best == nil || len(vs) < len(best) {
			best = vs
		}
	}
	chk := &checker{out: best}
	err := r.reportChecks(f, s, attempt, chk, 0)
	return chk.out, err
}

func msgInfo(ep message.Endpoint, m *message.Message) *MessageInfo {
	h := make(map[string]string, len(m.Header))
	for k, v := range m.Header {
		h[k] = v
	}
	return &MessageInfo{Protocol: ep.Protocol, Server: ep.Host, Channel: m.Channel, Header: h, Payload: capBytes(m.Payload, eventBodyBytes)}
}

func (mc messageCall) receive(ctx context.Context, f *frame, s *Step, attempt int) *stepOutcome {
	return mc.begin(ctx, f, s, attempt)()
}

// begin readies a receive on the run's goroutine (the subscription, the
// correlation id wanted); the wait it returns touches no frame, so it may
// run in the background (background.go).
func (mc messageCall) begin(ctx context.Context, f *frame, s *Step, attempt int) func() *stepOutcome {
	r := f.run
	fail := func(res *stepOutcome) func() *stepOutcome { return func() *stepOutcome { return res } }
	r.brokers.mu.Lock()
	sub := r.brokers.subs[s]
	r.brokers.mu.Unlock()
	if sub == nil {
		// Not subscribed at workflow start: a retry after a failed start.
		if err := mc.start(ctx, f, s); err != nil {
			return fail(&stepOutcome{err: err, interrupted: true})
		}
		r.brokers.mu.Lock()
		sub = r.brokers.subs[s]
		r.brokers.mu.Unlock()
	}
	want, wantCorr := "", false
	if t := s.Message; t.Correlation != nil {
		v, ok := t.Correlation.Eval(f)
		if !ok {
			return fail(&stepOutcome{err: &RequestError{fmt.Errorf("correlationId %v is undefined", s.Doc.CorrelationID)}})
		}
		want, wantCorr = fmt.Sprint(v), true
	}
	deflt := time.Duration(0)
	if s.Timeout == 0 {
		// The step's own timeout is applied by timed; this is the default.
		if deflt = r.opts.MessageTimeout; deflt <= 0 {
			deflt = DefaultMessageTimeout
		}
	}
	ep, _, _ := r.endpoint(s)
	ch, _ := f.channel(s)
	ct := s.Message.ContentType(s)
	observed := r.observed()
	wf := f.w.ID
	return func() *stepOutcome {
		parent := ctx
		if deflt > 0 {
			var cancel context.CancelFunc
			ctx, cancel := context.WithTimeout(parent, deflt)
			defer cancel()
			return receiveLoop(parent, ctx, s, sub, ch, ep, ct, want, wantCorr, deflt, observed, wf, attempt)
		}
		return receiveLoop(parent, parent, s, sub, ch, ep, ct, want, wantCorr, 0, observed, wf, attempt)
	}
}

// receiveLoop waits for the first message that carries the wanted
// correlation id.
func receiveLoop(parent, ctx context.Context, s *Step, sub message.Subscription, ch string, ep message.Endpoint, ct, want string, wantCorr bool, deflt time.Duration, observed bool, wf string, attempt int) *stepOutcome {
	skipped := 0
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			why := "no message arrived"
			if wantCorr {
				why = fmt.Sprintf("no message with correlation id %q arrived (%d other(s) skipped)", want, skipped)
			}
			me := &MessageError{Step: s.ID, Op: "receive on " + ch, Server: ep.Host, Err: err, Why: why}
			out := &stepOutcome{err: me, interrupted: true}
			if deflt > 0 && parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				out.err, out.interrupted = &StepTimeoutError{StepID: s.ID, Timeout: deflt, Err: me}, false
			}
			return out
		}
		payload, has := decodePayload(m.Payload, ct)
		if wantCorr {
			got, ok := s.Message.CorrelationAt.of(m.Header, payload, has)
			if !ok || got != want {
				skipped++
				continue
			}
		}
		out := &stepOutcome{ex: &exchange{msg: &msgExchange{header: m.Header, payload: payload, hasPayload: has}}}
		// Checked where the outcome is recorded, on the run's goroutine.
		out.after = func(f *frame) error {
			vs, err := f.run.checkMessage(f, s, attempt, CheckSchema, m.Header, payload, has)
			out.violations = append(out.violations, vs...)
			return err
		}
		if observed {
			out.events = append(out.events, Event{Kind: MessageReceived, WorkflowID: wf, StepID: s.ID, Attempt: attempt, Msg: msgInfo(ep, m)})
		}
		return out
	}
}

// decodePayload reads a payload by content type: JSON (numbers exact)
// for JSON types and when it parses, text otherwise.
func decodePayload(b []byte, ct string) (any, bool) {
	if b == nil {
		return nil, false
	}
	if IsJSONMediaType(ct) || json.Valid(b) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if d.Decode(&v) == nil {
			return v, true
		}
	}
	return string(b), true
}

// MessageError is a message step that could not reach its broker, send,
// subscribe or receive.
type MessageError struct {
	Step, Op, Server string
	Why              string
	Err              error
}

func (e *MessageError) Error() string {
	msg := e.Op
	if e.Server != "" {
		msg += " (" + e.Server + ")"
	}
	if e.Why != "" {
		msg += ": " + e.Why
	}
	return msg + ": " + e.Err.Error()
}

func (e *MessageError) Unwrap() error { return e.Err }

// The expr.MessageContext implementation: $message reads the current
// step's message.

func (f *frame) AsyncHeader(name string) (string, bool) {
	if f.current == nil || f.current.msg == nil {
		return "", false
	}
	for k, v := range f.current.msg.header {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func (f *frame) AsyncPayload() (any, bool) {
	if f.current == nil || f.current.msg == nil {
		return nil, false
	}
	return f.current.msg.payload, f.current.msg.hasPayload
}
