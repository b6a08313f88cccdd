// Package message is where a broker protocol plugs into the engine: the
// transport an AsyncAPI step sends and receives its messages through.
//
// The engine evaluates a message step (channel, headers, payload,
// correlation) and hands the transport a Message; it never sees a broker
// client. Which transport serves a source is decided once, at compile
// time, from the protocol of the AsyncAPI server the source uses (or the
// scheme of a --server override): engine.WithTransports lists the
// transports a program links, so a program that needs no broker links
// none. Each protocol is a sub-package (message/kafka) wrapping one real
// client library.
package message

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"time"
)

// Message is one message as a transport carries it.
type Message struct {
	// Channel is the channel's address with its parameters filled in
	// (a Kafka topic, an MQTT topic, a NATS subject, a WebSocket path).
	Channel string
	// Key partitions the message where the protocol has keys (Kafka);
	// nil for none.
	Key         []byte
	Header      map[string]string
	Payload     []byte
	ContentType string
	// Bindings are the AsyncAPI bindings of what is sent; nil for none.
	Bindings *Bindings
}

// Bindings are the AsyncAPI bindings that apply to a step's message: the
// channel's, the operation's (nil for a channelPath step) and the
// message's, each keyed by protocol as the description writes them
// (bindings.amqp). A transport reads its own protocol's entries and
// ignores the rest, so the engine need not know any protocol's bindings.
type Bindings struct {
	Channel, Operation, Message map[string]any
}

// Of returns the bindings of one protocol (channel, operation, message),
// each nil when absent or not an object.
func (b *Bindings) Of(protocol string) (channel, operation, message map[string]any) {
	if b == nil {
		return nil, nil, nil
	}
	get := func(m map[string]any) map[string]any {
		v, _ := m[protocol].(map[string]any)
		return v
	}
	return get(b.Channel), get(b.Operation), get(b.Message)
}

// HeaderNames returns the header names in a stable order.
func (m *Message) HeaderNames() []string { return slices.Sorted(maps.Keys(m.Header)) }

// Endpoint is where and how to reach a broker.
type Endpoint struct {
	Protocol string // as the AsyncAPI server names it: kafka, mqtt, nats, ws
	Host     string // host:port
	Path     string // a server's pathname (WebSocket)
	// Username and Password authenticate the client (SASL/PLAIN for
	// Kafka) when set.
	Username, Password string
	TLS                *tls.Config // nil for plain TCP
}

// Transport connects to brokers of the protocols it names.
// Implementations are safe for concurrent use.
type Transport interface {
	Protocols() []string
	Dial(ctx context.Context, ep Endpoint) (Conn, error)
}

// Conn is a connection to one broker, shared by the steps of a run that
// use the same source. Its methods are safe for concurrent use.
type Conn interface {
	// Send publishes m. It returns once the broker has the message (or
	// fails), not when someone has read it.
	Send(ctx context.Context, m *Message) error
	// Subscribe starts receiving on channel: every message published after
	// Subscribe returns is delivered to the subscription.
	Subscribe(ctx context.Context, channel string) (Subscription, error)
	Close() error
}

// BindingSubscriber is a Conn whose subscriptions depend on the AsyncAPI
// bindings (AMQP: which exchange or queue a channel is). The engine
// calls SubscribeBound rather than Subscribe on a Conn that has it.
type BindingSubscriber interface {
	SubscribeBound(ctx context.Context, channel string, b *Bindings) (Subscription, error)
}

// Subscription delivers the messages of one channel.
type Subscription interface {
	// Next blocks until a message arrives, ctx ends or the subscription
	// fails.
	Next(ctx context.Context) (*Message, error)
	Close() error
}

// ErrBrokerUnreachable is the cause of an error a transport returns when
// it cannot reach its broker (errors.Is).
var ErrBrokerUnreachable = errors.New("the broker cannot be reached")

// DialTCP opens a TCP connection to ep.Host within timeout (TLS when
// ep.TLS is set), for transports whose library takes a net.Conn. A
// failure is ErrBrokerUnreachable, naming the protocol and host; ctx's
// own end is returned as it is.
func DialTCP(ctx context.Context, ep Endpoint, timeout time.Duration) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", ep.Host)
	if err == nil && ep.TLS != nil {
		tc := tls.Client(nc, ep.TLS)
		if err = tc.HandshakeContext(dctx); err != nil {
			nc.Close()
		} else {
			nc = tc
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s %s: %v", ErrBrokerUnreachable, ep.Protocol, ep.Host, err)
	}
	return nc, nil
}
