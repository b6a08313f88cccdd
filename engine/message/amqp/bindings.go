package amqp

// The AsyncAPI AMQP bindings (bindings.amqp, binding version 0.3.0 and
// earlier) this transport honours:
//
//   channel:   is: routingKey (the default) with exchange {name, type,
//              durable, autoDelete, vhost}, or is: queue with queue
//              {name, durable, exclusive, autoDelete, vhost}
//   operation: deliveryMode, expiration, priority, replyTo, userId,
//              timestamp, mandatory, cc, bcc
//   message:   contentEncoding, messageType
//
// The operation binding's ack is not: a receive acknowledges what it
// takes. A step's headers named after AMQP properties override what the
// bindings set.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/arazzo-go/arazzo/engine/message"
)

// DefaultExchange is where a channel without an AMQP channel binding is
// a routing key: the topic exchange every RabbitMQ virtual host has.
const DefaultExchange = "amq.topic"

type exchangeSpec struct {
	name, kind          string
	durable, autoDelete bool
	// described is set when the binding gives the exchange's type: it is
	// declared as described, else only checked to exist.
	described bool
	builtin   bool // amq.topic for a channel without a binding
}

type queueSpec struct {
	name                           string
	durable, exclusive, autoDelete bool
}

// route is where a channel's messages go and come from.
type route struct {
	vhost    string
	key      string // routing key (is: routingKey)
	exchange exchangeSpec
	queue    *queueSpec // is: queue (or the default exchange): nil otherwise
}

func bindingError(where, format string, args ...any) error {
	return fmt.Errorf("AsyncAPI amqp %s binding: %s", where, fmt.Sprintf(format, args...))
}

// route reads a channel's AMQP channel binding.
func (c *conn) route(channel string, b *message.Bindings) (*route, error) {
	chb, _, _ := b.Of("amqp")
	r := &route{key: channel}
	is, err := optString(chb, "is", "channel")
	if err != nil {
		return nil, err
	}
	bindingVhost := ""
	switch is {
	case "", "routingKey":
		ex, err := object(chb, "exchange", "channel")
		if err != nil {
			return nil, err
		}
		e := &r.exchange
		if e.name, err = optString(ex, "name", "channel"); err != nil {
			return nil, err
		}
		if e.kind, err = optString(ex, "type", "channel"); err != nil {
			return nil, err
		}
		switch e.kind {
		case "", "topic", "direct", "fanout", "headers":
		case "default":
			e.name = ""
		default:
			if !strings.HasPrefix(e.kind, "x-") { // a plugin's exchange type
				return nil, bindingError("channel", "exchange type is topic, direct, fanout, headers or default, found %q", e.kind)
			}
		}
		switch {
		case e.name == "" && e.kind == "":
			// Every RabbitMQ virtual host has it: no need to check.
			e.name, e.kind, e.builtin = DefaultExchange, "topic", true
		case e.name == "" && strings.HasPrefix(e.kind, "x-"):
			return nil, bindingError("channel", "an exchange of type %s needs a name", e.kind)
		case e.name == "" && e.kind != "default":
			// A type without a name: the pre-declared exchange of that
			// type (amq.direct, amq.fanout, amq.headers, amq.topic).
			e.name, e.builtin = "amq."+e.kind, true
		}
		e.described = e.kind != "" && ex["type"] != nil
		if e.durable, err = optBool(ex, "durable", "channel"); err != nil {
			return nil, err
		}
		if e.autoDelete, err = optBool(ex, "autoDelete", "channel"); err != nil {
			return nil, err
		}
		if bindingVhost, err = optString(ex, "vhost", "channel"); err != nil {
			return nil, err
		}
		if e.name == "" {
			// The default exchange routes to the queue the key names.
			r.queue = &queueSpec{name: channel}
		}
	case "queue":
		q, err := object(chb, "queue", "channel")
		if err != nil {
			return nil, err
		}
		r.queue = &queueSpec{}
		if r.queue.name, err = optString(q, "name", "channel"); err != nil {
			return nil, err
		}
		if r.queue.name == "" {
			r.queue.name = channel
		}
		for _, f := range []struct {
			key string
			out *bool
		}{{"durable", &r.queue.durable}, {"exclusive", &r.queue.exclusive}, {"autoDelete", &r.queue.autoDelete}} {
			if *f.out, err = optBool(q, f.key, "channel"); err != nil {
				return nil, err
			}
		}
		if bindingVhost, err = optString(q, "vhost", "channel"); err != nil {
			return nil, err
		}
	default:
		return nil, bindingError("channel", "is is routingKey or queue, found %q", is)
	}
	// The server (or --server) says where to run, as a base URL does for
	// HTTP; a binding's vhost applies when it names none.
	switch {
	case c.vhost != "":
		r.vhost = c.vhost
	case bindingVhost != "":
		r.vhost = bindingVhost
	default:
		r.vhost = "/"
	}
	if r.queue == nil && r.key == "" {
		return nil, bindingError("channel", "the channel has no address to use as routing key")
	}
	return r, nil
}

// declare makes sure the exchange exists: as the binding describes it,
// or, when the binding does not give its type (or it is a pre-declared
// amq.* exchange), by checking that it does. Called with v.mu held.
func (e *exchangeSpec) declare(v *vconn, ch *amqp091.Channel) error {
	if e.name == "" || e.builtin || v.declared["x:"+e.name] {
		return nil
	}
	if !e.described || strings.HasPrefix(e.name, "amq.") {
		if err := ch.ExchangeDeclarePassive(e.name, e.kind, e.durable, e.autoDelete, false, false, nil); err != nil {
			return fmt.Errorf("amqp exchange %q in virtual host %q: %w", e.name, v.name, err)
		}
	} else if err := ch.ExchangeDeclare(e.name, e.kind, e.durable, e.autoDelete, false, false, nil); err != nil {
		return fmt.Errorf("amqp: declaring exchange %q (type %s, durable %v, autoDelete %v) in virtual host %q as the channel binding describes it: %w",
			e.name, e.kind, e.durable, e.autoDelete, v.name, err)
	}
	v.declared["x:"+e.name] = true
	return nil
}

// declare declares the queue as the binding describes it: a sender does
// so (once per connection; v.mu held) so that what it sends is kept
// until someone consumes it; a receiver does so on its own channel.
func (q *queueSpec) declare(v *vconn, ch *amqp091.Channel, consuming bool) error {
	if !consuming && v.declared["q:"+q.name] {
		return nil
	}
	if _, err := ch.QueueDeclare(q.name, q.durable, q.autoDelete, q.exclusive, false, nil); err != nil {
		return fmt.Errorf("amqp: declaring queue %q (durable %v, exclusive %v, autoDelete %v) in virtual host %q as the channel binding describes it: %w",
			q.name, q.durable, q.exclusive, q.autoDelete, v.name, err)
	}
	if !consuming {
		v.declared["q:"+q.name] = true
	}
	return nil
}

// Property headers: the AMQP 0-9-1 basic properties, named as the
// specification names them. A step sets them as headers and reads them
// from received messages as headers.
const (
	HeaderContentType     = "content-type"
	HeaderContentEncoding = "content-encoding"
	HeaderDeliveryMode    = "delivery-mode"
	HeaderPriority        = "priority"
	HeaderCorrelationID   = "correlation-id"
	HeaderReplyTo         = "reply-to"
	HeaderExpiration      = "expiration"
	HeaderMessageID       = "message-id"
	HeaderTimestamp       = "timestamp"
	HeaderType            = "type"
	HeaderUserID          = "user-id"
	HeaderAppID           = "app-id"
)

type publishOptions struct{ mandatory bool }

// publishing builds what is published: the bindings' properties, then
// the step's headers (property headers set properties, the rest go to
// the header table).
func publishing(m *message.Message) (amqp091.Publishing, publishOptions, error) {
	_, opb, msgb := m.Bindings.Of("amqp")
	p := amqp091.Publishing{ContentType: m.ContentType, Body: m.Payload}
	var opt publishOptions
	var err error
	if v, ok := opb["deliveryMode"]; ok {
		n, ok := integer(v)
		if !ok || (n != 1 && n != 2) {
			return p, opt, bindingError("operation", "deliveryMode is 1 (transient) or 2 (persistent), found %v", v)
		}
		p.DeliveryMode = uint8(n)
	}
	if v, ok := opb["expiration"]; ok {
		n, ok := integer(v)
		if !ok || n < 0 {
			return p, opt, bindingError("operation", "expiration is a number of milliseconds (0 or more), found %v", v)
		}
		p.Expiration = strconv.FormatInt(n, 10)
	}
	if v, ok := opb["priority"]; ok {
		n, ok := integer(v)
		if !ok || n < 0 || n > 255 {
			return p, opt, bindingError("operation", "priority is an integer from 0 to 255, found %v", v)
		}
		p.Priority = uint8(n)
	}
	if p.ReplyTo, err = optString(opb, "replyTo", "operation"); err != nil {
		return p, opt, err
	}
	if p.UserId, err = optString(opb, "userId", "operation"); err != nil {
		return p, opt, err
	}
	stamp, err := optBool(opb, "timestamp", "operation")
	if err != nil {
		return p, opt, err
	}
	if stamp {
		p.Timestamp = time.Now().Truncate(time.Second)
	}
	if opt.mandatory, err = optBool(opb, "mandatory", "operation"); err != nil {
		return p, opt, err
	}
	for _, k := range []string{"cc", "bcc"} {
		list, err := stringList(opb, k, "operation")
		if err != nil {
			return p, opt, err
		}
		if len(list) > 0 {
			// RabbitMQ's sender-selected distribution: more routing keys.
			if p.Headers == nil {
				p.Headers = amqp091.Table{}
			}
			keys := make([]any, len(list))
			for i, s := range list {
				keys[i] = s
			}
			p.Headers[strings.ToUpper(k)] = keys
		}
	}
	if p.ContentEncoding, err = optString(msgb, "contentEncoding", "message"); err != nil {
		return p, opt, err
	}
	if p.Type, err = optString(msgb, "messageType", "message"); err != nil {
		return p, opt, err
	}
	for _, k := range m.HeaderNames() {
		val := m.Header[k]
		set, err := setProperty(&p, strings.ToLower(k), val)
		if err != nil {
			return p, opt, fmt.Errorf("header %s: %v", k, err)
		}
		if !set {
			if p.Headers == nil {
				p.Headers = amqp091.Table{}
			}
			p.Headers[k] = val
		}
	}
	return p, opt, nil
}

// setProperty sets the property a header names; false when it names none.
func setProperty(p *amqp091.Publishing, name, val string) (bool, error) {
	switch name {
	case HeaderContentType:
		p.ContentType = val
	case HeaderContentEncoding:
		p.ContentEncoding = val
	case HeaderDeliveryMode:
		if val != "1" && val != "2" {
			return true, fmt.Errorf("the AMQP delivery-mode property is 1 (transient) or 2 (persistent), found %q", val)
		}
		p.DeliveryMode = val[0] - '0'
	case HeaderPriority:
		n, err := strconv.ParseUint(val, 10, 8)
		if err != nil {
			return true, fmt.Errorf("the AMQP priority property is an integer from 0 to 255, found %q", val)
		}
		p.Priority = uint8(n)
	case HeaderCorrelationID:
		p.CorrelationId = val
	case HeaderReplyTo:
		p.ReplyTo = val
	case HeaderExpiration:
		if _, err := strconv.ParseUint(val, 10, 32); err != nil {
			return true, fmt.Errorf("the AMQP expiration property is a number of milliseconds, found %q", val)
		}
		p.Expiration = val
	case HeaderMessageID:
		p.MessageId = val
	case HeaderTimestamp:
		t, err := time.Parse(time.RFC3339, val)
		if err != nil {
			secs, err2 := strconv.ParseInt(val, 10, 64)
			if err2 != nil {
				return true, fmt.Errorf("the AMQP timestamp property is an RFC 3339 time or seconds since 1970, found %q", val)
			}
			t = time.Unix(secs, 0)
		}
		p.Timestamp = t
	case HeaderType:
		p.Type = val
	case HeaderUserID:
		p.UserId = val
	case HeaderAppID:
		p.AppId = val
	default:
		return false, nil
	}
	return true, nil
}

// received turns a delivery into a message: its header table, then its
// properties under their property header names.
func received(d *amqp091.Delivery) *message.Message {
	m := &message.Message{Channel: d.RoutingKey, Payload: d.Body, ContentType: d.ContentType, Header: make(map[string]string, len(d.Headers)+4)}
	for k, v := range d.Headers {
		m.Header[k] = headerText(v)
	}
	for _, p := range []struct{ name, val string }{
		{HeaderContentType, d.ContentType}, {HeaderContentEncoding, d.ContentEncoding},
		{HeaderCorrelationID, d.CorrelationId}, {HeaderReplyTo, d.ReplyTo}, {HeaderExpiration, d.Expiration},
		{HeaderMessageID, d.MessageId}, {HeaderType, d.Type}, {HeaderUserID, d.UserId}, {HeaderAppID, d.AppId},
	} {
		if p.val != "" {
			m.Header[p.name] = p.val
		}
	}
	if d.DeliveryMode != 0 {
		m.Header[HeaderDeliveryMode] = strconv.Itoa(int(d.DeliveryMode))
	}
	if d.Priority != 0 {
		m.Header[HeaderPriority] = strconv.Itoa(int(d.Priority))
	}
	if !d.Timestamp.IsZero() {
		m.Header[HeaderTimestamp] = d.Timestamp.UTC().Format(time.RFC3339)
	}
	return m
}

// headerText is a header table value as text: strings as they are,
// tables and arrays as JSON.
func headerText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case amqp091.Table, []any:
		if b, err := json.Marshal(x); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// Reading binding values, as decoded from YAML or JSON.

func object(m map[string]any, key, where string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, bindingError(where, "%s is an object, found %v", key, v)
	}
	return o, nil
}

func optString(m map[string]any, key, where string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", bindingError(where, "%s is a string, found %v", key, v)
	}
	return s, nil
}

func optBool(m map[string]any, key, where string) (bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, bindingError(where, "%s is true or false, found %v", key, v)
	}
	return b, nil
}

func stringList(m map[string]any, key, where string) ([]string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	var out []string
	for _, x := range list {
		s, isStr := x.(string)
		if !isStr {
			ok = false
			break
		}
		out = append(out, s)
	}
	if !ok {
		return nil, bindingError(where, "%s is a list of routing keys, found %v", key, v)
	}
	return out, nil
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case float64:
		return int64(x), x == math.Trunc(x) && math.Abs(x) < 1<<53
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}
