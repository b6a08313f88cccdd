package amqp

import (
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/arazzo-go/arazzo/engine/message"
)

// The binding rules that need no broker: where a channel goes, and what
// a message carries. (The broker tests are engine/messaging_amqp_test.go.)

func TestRoute(t *testing.T) {
	amqpChannel := func(b map[string]any) *message.Bindings {
		return &message.Bindings{Channel: map[string]any{"amqp": b}}
	}
	cases := []struct {
		name       string
		serverHost string // the server's vhost ("" for none)
		b          *message.Bindings
		want       string // exchange|key|queue|vhost
		err        string
	}{
		{"no binding", "", nil, "amq.topic|orders.eu||/", ""},
		{"other protocols' bindings only", "", &message.Bindings{Channel: map[string]any{"kafka": map[string]any{"topic": "x"}}}, "amq.topic|orders.eu||/", ""},
		{"named exchange", "", amqpChannel(map[string]any{"is": "routingKey", "exchange": map[string]any{"name": "shop", "type": "direct", "vhost": "sales"}}), "shop|orders.eu||sales", ""},
		{"the server's vhost wins", "prod", amqpChannel(map[string]any{"exchange": map[string]any{"name": "shop", "type": "direct", "vhost": "sales"}}), "shop|orders.eu||prod", ""},
		{"type without a name", "", amqpChannel(map[string]any{"exchange": map[string]any{"type": "fanout"}}), "amq.fanout|orders.eu||/", ""},
		{"default exchange", "", amqpChannel(map[string]any{"exchange": map[string]any{"type": "default"}}), "|orders.eu|orders.eu|/", ""},
		{"queue named by the binding", "", amqpChannel(map[string]any{"is": "queue", "queue": map[string]any{"name": "jobs", "durable": true}}), "|orders.eu|jobs|/", ""},
		{"queue named by the address", "", amqpChannel(map[string]any{"is": "queue"}), "|orders.eu|orders.eu|/", ""},
		{"bad is", "", amqpChannel(map[string]any{"is": "stream"}), "", `is is routingKey or queue, found "stream"`},
		{"bad type", "", amqpChannel(map[string]any{"exchange": map[string]any{"name": "x", "type": "funnel"}}), "", `found "funnel"`},
		{"plugin type without a name", "", amqpChannel(map[string]any{"exchange": map[string]any{"type": "x-consistent-hash"}}), "", "needs a name"},
		{"not an object", "", amqpChannel(map[string]any{"exchange": "shop"}), "", "exchange is an object"},
		{"bad bool", "", amqpChannel(map[string]any{"is": "queue", "queue": map[string]any{"durable": "yes"}}), "", "durable is true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := (&conn{vhost: c.serverHost}).route("orders.eu", c.b)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "AsyncAPI amqp channel binding: ") {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			q := ""
			if r.queue != nil {
				q = r.queue.name
			}
			if got := strings.Join([]string{r.exchange.name, r.key, q, r.vhost}, "|"); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestPublishing(t *testing.T) {
	m := &message.Message{Channel: "c", ContentType: "application/json", Payload: []byte(`{}`),
		Header: map[string]string{"Correlation-ID": "c-1", "priority": "7", "x-tenant": "acme", "timestamp": "1700000000"},
		Bindings: &message.Bindings{
			Operation: map[string]any{"amqp": map[string]any{"deliveryMode": 2, "priority": 3, "expiration": 60000, "replyTo": "r", "mandatory": true, "cc": []any{"a", "b"}}},
			Message:   map[string]any{"amqp": map[string]any{"contentEncoding": "gzip", "messageType": "t.v1"}},
		}}
	p, opt, err := publishing(m)
	if err != nil {
		t.Fatal(err)
	}
	// Headers win over bindings; property headers are properties, not table entries.
	if p.CorrelationId != "c-1" || p.Priority != 7 || p.DeliveryMode != 2 || p.Expiration != "60000" || p.ReplyTo != "r" ||
		p.ContentType != "application/json" || p.ContentEncoding != "gzip" || p.Type != "t.v1" || !opt.mandatory ||
		!p.Timestamp.Equal(time.Unix(1700000000, 0)) || len(p.Headers) != 2 || p.Headers["x-tenant"] != "acme" || len(p.Headers["CC"].([]any)) != 2 {
		t.Fatalf("%+v %+v", p, opt)
	}
	for _, c := range []struct {
		header, value, want string
		op                  map[string]any
	}{
		{"delivery-mode", "3", "header delivery-mode: the AMQP delivery-mode property is 1 (transient) or 2 (persistent)", nil},
		{"priority", "high", "priority property is an integer from 0 to 255", nil},
		{"expiration", "-1", "expiration property is a number of milliseconds", nil},
		{"timestamp", "yesterday", "RFC 3339 time or seconds since 1970", nil},
		{"x", "y", "AsyncAPI amqp operation binding: priority is an integer from 0 to 255, found 300", map[string]any{"priority": 300}},
		{"x", "y", "expiration is a number of milliseconds (0 or more), found -5", map[string]any{"expiration": -5}},
		{"x", "y", "cc is a list of routing keys", map[string]any{"cc": "a"}},
	} {
		m := &message.Message{Header: map[string]string{c.header: c.value}}
		if c.op != nil {
			m.Bindings = &message.Bindings{Operation: map[string]any{"amqp": c.op}}
		}
		if _, _, err := publishing(m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s %v: err %v", c.header, c.value, c.op, err)
		}
	}
}

func TestReceivedPropertiesAreHeaders(t *testing.T) {
	d := &amqp091.Delivery{RoutingKey: "k", Body: []byte("x"), ContentType: "text/plain", CorrelationId: "c", DeliveryMode: 2, Priority: 4,
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UserId: "u",
		Headers: amqp091.Table{"n": int32(5), "s": "v", "t": amqp091.Table{"a": "b"}, "l": []any{"x", int64(1)}}}
	m := received(d)
	want := map[string]string{"content-type": "text/plain", "correlation-id": "c", "delivery-mode": "2", "priority": "4",
		"timestamp": "2026-01-02T03:04:05Z", "user-id": "u", "n": "5", "s": "v", "t": `{"a":"b"}`, "l": `["x",1]`}
	if len(m.Header) != len(want) || m.Channel != "k" || m.ContentType != "text/plain" {
		t.Fatalf("%+v", m)
	}
	for k, v := range want {
		if m.Header[k] != v {
			t.Errorf("%s = %q, want %q", k, m.Header[k], v)
		}
	}
}

func TestDefaultPortAndVhost(t *testing.T) {
	for in, want := range map[string]string{"rabbit:1234": "rabbit:1234", "rabbit": "rabbit:5672", "[::1]": "[::1]:5672"} {
		if got := withDefaultPort(in, "amqp"); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
	if got := withDefaultPort("rabbit", "amqps"); got != "rabbit:5671" {
		t.Errorf("amqps: %s", got)
	}
	for in, want := range map[string]string{"": "", "/": "", "/sales": "sales", "//": "/", "/a%b": "a%b"} {
		if got := pathVhost(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}
