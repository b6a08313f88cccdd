// Package websocket is the WebSocket transport of AsyncAPI steps, on
// github.com/coder/websocket.
//
// There is no broker: the AsyncAPI server is a WebSocket server and a
// channel's address is a path on it. A run keeps one WebSocket
// connection per channel, opened by the first send or subscribe on it, so
// a reply the server writes on the connection a request went out on
// reaches a receive step on the same channel. Each message is one text
// frame (binary for a non-text content type); WebSocket messages have no
// headers, so `in: header` parameters go on the opening handshake
// instead, and correlation ids must be in the payload. Credentials are
// HTTP basic authentication on the handshake.
package websocket

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/arazzo-go/arazzo/engine/message"
)

// Transport connects to WebSocket servers.
type Transport struct {
	// ConnectTimeout bounds each handshake; 10 seconds when zero.
	ConnectTimeout time.Duration
}

// New returns the WebSocket transport.
func New() *Transport { return &Transport{} }

// Protocols implements message.Transport.
func (*Transport) Protocols() []string { return []string{"ws", "wss"} }

// Dial checks the server answers (a TCP connection) and returns a conn
// that opens WebSocket connections per channel.
func (t *Transport) Dial(ctx context.Context, ep message.Endpoint) (message.Conn, error) {
	timeout := t.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	plain := ep
	plain.TLS = nil // only whether something listens: the handshake comes later
	nc, err := message.DialTCP(ctx, plain, timeout)
	if err != nil {
		return nil, err
	}
	nc.Close()
	scheme := "ws"
	if ep.Protocol == "wss" || ep.TLS != nil {
		scheme = "wss"
	}
	c := &conn{ep: ep, base: scheme + "://" + ep.Host + strings.TrimSuffix(ep.Path, "/"), timeout: timeout, chans: map[string]*channel{}}
	c.life, c.stop = context.WithCancel(context.Background())
	return c, nil
}

type conn struct {
	ep      message.Endpoint
	base    string
	timeout time.Duration
	life    context.Context // the connections' lifetime: a Read bound to a step's context would close them
	stop    context.CancelFunc
	mu      sync.Mutex
	chans   map[string]*channel
}

// channel is one WebSocket connection and the subscription reading it.
type channel struct {
	ws *websocket.Conn
	q  *message.Queue // nil until someone subscribes
	mu sync.Mutex
}

func (c *conn) open(ctx context.Context, path string, header map[string]string) (*channel, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.chans[path]; ch != nil {
		return ch, nil
	}
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	if c.ep.Username != "" || c.ep.Password != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.ep.Username+":"+c.ep.Password)))
	}
	opts := &websocket.DialOptions{HTTPHeader: h}
	if c.ep.TLS != nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: c.ep.TLS}}
	}
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base + "/" + strings.TrimPrefix(path, "/")
	ws, resp, err := websocket.Dial(dctx, u, opts)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket %s: the server answered %s", u, resp.Status)
		}
		return nil, fmt.Errorf("websocket %s: %w", u, err)
	}
	ch := &channel{ws: ws}
	c.chans[path] = ch
	go c.read(ch)
	return ch, nil
}

// read takes every frame of a channel's connection for its subscription
// (frames that arrive while nobody subscribes are dropped, as a broker
// would not deliver them either).
func (c *conn) read(ch *channel) {
	for {
		typ, data, err := ch.ws.Read(c.life)
		ch.mu.Lock()
		q := ch.q
		ch.mu.Unlock()
		if err != nil {
			if q != nil {
				q.Fail(fmt.Errorf("websocket connection closed: %w", err))
			}
			return
		}
		if q != nil {
			m := &message.Message{Payload: data, Header: map[string]string{}}
			if typ == websocket.MessageText {
				m.ContentType = "text/plain"
			}
			q.Push(m)
		}
	}
}

func (c *conn) Send(ctx context.Context, m *message.Message) error {
	ch, err := c.open(ctx, m.Channel, m.Header)
	if err != nil {
		return err
	}
	typ := websocket.MessageText
	if ct := m.ContentType; ct != "" && !strings.Contains(ct, "json") && !strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "xml") {
		typ = websocket.MessageBinary
	}
	// A write bound to ctx would close the connection when ctx ends; the
	// write is short, so it runs under the connection's own lifetime.
	wctx, cancel := context.WithTimeout(c.life, c.timeout)
	defer cancel()
	return ch.ws.Write(wctx, typ, m.Payload)
}

func (c *conn) Subscribe(ctx context.Context, path string) (message.Subscription, error) {
	ch, err := c.open(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.q != nil {
		return nil, fmt.Errorf("websocket channel %q: already subscribed in this run", path)
	}
	ch.q = message.NewQueue()
	return &subscription{ch: ch, path: path}, nil
}

func (c *conn) Close() error {
	c.mu.Lock()
	chans := c.chans
	c.chans = map[string]*channel{}
	c.mu.Unlock()
	for _, ch := range chans {
		ch.ws.Close(websocket.StatusNormalClosure, "")
	}
	c.stop()
	return nil
}

type subscription struct {
	ch   *channel
	path string
}

func (s *subscription) Next(ctx context.Context) (*message.Message, error) {
	m, err := s.ch.q.Next(ctx)
	if m != nil {
		m.Channel = s.path
	}
	return m, err
}

func (s *subscription) Close() error {
	s.ch.mu.Lock()
	q := s.ch.q
	s.ch.q = nil
	s.ch.mu.Unlock()
	if q != nil {
		q.Close()
	}
	return nil
}
