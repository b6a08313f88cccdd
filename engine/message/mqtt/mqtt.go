// Package mqtt is the MQTT transport of AsyncAPI steps, on Eclipse Paho's
// MQTT 5 client (github.com/eclipse/paho.golang).
//
// A channel's address is the topic. Messages go at QoS 1, so Send returns
// once the broker has acknowledged the message. Headers are MQTT 5 user
// properties and the content type is the content-type property; MQTT 5
// is required for them, which is why this transport speaks MQTT 5 only.
// Subscribe returns once the broker has acknowledged the subscription, so
// a message published afterwards is delivered. Credentials are the
// CONNECT packet's user name and password.
package mqtt

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/arazzo-go/arazzo/engine/message"
)

// Transport dials MQTT brokers.
type Transport struct {
	// ConnectTimeout bounds how long Dial waits for the broker; 10
	// seconds when zero.
	ConnectTimeout time.Duration
}

// New returns the MQTT transport.
func New() *Transport { return &Transport{} }

// Protocols implements message.Transport.
func (*Transport) Protocols() []string { return []string{"mqtt", "mqtt5", "secure-mqtt"} }

var clientSeq atomic.Int64

// Dial connects to the broker at ep.Host.
func (t *Transport) Dial(ctx context.Context, ep message.Endpoint) (message.Conn, error) {
	timeout := t.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	nc, err := message.DialTCP(ctx, ep, timeout)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &conn{subs: map[string]*subscription{}}
	c.cl = paho.NewClient(paho.ClientConfig{Conn: nc, OnPublishReceived: []func(paho.PublishReceived) (bool, error){c.deliver}})
	cp := &paho.Connect{ClientID: "arazzo-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(clientSeq.Add(1), 10),
		KeepAlive: 30, CleanStart: true}
	if ep.Username != "" {
		cp.Username, cp.UsernameFlag = ep.Username, true
	}
	if ep.Password != "" {
		cp.Password, cp.PasswordFlag = []byte(ep.Password), true
	}
	ack, err := c.cl.Connect(dctx, cp)
	if err != nil {
		nc.Close()
		if ack != nil && ack.ReasonCode != 0 {
			return nil, fmt.Errorf("mqtt %s refused the connection: %s (reason %d)", ep.Host, ack.Properties.ReasonString, ack.ReasonCode)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: mqtt %s: %v", message.ErrBrokerUnreachable, ep.Host, err)
	}
	return c, nil
}

type conn struct {
	cl   *paho.Client
	mu   sync.Mutex
	subs map[string]*subscription // by topic
}

// deliver hands an incoming message to the subscription of its topic.
func (c *conn) deliver(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	m := &message.Message{Channel: p.Topic, Payload: p.Payload, Header: map[string]string{}}
	if p.Properties != nil {
		for _, u := range p.Properties.User {
			m.Header[u.Key] = u.Value
		}
		m.ContentType = p.Properties.ContentType
	}
	c.mu.Lock()
	s := c.subs[p.Topic]
	c.mu.Unlock()
	if s != nil {
		s.q.Push(m)
	}
	return true, nil
}

func (c *conn) Send(ctx context.Context, m *message.Message) error {
	p := &paho.Publish{Topic: m.Channel, QoS: 1, Payload: m.Payload, Properties: &paho.PublishProperties{ContentType: m.ContentType}}
	for _, k := range m.HeaderNames() {
		p.Properties.User.Add(k, m.Header[k])
	}
	resp, err := c.cl.Publish(ctx, p)
	if err != nil {
		return err
	}
	if resp != nil && resp.ReasonCode >= 0x80 {
		return fmt.Errorf("mqtt broker refused the message on %s (reason %d)", m.Channel, resp.ReasonCode)
	}
	return nil
}

func (c *conn) Subscribe(ctx context.Context, topic string) (message.Subscription, error) {
	s := &subscription{c: c, topic: topic, q: message.NewQueue()}
	c.mu.Lock()
	if c.subs[topic] != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("mqtt topic %q: already subscribed in this run", topic)
	}
	c.subs[topic] = s
	c.mu.Unlock()
	ack, err := c.cl.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}})
	if err == nil && ack != nil && len(ack.Reasons) > 0 && ack.Reasons[0] >= 0x80 {
		err = fmt.Errorf("the broker refused it (reason %d)", ack.Reasons[0])
	}
	if err != nil {
		c.mu.Lock()
		delete(c.subs, topic)
		c.mu.Unlock()
		return nil, fmt.Errorf("mqtt topic %q: %w", topic, err)
	}
	return s, nil
}

func (c *conn) Close() error {
	_ = c.cl.Disconnect(&paho.Disconnect{ReasonCode: 0})
	return nil
}

type subscription struct {
	c     *conn
	topic string
	q     *message.Queue
	once  sync.Once
}

func (s *subscription) Next(ctx context.Context) (*message.Message, error) { return s.q.Next(ctx) }

func (s *subscription) Close() error {
	s.once.Do(func() {
		s.q.Close()
		s.c.mu.Lock()
		delete(s.c.subs, s.topic)
		s.c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = s.c.cl.Unsubscribe(ctx, &paho.Unsubscribe{Topics: []string{s.topic}})
	})
	return nil
}
