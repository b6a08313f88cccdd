// Package kafka is the Kafka transport of AsyncAPI steps, on
// github.com/twmb/franz-go (a pure-Go client, no cgo).
//
// A channel's address is the topic. Send produces one record (headers as
// record headers) and waits for the broker's acknowledgement. Subscribe
// creates the topic when it does not exist yet, notes the end offset of
// every partition and consumes from there: a message produced after
// Subscribe returns is never missed, and none produced before is seen.
// Credentials, when the source has them, authenticate with SASL/PLAIN.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/arazzo-go/arazzo/engine/message"
)

// Transport dials Kafka clusters.
type Transport struct {
	// ConnectTimeout bounds how long Dial waits for the cluster to
	// answer; 10 seconds when zero.
	ConnectTimeout time.Duration
}

// New returns the Kafka transport.
func New() *Transport { return &Transport{} }

// Protocols implements message.Transport: the AsyncAPI protocol names.
func (*Transport) Protocols() []string { return []string{"kafka", "kafka-secure"} }

func (t *Transport) opts(ep message.Endpoint) []kgo.Opt {
	o := []kgo.Opt{kgo.SeedBrokers(ep.Host), kgo.DialTimeout(t.timeout()), kgo.RetryTimeout(t.timeout()),
		kgo.WithLogger(nil)}
	if ep.Username != "" || ep.Password != "" {
		o = append(o, kgo.SASL(plain.Auth{User: ep.Username, Pass: ep.Password}.AsMechanism()))
	}
	if ep.TLS != nil {
		o = append(o, kgo.DialTLSConfig(ep.TLS))
	}
	return o
}

func (t *Transport) timeout() time.Duration {
	if t.ConnectTimeout > 0 {
		return t.ConnectTimeout
	}
	return 10 * time.Second
}

// Dial connects to the cluster at ep.Host and checks it answers.
func (t *Transport) Dial(ctx context.Context, ep message.Endpoint) (message.Conn, error) {
	cl, err := kgo.NewClient(append(t.opts(ep), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(t.timeout()))...)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: kafka %s: %v", message.ErrBrokerUnreachable, ep.Host, err)
	}
	return &conn{t: t, ep: ep, cl: cl, adm: kadm.NewClient(cl)}, nil
}

type conn struct {
	t   *Transport
	ep  message.Endpoint
	cl  *kgo.Client
	adm *kadm.Client
	mu  sync.Mutex
	// subs are closed with the connection.
	subs map[*subscription]bool
}

func (c *conn) Send(ctx context.Context, m *message.Message) error {
	rec := &kgo.Record{Topic: m.Channel, Key: m.Key, Value: m.Payload}
	for _, k := range m.HeaderNames() {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: []byte(m.Header[k])})
	}
	return c.cl.ProduceSync(ctx, rec).FirstErr()
}

func (c *conn) Subscribe(ctx context.Context, topic string) (message.Subscription, error) {
	if _, err := c.adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return nil, fmt.Errorf("kafka topic %q: %w", topic, err)
	}
	ends, err := c.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("kafka topic %q: listing its end offsets: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("kafka topic %q: listing its end offsets: %w", topic, err)
	}
	from := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) { from[o.Partition] = kgo.NewOffset().At(o.Offset) })
	cl, err := kgo.NewClient(append(c.t.opts(c.ep), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}))...)
	if err != nil {
		return nil, err
	}
	s := &subscription{c: c, cl: cl}
	c.mu.Lock()
	if c.subs == nil {
		c.subs = map[*subscription]bool{}
	}
	c.subs[s] = true
	c.mu.Unlock()
	return s, nil
}

// Close closes the connection and every subscription it made.
func (c *conn) Close() error {
	c.mu.Lock()
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for s := range subs {
		s.cl.Close()
	}
	c.cl.Close()
	return nil
}

type subscription struct {
	c       *conn
	cl      *kgo.Client
	pending []*kgo.Record
	once    sync.Once
}

func (s *subscription) Next(ctx context.Context) (*message.Message, error) {
	for len(s.pending) == 0 {
		fs := s.cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if fs.IsClientClosed() {
			return nil, errors.New("kafka subscription closed")
		}
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.Canceled) && !errors.Is(fe.Err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("kafka topic %q: %w", fe.Topic, fe.Err)
			}
		}
		s.pending = fs.Records()
	}
	r := s.pending[0]
	s.pending = s.pending[1:]
	m := &message.Message{Channel: r.Topic, Key: r.Key, Payload: r.Value, Header: make(map[string]string, len(r.Headers))}
	for _, h := range r.Headers {
		m.Header[h.Key] = string(h.Value)
	}
	return m, nil
}

func (s *subscription) Close() error {
	s.once.Do(func() {
		s.c.mu.Lock()
		delete(s.c.subs, s)
		s.c.mu.Unlock()
		s.cl.Close()
	})
	return nil
}
