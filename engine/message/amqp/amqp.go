// Package amqp is the AMQP 0-9-1 transport of AsyncAPI steps (RabbitMQ
// and other 0-9-1 brokers), on github.com/rabbitmq/amqp091-go, the
// RabbitMQ team's own client.
//
// What a channel is comes from its AsyncAPI AMQP channel binding
// (bindings.amqp, see bindings.go); without one, a channel is a routing
// key on the pre-declared topic exchange amq.topic. Send publishes to the
// exchange with the channel's address as routing key (or to the default
// exchange with the queue's name, for `is: queue`) in confirm mode: it
// returns once the broker has taken the message. Subscribe binds a
// server-named exclusive, auto-delete queue to the exchange with the
// routing key, or consumes the named queue: the bind is confirmed before
// Subscribe returns, so a message published afterwards is delivered.
//
// AMQP message properties travel as message headers under their names
// in the AMQP 0-9-1 specification (content-type, correlation-id,
// message-id, reply-to, ...): a step's header with such a name sets the
// property, and a received message's properties are read as headers, so
// a correlationId of $message.header#/correlation-id compares the
// property. Other headers are the message's header table.
//
// Credentials, when the source has them, log in with PLAIN; a client
// certificate without a user logs in with EXTERNAL (RabbitMQ's
// rabbitmq_auth_mechanism_ssl plugin); neither is guest/guest, as AMQP
// URLs default to.
package amqp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/arazzo-go/arazzo/engine/message"
)

// Transport dials AMQP 0-9-1 brokers.
type Transport struct {
	// ConnectTimeout bounds how long Dial waits for the broker to
	// answer; 10 seconds when zero.
	ConnectTimeout time.Duration
}

// New returns the AMQP transport.
func New() *Transport { return &Transport{} }

// Protocols implements message.Transport: the AsyncAPI protocol names.
func (*Transport) Protocols() []string { return []string{"amqp", "amqps"} }

func (t *Transport) timeout() time.Duration {
	if t.ConnectTimeout > 0 {
		return t.ConnectTimeout
	}
	return 10 * time.Second
}

// Dial connects to the broker at ep.Host, in the virtual host ep.Path
// names ("/" when none). Connections to other virtual hosts, which a
// channel binding may name, are opened when first needed.
func (t *Transport) Dial(ctx context.Context, ep message.Endpoint) (message.Conn, error) {
	ep.Host = withDefaultPort(ep.Host, ep.Protocol)
	if strings.EqualFold(ep.Protocol, "amqps") && ep.TLS == nil {
		ep.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if ep.TLS != nil && ep.TLS.ServerName == "" {
		ep.TLS = ep.TLS.Clone()
		ep.TLS.ServerName, _, _ = net.SplitHostPort(ep.Host)
	}
	c := &conn{t: t, ep: ep, vhosts: map[string]*vconn{}, subs: map[*subscription]bool{}}
	c.vhost = pathVhost(ep.Path)
	// Connect now: a broker that is down or refuses the credentials fails
	// the first step that needs it, naming the address.
	if _, err := c.vconn(ctx, c.defaultVhost()); err != nil {
		return nil, err
	}
	return c, nil
}

// withDefaultPort adds AMQP's port to a host that has none (5672, 5671
// for amqps), as AMQP URLs mean.
func withDefaultPort(host, protocol string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "5672"
	if strings.EqualFold(protocol, "amqps") {
		port = "5671"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// pathVhost reads the virtual host from a URL path as the engine gives it,
// already unescaped (amqp://HOST/%2f is "//", the vhost "/"); "" when the
// path names none.
func pathVhost(p string) string {
	if p == "" || p == "/" {
		return ""
	}
	return strings.TrimPrefix(p, "/")
}

type conn struct {
	t     *Transport
	ep    message.Endpoint
	vhost string // the server's, "" when it names none

	mu     sync.Mutex
	vhosts map[string]*vconn
	subs   map[*subscription]bool
	closed bool
}

func (c *conn) defaultVhost() string {
	if c.vhost != "" {
		return c.vhost
	}
	return "/"
}

// vconn is the connection to one virtual host, and its channel for
// publishing (in confirm mode).
type vconn struct {
	name string
	conn *amqp091.Connection
	// mu serialises publishes on pub, so that a returned message
	// (mandatory) belongs to the publish that waits for its confirm.
	mu      sync.Mutex
	pub     *amqp091.Channel
	returns chan amqp091.Return
	closes  chan *amqp091.Error // why pub was closed
	// declared notes the exchanges and queues declared on this
	// connection, so each is declared once.
	declared map[string]bool
}

// vconn returns the connection to vhost, opening it the first time.
func (c *conn) vconn(ctx context.Context, vhost string) (*vconn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("amqp connection closed")
	}
	if v := c.vhosts[vhost]; v != nil && !v.conn.IsClosed() {
		return v, nil
	}
	ac, err := c.open(ctx, vhost)
	if err != nil {
		return nil, err
	}
	v := &vconn{name: vhost, conn: ac, declared: map[string]bool{}}
	c.vhosts[vhost] = v
	return v, nil
}

func (c *conn) open(ctx context.Context, vhost string) (*amqp091.Connection, error) {
	ep := c.ep
	nc, err := message.DialTCP(ctx, ep, c.t.timeout())
	if err != nil {
		return nil, err
	}
	// amqp091-go's handshake has no context: a deadline bounds it, and
	// the context's end cuts it short.
	_ = nc.SetDeadline(time.Now().Add(c.t.timeout()))
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	cfg := amqp091.Config{Vhost: vhost, Heartbeat: 10 * time.Second, Locale: "en_US",
		Properties: amqp091.Table{"product": "arazzo", "connection_name": "arazzo"}}
	user := ep.Username
	switch {
	case ep.Username != "" || ep.Password != "":
		cfg.SASL = []amqp091.Authentication{&amqp091.PlainAuth{Username: ep.Username, Password: ep.Password}}
	case ep.TLS != nil && (len(ep.TLS.Certificates) > 0 || ep.TLS.GetClientCertificate != nil):
		cfg.SASL, user = []amqp091.Authentication{&amqp091.ExternalAuth{}}, "(client certificate)"
	default:
		cfg.SASL, user = []amqp091.Authentication{&amqp091.PlainAuth{Username: "guest", Password: "guest"}}, "guest"
	}
	ac, err := amqp091.Open(nc, cfg)
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ae *amqp091.Error
		errors.As(err, &ae)
		switch {
		case errors.Is(err, amqp091.ErrCredentials) || ae != nil && ae.Code == amqp091.AccessRefused:
			return nil, fmt.Errorf("amqp %s: the broker refused user %s: wrong user or password (%v)", ep.Host, user, err)
		case errors.Is(err, amqp091.ErrSASL):
			return nil, fmt.Errorf("amqp %s: the broker does not offer the login mechanism needed for user %s (EXTERNAL needs RabbitMQ's rabbitmq_auth_mechanism_ssl plugin): %v", ep.Host, user, err)
		case errors.Is(err, amqp091.ErrVhost) || ae != nil && ae.Code == amqp091.NotAllowed:
			return nil, fmt.Errorf("amqp %s: virtual host %q does not exist or user %s may not use it: %v", ep.Host, vhost, user, err)
		case ae != nil:
			return nil, fmt.Errorf("amqp %s virtual host %q: %w", ep.Host, vhost, err)
		}
		return nil, fmt.Errorf("%w: amqp %s: %v", message.ErrBrokerUnreachable, ep.Host, err)
	}
	return ac, nil
}

// channel returns the publishing channel, reopening it after a channel
// error (a failed declaration closes it). Called with v.mu held.
func (v *vconn) channel() (*amqp091.Channel, error) {
	if v.pub != nil && !v.pub.IsClosed() {
		return v.pub, nil
	}
	ch, err := v.conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return nil, err
	}
	v.returns = ch.NotifyReturn(make(chan amqp091.Return, 1))
	v.closes = ch.NotifyClose(make(chan *amqp091.Error, 1))
	v.pub = ch
	return ch, nil
}

// Send implements message.Conn.
func (c *conn) Send(ctx context.Context, m *message.Message) error {
	r, err := c.route(m.Channel, m.Bindings)
	if err != nil {
		return err
	}
	pub, opt, err := publishing(m)
	if err != nil {
		return err
	}
	v, err := c.vconn(ctx, r.vhost)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	ch, err := v.channel()
	if err != nil {
		return err
	}
	exchange, key := r.exchange.name, r.key
	if r.queue != nil {
		exchange, key = "", r.queue.name
		if !r.queue.exclusive { // another connection's to declare
			if err := r.queue.declare(v, ch, false); err != nil {
				return err
			}
		}
	} else if err := r.exchange.declare(v, ch); err != nil {
		return err
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, opt.mandatory, false, pub)
	if err != nil {
		return err
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !acked {
		// The broker closes the channel of a message it refuses (a
		// user-id that is not the connection's user...): say why.
		why := "it answered basic.nack"
		select {
		case e := <-v.closes:
			if e != nil {
				why = e.Error()
			}
		default:
		}
		return fmt.Errorf("the broker did not take the message (exchange %q, routing key %q): %s", exchange, key, why)
	}
	// The broker returns an unroutable mandatory message before it
	// confirms it, so a return is here by now.
	select {
	case ret := <-v.returns:
		return fmt.Errorf("the broker returned the message: no queue is bound to exchange %q with routing key %q (%d %s; the operation binding asks for mandatory delivery)", ret.Exchange, ret.RoutingKey, ret.ReplyCode, ret.ReplyText)
	default:
	}
	return nil
}

// Subscribe implements message.Conn: a channel without bindings.
func (c *conn) Subscribe(ctx context.Context, channel string) (message.Subscription, error) {
	return c.SubscribeBound(ctx, channel, nil)
}

// SubscribeBound implements message.BindingSubscriber.
func (c *conn) SubscribeBound(ctx context.Context, channel string, b *message.Bindings) (message.Subscription, error) {
	r, err := c.route(channel, b)
	if err != nil {
		return nil, err
	}
	v, err := c.vconn(ctx, r.vhost)
	if err != nil {
		return nil, err
	}
	ch, err := v.conn.Channel()
	if err != nil {
		return nil, err
	}
	s, err := r.consume(v, ch)
	if err != nil {
		ch.Close()
		return nil, err
	}
	s.c = c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		ch.Close()
		return nil, errors.New("amqp connection closed")
	}
	c.subs[s] = true
	c.mu.Unlock()
	return s, nil
}

// consume declares what the route needs on ch and starts consuming.
func (r *route) consume(v *vconn, ch *amqp091.Channel) (*subscription, error) {
	var queue string
	if r.queue != nil {
		// Declarations on ch, not the publishing channel: an exclusive
		// queue belongs to this connection either way.
		if err := r.queue.declare(v, ch, true); err != nil {
			return nil, err
		}
		queue = r.queue.name
	} else {
		v.mu.Lock()
		err := r.exchange.declare(v, ch)
		v.mu.Unlock()
		if err != nil {
			return nil, err
		}
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			return nil, fmt.Errorf("amqp: declaring a queue for routing key %q: %w", r.key, err)
		}
		if err := ch.QueueBind(q.Name, r.key, r.exchange.name, false, nil); err != nil {
			return nil, fmt.Errorf("amqp: binding a queue to exchange %q with routing key %q: %w", r.exchange.name, r.key, err)
		}
		queue = q.Name
	}
	// Deliveries are acknowledged as Next hands them out: those fetched
	// but never taken go back to a named queue when the subscription
	// closes.
	if err := ch.Qos(64, 0, false); err != nil {
		return nil, err
	}
	d, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("amqp: consuming queue %q: %w", queue, err)
	}
	return &subscription{ch: ch, deliveries: d, closed: ch.NotifyClose(make(chan *amqp091.Error, 1)), queue: queue}, nil
}

// Close closes the connection and every subscription it made.
func (c *conn) Close() error {
	c.mu.Lock()
	subs, vhosts := c.subs, c.vhosts
	c.subs, c.vhosts, c.closed = nil, nil, true
	c.mu.Unlock()
	for s := range subs {
		s.close()
	}
	for _, v := range vhosts {
		_ = v.conn.CloseDeadline(time.Now().Add(c.t.timeout()))
	}
	return nil
}

type subscription struct {
	c          *conn
	ch         *amqp091.Channel
	deliveries <-chan amqp091.Delivery
	closed     chan *amqp091.Error
	queue      string
	once       sync.Once
}

// Next implements message.Subscription.
func (s *subscription) Next(ctx context.Context) (*message.Message, error) {
	select {
	case d, ok := <-s.deliveries:
		if !ok {
			select {
			case e := <-s.closed:
				if e != nil {
					return nil, fmt.Errorf("amqp queue %q: %w", s.queue, e)
				}
			default:
			}
			return nil, message.ErrClosed
		}
		if err := d.Ack(false); err != nil {
			return nil, fmt.Errorf("amqp queue %q: acknowledging a message: %w", s.queue, err)
		}
		return received(&d), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close implements message.Subscription.
func (s *subscription) Close() error {
	if s.c != nil {
		s.c.mu.Lock()
		delete(s.c.subs, s)
		s.c.mu.Unlock()
	}
	s.close()
	return nil
}

func (s *subscription) close() {
	s.once.Do(func() { _ = s.ch.Close() })
}
