package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAsyncAPI30PetExample(t *testing.T) {
	l := &Loader{}
	src, err := l.Load(context.Background(), "../testdata/spec/1.1/examples/pet-asyncapi.yaml", AsyncAPI)
	if err != nil {
		t.Fatal(err)
	}
	d := src.Async
	if d.Version != "3.0.0" || len(d.Servers) != 1 || d.Servers[0].Host != "localhost:9092" || d.Servers[0].Protocol != "kafka" {
		t.Fatalf("servers %+v", d.Servers)
	}
	op := d.Operation("placeOrder")
	if op == nil || op.Action != "receive" || op.Channel.Address != "place-order" || op.Reply == nil || op.Reply.Channel.Address != "confirm-order" {
		t.Fatalf("placeOrder %+v", op)
	}
	if len(op.Messages) != 1 || op.Messages[0].CorrelationID != "$message.header#/orderRequestId" || op.Messages[0].ContentType != "application/json" {
		t.Fatalf("messages %+v", op.Messages[0])
	}
	if op.Pos.Line != 26 || op.Pos.Col != 3 {
		t.Fatalf("placeOrder at %v", op.Pos)
	}
	// The operation's channel is the channels entry itself, not a copy.
	if d.ChannelAt("#/channels/confirm-order") != op.Reply.Channel {
		t.Fatal("reply channel is not the declared one")
	}
	if p, _ := op.Messages[0].Payload.(map[string]any); p["required"] == nil {
		t.Fatalf("payload %v", op.Messages[0].Payload)
	}
}

func TestAsyncAPI26AndBadDescriptions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("v26.yaml", `asyncapi: '2.6.0'
info: {title: t, version: '1'}
servers:
  prod:
    url: 'broker.example:{port}'
    protocol: kafka
    variables: {port: {default: '9092'}}
    security: [{saslPlain: []}]
channels:
  user/{id}/signedup:
    parameters: {id: {schema: {type: string}}}
    bindings: {kafka: {partitions: 3}}
    subscribe:
      operationId: userSignedUp
      message: {$ref: '#/components/messages/Signup'}
components:
  messages:
    Signup:
      correlationId: {location: '$message.payload#/id'}
      headers: {type: object}
      payload: {type: object, properties: {id: {type: string}}}
`)
	src, err := (&Loader{}).Load(context.Background(), good, "")
	if err != nil {
		t.Fatal(err)
	}
	d := src.Async
	s := d.Servers[0]
	if src.Type != AsyncAPI || s.Host != "broker.example:{port}" || s.Variables["port"] != "9092" || s.Security[0] != "saslPlain" {
		t.Fatalf("server %+v", s)
	}
	op := d.Operation("userSignedUp")
	if op == nil || op.Action != "send" || op.Channel.Params[0] != "id" || op.Channel.Bindings["kafka"] == nil || op.Messages[0].CorrelationID != "$message.payload#/id" {
		t.Fatalf("operation %+v", op)
	}
	for name, c := range map[string]struct{ text, want string }{
		"badref": {"asyncapi: 3.0.0\ninfo: {title: t, version: '1'}\nchannels:\n  a: {$ref: '#/components/channels/missing'}\n", "badref.yaml:4:13: $ref \"#/components/channels/missing\" points to nothing"},
		"remote": {"asyncapi: 3.0.0\ninfo: {title: t, version: '1'}\nchannels:\n  a: {$ref: 'other.yaml#/x'}\n", "only references inside the description"},
		"action": {"asyncapi: 3.0.0\ninfo: {title: t, version: '1'}\nchannels: {a: {address: a}}\noperations:\n  o: {action: publish, channel: {$ref: '#/channels/a'}}\n", "5:6: operation \"o\": action must be send or receive, found \"publish\""},
		"old":    {"asyncapi: 2.0.0\ninfo: {title: t, version: '1'}\n", "1:11: AsyncAPI 2.0.0 is not supported"},
	} {
		_, err := (&Loader{}).Load(context.Background(), write(name+".yaml", c.text), AsyncAPI)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
	}
}
