// Package nats is the NATS transport of AsyncAPI steps, on
// github.com/nats-io/nats.go (the NATS project's own client).
//
// A channel's address is the subject. Send publishes with headers and
// flushes, so it returns once the server has the message. Subscribe
// subscribes and flushes, so the server knows the subscription before
// Subscribe returns: a message published afterwards is delivered. Core
// NATS keeps no history, so nothing published before is seen.
// Credentials, when the source has them, are the connection's user and
// password.
package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/arazzo-go/arazzo/engine/message"
)

// Transport dials NATS servers.
type Transport struct {
	// ConnectTimeout bounds how long Dial waits for the server; 10
	// seconds when zero.
	ConnectTimeout time.Duration
}

// New returns the NATS transport.
func New() *Transport { return &Transport{} }

// Protocols implements message.Transport.
func (*Transport) Protocols() []string { return []string{"nats"} }

// Dial connects to the server at ep.Host.
func (t *Transport) Dial(ctx context.Context, ep message.Endpoint) (message.Conn, error) {
	timeout := t.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	flushTimeout := timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	opts := []nats.Option{nats.Timeout(timeout), nats.NoReconnect(), nats.Name("arazzo")}
	if ep.Username != "" || ep.Password != "" {
		opts = append(opts, nats.UserInfo(ep.Username, ep.Password))
	}
	if ep.TLS != nil {
		opts = append(opts, nats.Secure(ep.TLS))
	}
	nc, err := nats.Connect("nats://"+ep.Host, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) {
			return nil, fmt.Errorf("nats %s: %w", ep.Host, err)
		}
		return nil, fmt.Errorf("%w: nats %s: %v", message.ErrBrokerUnreachable, ep.Host, err)
	}
	return &conn{nc: nc, timeout: flushTimeout}, nil
}

type conn struct {
	nc      *nats.Conn
	timeout time.Duration
}

func (c *conn) Send(ctx context.Context, m *message.Message) error {
	msg := &nats.Msg{Subject: m.Channel, Data: m.Payload, Header: nats.Header{}}
	for _, k := range m.HeaderNames() {
		msg.Header.Set(k, m.Header[k])
	}
	if m.ContentType != "" && msg.Header.Get("Content-Type") == "" {
		msg.Header.Set("Content-Type", m.ContentType)
	}
	if err := c.nc.PublishMsg(msg); err != nil {
		return err
	}
	return c.flush(ctx)
}

// flush waits for the server's answer to a ping: it has seen everything
// sent before. nats.go wants a deadline, so one is set when ctx has none.
func (c *conn) flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	return c.nc.FlushWithContext(ctx)
}

func (c *conn) Subscribe(ctx context.Context, subject string) (message.Subscription, error) {
	sub, err := c.nc.SubscribeSync(subject)
	if err != nil {
		return nil, fmt.Errorf("nats subject %q: %w", subject, err)
	}
	if err := c.flush(ctx); err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	return &subscription{sub: sub}, nil
}

func (c *conn) Close() error {
	c.nc.Close()
	return nil
}

type subscription struct{ sub *nats.Subscription }

func (s *subscription) Next(ctx context.Context) (*message.Message, error) {
	msg, err := s.sub.NextMsgWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	m := &message.Message{Channel: msg.Subject, Payload: msg.Data, Header: make(map[string]string, len(msg.Header))}
	for k := range msg.Header {
		m.Header[k] = msg.Header.Get(k)
	}
	return m, nil
}

func (s *subscription) Close() error { return s.sub.Unsubscribe() }
