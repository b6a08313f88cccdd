package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/internal/brokertest"
	amqptransport "github.com/arazzo-go/arazzo/engine/message/amqp"
	"github.com/arazzo-go/arazzo/engine/message/kafka"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/authserver"
	"github.com/arazzo-go/arazzo/examples/emulators/rabbitbroker"
)

// AsyncAPI steps over AMQP 0-9-1 against a real RabbitMQ: one broker for
// the package, started as a subprocess by the first test that needs it
// (skipped without rabbitmq-server unless ARAZZO_REQUIRE_BROKERS=1) and
// stopped by TestMain.

// rabbitUser is the user the credentials tests log in as; the amqps
// listener logs clients in as their certificate's common name.
const rabbitUser, rabbitPassword, rabbitVhost = "svc", "s3cret-CANARY", "orders-test"

var (
	rabbit    = &rabbitbroker.Shared{}
	rabbitPKI *authserver.PKI
	// rabbitCerts are the client's files (CA, certificate, key).
	rabbitCerts [3]string
)

func TestMain(m *testing.M) {
	os.Exit(runWithRabbit(m))
}

func runWithRabbit(m *testing.M) int {
	dir, err := os.MkdirTemp("", "arazzo-engine-rabbit-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if rabbitPKI, err = authserver.NewPKI(); err != nil {
		panic(err)
	}
	ca, cert, key, err := rabbitPKI.WriteFiles(dir)
	if err != nil {
		panic(err)
	}
	rabbitCerts = [3]string{ca, cert, key}
	srvCert, srvKey := dir+"/server.pem", dir+"/server-key.pem"
	if err := os.WriteFile(srvCert, rabbitPKI.ServerCertPEM, 0o644); err != nil {
		panic(err)
	}
	if err := os.WriteFile(srvKey, rabbitPKI.ServerKeyPEM, 0o644); err != nil {
		panic(err)
	}
	rabbit.Config = rabbitbroker.Config{
		Users:  []rabbitbroker.User{{Name: "guest", Password: "guest"}, {Name: rabbitUser, Password: rabbitPassword}, {Name: "arazzo client", Password: "unused-cert-login"}},
		VHosts: []string{rabbitVhost},
		TLS:    &rabbitbroker.TLS{CAFile: ca, CertFile: srvCert, KeyFile: srvKey},
	}
	defer rabbit.Close()
	return m.Run()
}

// freeLoopbackAddr is an address where nothing listens.
func freeLoopbackAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// shippingDesc describes an API on RabbitMQ with AMQP bindings: a
// routing key on a direct exchange (its address has a parameter), a
// queue, and an unroutable routing key for mandatory publishing. Its
// server's port is a variable; its pathname is the virtual host.
const shippingDesc = `asyncapi: 3.0.0
info: {title: shipping, version: '1'}
servers:
  rabbit:
    host: 127.0.0.1:{port}
    pathname: /orders-test
    protocol: amqp
    variables: {port: {default: '1'}}
channels:
  shipments:
    address: shipments.{region}
    parameters: {region: {}}
    bindings:
      amqp:
        is: routingKey
        exchange: {name: arazzo.shipping, type: direct, durable: false, autoDelete: false}
    messages:
      shipment: {$ref: '#/components/messages/shipment'}
  jobs:
    address: jobs
    bindings:
      amqp:
        is: queue
        queue: {name: arazzo.jobs, durable: false, exclusive: false, autoDelete: false}
    messages:
      job: {$ref: '#/components/messages/job'}
  broadcast:
    address: news
    bindings:
      amqp: {exchange: {type: fanout}}
    messages:
      job: {$ref: '#/components/messages/job'}
  nowhere:
    address: nobody.listens
    messages:
      job: {$ref: '#/components/messages/job'}
operations:
  ship:
    action: receive
    channel: {$ref: '#/channels/shipments'}
    bindings:
      amqp: {deliveryMode: 2, priority: 5, expiration: 60000, replyTo: shipment-replies, timestamp: true}
  shipped: {action: send, channel: {$ref: '#/channels/shipments'}}
  queueJob: {action: receive, channel: {$ref: '#/channels/jobs'}}
  jobQueued: {action: send, channel: {$ref: '#/channels/jobs'}}
  lost:
    action: receive
    channel: {$ref: '#/channels/nowhere'}
    bindings: {amqp: {mandatory: true}}
components:
  messages:
    shipment:
      contentType: application/json
      correlationId: {location: '$message.header#/correlation-id'}
      bindings: {amqp: {contentEncoding: identity, messageType: shipment.v1}}
      payload: {type: object}
    job:
      contentType: application/json
      correlationId: {location: '$message.payload#/id'}
      payload: {type: object, required: [id]}
`

const shippingFlows = `arazzo: 1.1.0
info: {title: shipping, version: '1'}
sourceDescriptions:
  - {name: shipping, url: ./shipping.yaml, type: asyncapi}
workflows:
  - workflowId: ship
    inputs: {type: object, properties: {corr: {type: string}, region: {type: string}}}
    steps:
      - stepId: send
        operationId: ship
        action: send
        parameters:
          - {name: region, in: channel, value: $inputs.region}
          - {name: correlation-id, in: header, value: $inputs.corr}
          - {name: message-id, in: header, value: m-1}
          - {name: x-tenant, in: header, value: acme}
        requestBody: {payload: {id: s-1, qty: 4}}
      - stepId: recv
        operationId: shipped
        action: receive
        correlationId: $inputs.corr
        timeout: 5000
        parameters: [{name: region, in: channel, value: $inputs.region}]
        outputs:
          qty: $message.payload#/qty
          corr: $message.header.correlation-id
          type: $message.header.type
          mode: $message.header.delivery-mode
          priority: $message.header.priority
          replyTo: $message.header.reply-to
          tenant: $message.header.x-tenant
    outputs:
      qty: $steps.recv.outputs.qty
      corr: $steps.recv.outputs.corr
      type: $steps.recv.outputs.type
      mode: $steps.recv.outputs.mode
      priority: $steps.recv.outputs.priority
      replyTo: $steps.recv.outputs.replyTo
      tenant: $steps.recv.outputs.tenant
  - workflowId: enqueue
    steps:
      - stepId: send
        operationId: queueJob
        action: send
        requestBody: {payload: {id: j-1, what: pack}}
  - workflowId: take
    steps:
      - stepId: recv
        operationId: jobQueued
        action: receive
        correlationId: j-1
        timeout: 5000
        outputs: {what: $message.payload#/what}
    outputs: {what: $steps.recv.outputs.what}
  - workflowId: broadcast
    steps:
      - stepId: send
        channelPath: '{$sourceDescriptions.shipping.url}#/channels/broadcast'
        action: send
        requestBody: {payload: {id: n-1}}
      - stepId: recv
        channelPath: '{$sourceDescriptions.shipping.url}#/channels/broadcast'
        action: receive
        correlationId: n-1
        timeout: 5000
  - workflowId: lose
    steps:
      - stepId: send
        operationId: lost
        action: send
        requestBody: {payload: {id: l-1}}
`

func loadShipping(t testing.TB, desc, flows string) *engine.Plan {
	t.Helper()
	dir := writeFiles(t, map[string]string{"shipping.yaml": desc, "a.arazzo.yaml": flows})
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{},
		engine.WithTransports(&amqptransport.Transport{ConnectTimeout: 2 * time.Second}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return plan
}

// rawChannel is amqp091-go on the test broker's virtual host, for the
// tests to see what is on the wire.
func rawChannel(t testing.TB, b *rabbitbroker.Broker, vhost string) *amqp091.Channel {
	t.Helper()
	c, err := amqp091.DialConfig("amqp://guest:guest@"+b.Addr()+"/", amqp091.Config{Vhost: vhost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func rawQueue(t testing.TB, ch *amqp091.Channel, exchange, key string) string {
	t.Helper()
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err == nil {
		err = ch.QueueBind(q.Name, key, exchange, false, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return q.Name
}

// Exchange routing: a step sends to the binding's exchange with the
// channel address (its parameter filled) as routing key, with the
// operation and message bindings' properties; the receive step's queue,
// bound with the same key, gets it and reads the properties as headers
// (its correlation id is the correlation-id property). A queue bound
// with another key gets nothing. The server's port is a server variable,
// its pathname the virtual host.
func TestAMQPExchangeRoutingPropertiesAndServerVariables(t *testing.T) {
	b := rabbit.Get(t)
	_, port, _ := net.SplitHostPort(b.Addr())
	raw := rawChannel(t, b, rabbitVhost)
	if err := raw.ExchangeDeclare("arazzo.shipping", "direct", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	eu, us := rawQueue(t, raw, "arazzo.shipping", "shipments.eu"), rawQueue(t, raw, "arazzo.shipping", "shipments.us")
	plan := loadShipping(t, shippingDesc, shippingFlows)
	log := &eventLog{}
	opts := &engine.Options{ServerVariables: map[string]map[string]string{"shipping": {"port": port}}, Observers: []engine.Observer{log}}
	res, err := plan.Run(context.Background(), "ship", map[string]any{"corr": "c-42", "region": "eu"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"qty": "4", "corr": "c-42", "type": "shipment.v1", "mode": "2", "priority": "5", "replyTo": "shipment-replies", "tenant": "acme"}
	for k, v := range want {
		if fmt.Sprint(res.Outputs[k]) != v {
			t.Errorf("output %s = %v, want %s", k, res.Outputs[k], v)
		}
	}
	if sent := log.kinds(engine.MessageSent); len(sent) != 1 || sent[0].Msg.Channel != "shipments.eu" || sent[0].Msg.Protocol != "amqp" {
		t.Fatalf("sent %+v", sent)
	}
	d, ok, err := raw.Get(eu, true)
	if err != nil || !ok {
		t.Fatalf("queue bound with shipments.eu: %v %v", ok, err)
	}
	if d.CorrelationId != "c-42" || d.MessageId != "m-1" || d.DeliveryMode != 2 || d.Priority != 5 || d.Expiration != "60000" ||
		d.ReplyTo != "shipment-replies" || d.Timestamp.IsZero() || d.ContentType != "application/json" || d.ContentEncoding != "identity" ||
		d.Type != "shipment.v1" || len(d.Headers) != 1 || d.Headers["x-tenant"] != "acme" || string(d.Body) != `{"id":"s-1","qty":4}` {
		t.Fatalf("on the wire: %+v", d)
	}
	if _, ok, err := raw.Get(us, true); ok || err != nil {
		t.Fatalf("a queue bound with shipments.us got the message (%v)", err)
	}
	// Without the variable the default port is used, where nothing
	// listens.
	_, err = plan.Run(context.Background(), "ship", map[string]any{"corr": "c-43", "region": "eu"}, nil)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("err %v", err)
	}
}

// A queue channel: the send declares the queue and publishes to it
// through the default exchange, so the message waits there; a receive
// that starts later still gets it, as a queue's consumer does.
func TestAMQPQueueChannel(t *testing.T) {
	b := rabbit.Get(t)
	_, port, _ := net.SplitHostPort(b.Addr())
	raw := rawChannel(t, b, rabbitVhost)
	plan := loadShipping(t, shippingDesc, shippingFlows)
	opts := &engine.Options{ServerVariables: map[string]map[string]string{"shipping": {"port": port}}}
	if _, err := plan.Run(context.Background(), "enqueue", nil, opts); err != nil {
		t.Fatal(err)
	}
	q, err := raw.QueueDeclarePassive("arazzo.jobs", false, false, false, false, nil)
	if err != nil || q.Messages != 1 {
		t.Fatalf("queue %+v, %v", q, err)
	}
	res, err := plan.Run(context.Background(), "take", nil, opts)
	if err != nil || res.Outputs["what"] != "pack" {
		t.Fatalf("outputs %v, err %v", res.Outputs, err)
	}
	if q, err := raw.QueueDeclarePassive("arazzo.jobs", false, false, false, false, nil); err != nil || q.Messages != 0 {
		t.Fatalf("after the receive: %+v, %v", q, err)
	}
	if _, err := raw.QueueDelete("arazzo.jobs", false, false, false); err != nil {
		t.Fatal(err)
	}
}

// A server that names no virtual host: a channel binding's vhost says
// where its exchange is, and the run opens a connection there too.
// A --server URL's path names the virtual host, and wins over the binding.
func TestAMQPVirtualHostFromTheBinding(t *testing.T) {
	b := rabbit.Get(t)
	_, port, _ := net.SplitHostPort(b.Addr())
	raw := rawChannel(t, b, rabbitVhost)
	if err := raw.ExchangeDeclare("arazzo.shipping", "direct", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	q := rawQueue(t, raw, "arazzo.shipping", "shipments.eu")
	desc := strings.Replace(shippingDesc, "    pathname: /orders-test\n", "", 1)
	desc = strings.Replace(desc, "type: direct, durable: false, autoDelete: false}", "type: direct, durable: false, autoDelete: false, vhost: orders-test}", 1)
	plan := loadShipping(t, desc, shippingFlows)
	if _, err := plan.Run(context.Background(), "ship", map[string]any{"corr": "c-9", "region": "eu"}, &engine.Options{ServerVariables: map[string]map[string]string{"shipping": {"port": port}}}); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := raw.Get(q, true); err != nil || !ok || d.CorrelationId != "c-9" {
		t.Fatalf("%+v %v %v", d, ok, err)
	}
	// The binding's vhost now does not exist: the URL's is used.
	desc = strings.Replace(desc, "vhost: orders-test}", "vhost: nowhere}", 1)
	plan = loadShipping(t, desc, shippingFlows)
	if _, err := plan.Run(context.Background(), "ship", map[string]any{"corr": "c-10", "region": "eu"}, &engine.Options{Servers: map[string]string{"shipping": "amqp://" + b.Addr() + "/orders-test"}}); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := raw.Get(q, true); err != nil || !ok || d.CorrelationId != "c-10" {
		t.Fatalf("%+v %v %v", d, ok, err)
	}
}

// userPassword credentials come from the auth layers (--auth
// SOURCE.SCHEME=USER:PASSWORD) and log in with PLAIN.
func TestAMQPCredentialsFromAuthLayers(t *testing.T) {
	b := rabbit.Get(t)
	dir := writeFiles(t, brokertest.SecuredSend(b.Addr(), "amqp", "login", "userPassword", ""))
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{}, engine.WithTransports(amqptransport.New()))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	run := func(cred string) error { return brokertest.RunWithAuth(t, plan, "events.login="+cred) }
	if err := run(rabbitUser + ":" + rabbitPassword); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	if err := run(rabbitUser + ":wrong-CANARY"); err == nil || strings.Contains(err.Error(), "CANARY") || !strings.Contains(err.Error(), "the broker refused user svc") {
		t.Fatalf("wrong password: %v", err)
	}
}

// An exchange binding with a type and no name is RabbitMQ's pre-declared
// exchange of that type: a fanout channel goes through amq.fanout, where
// every bound queue gets the message whatever the key.
func TestAMQPNamelessExchangeIsThePredeclaredOne(t *testing.T) {
	b := rabbit.Get(t)
	_, port, _ := net.SplitHostPort(b.Addr())
	raw := rawChannel(t, b, rabbitVhost)
	q := rawQueue(t, raw, "amq.fanout", "unrelated-key")
	plan := loadShipping(t, shippingDesc, shippingFlows)
	if _, err := plan.Run(context.Background(), "broadcast", nil, &engine.Options{ServerVariables: map[string]map[string]string{"shipping": {"port": port}}}); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := raw.Get(q, true); err != nil || !ok || d.RoutingKey != "news" || d.Exchange != "amq.fanout" {
		t.Fatalf("%+v %v %v", d, ok, err)
	}
}

// The operation binding's mandatory: an unroutable message is returned
// by the broker, and the send fails saying so. A malformed binding is an
// error naming the binding and its rule.
func TestAMQPMandatoryAndBadBindings(t *testing.T) {
	b := rabbit.Get(t)
	_, port, _ := net.SplitHostPort(b.Addr())
	opts := &engine.Options{ServerVariables: map[string]map[string]string{"shipping": {"port": port}}}
	if err := rawChannel(t, b, rabbitVhost).ExchangeDeclare("arazzo.shipping", "direct", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	plan := loadShipping(t, shippingDesc, shippingFlows)
	_, err := plan.Run(context.Background(), "lose", nil, opts)
	if err == nil || !strings.Contains(err.Error(), `no queue is bound to exchange "amq.topic" with routing key "nobody.listens"`) {
		t.Fatalf("err %v", err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"is: queue", "is: stream", `AsyncAPI amqp channel binding: is is routingKey or queue, found "stream"`},
		{"deliveryMode: 2", "deliveryMode: 3", "AsyncAPI amqp operation binding: deliveryMode is 1 (transient) or 2 (persistent), found 3"},
		{"{name: arazzo.shipping, type: direct", "{name: arazzo.shipping, type: funnel", `exchange type is topic, direct, fanout, headers or default, found "funnel"`},
		// The exchange exists (direct, not durable): declaring it otherwise
		// is the broker's PRECONDITION_FAILED, reported with what was asked.
		{"type: direct, durable: false", "type: direct, durable: true", `declaring exchange "arazzo.shipping" (type direct, durable true, autoDelete false) in virtual host "orders-test" as the channel binding describes it`},
	} {
		if !strings.Contains(shippingDesc, c.from) {
			t.Fatalf("%q is not in the description", c.from)
		}
		plan := loadShipping(t, strings.Replace(shippingDesc, c.from, c.to, 1), shippingFlows)
		wf := "ship"
		if c.from == "is: queue" {
			wf = "enqueue"
		}
		_, err := plan.Run(context.Background(), wf, map[string]any{"corr": "c-1", "region": "eu"}, opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v", c.to, err)
		}
	}
}

// Cancelling a run that waits for a message closes its subscription and
// connection: no goroutine is left behind.
func TestAMQPCancellationLeavesNothingRunning(t *testing.T) {
	b := rabbit.Get(t)
	t.Cleanup(noNewGoroutines(t))
	plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "60000", 1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.StepStarted && e.StepID == "confirm" {
			go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		}
	})
	_, err := plan.Run(ctx, "buy", nil, &engine.Options{Servers: map[string]string{"orders": "amqp://" + b.Addr()}, Observers: []engine.Observer{obs}})
	var se *engine.StoppedError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// An X509 scheme gives the connection TLS with the client certificate
// (amqps), and the broker logs the client in as the certificate's
// common name (SASL EXTERNAL), which the user-id property it sends must
// match.
func TestAMQPClientCertificate(t *testing.T) {
	b := rabbit.Get(t)
	plan := brokerPlanFor(t, b.TLSAddr(), "amqps", "cert", "X509", &amqptransport.Transport{ConnectTimeout: 2 * time.Second})
	run := func(flags ...string) error { return brokertest.RunWithAuth(t, plan, flags...) }
	ca, cert, key := rabbitCerts[0], rabbitCerts[1], rabbitCerts[2]
	if err := run("events.cert=" + cert + "," + key + "," + ca); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if err := run("events.cert=" + cert + "," + key); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v", err)
	}
}

// brokerPlanFor compiles a one-step workflow that sends to an AsyncAPI
// source on host whose server requires security scheme "name" of type typ.
func brokerPlanFor(t *testing.T, host, protocol, name, typ string, tr *amqptransport.Transport) *engine.Plan {
	t.Helper()
	// RabbitMQ refuses a user-id property that is not the connection's
	// user: this proves the certificate logged in.
	dir := writeFiles(t, brokertest.SecuredSend(host, protocol, name, typ, "{name: user-id, in: header, value: arazzo client}"))
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{}, engine.WithTransports(tr))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return plan
}

// A receive that a later step depends on waits in the background while
// an HTTP step triggers its message over AMQP, and is joined by the
// step that depends on it: a mixed HTTP and AMQP workflow.
func TestAMQPBackgroundReceiveJoinedByDependsOn(t *testing.T) {
	b := rabbit.Get(t)
	pub := rawChannel(t, b, "/")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/orders":
			// The API confirms asynchronously, on RabbitMQ.
			err := pub.PublishWithContext(r.Context(), "amq.topic", "confirm-order", false, false, amqp091.Publishing{
				ContentType: "application/json", Body: []byte(`{"orderId": 56}`), Headers: amqp091.Table{"orderRequestId": r.URL.Query().Get("corr")}})
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.WriteHeader(202)
		case "/orders/56":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status": "confirmed"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	// The description's server is Kafka's; --server moves it to RabbitMQ.
	plan := mixedPlan(t, kafka.New(), amqptransport.New())
	log := &eventLog{}
	res, err := plan.Run(context.Background(), "mixed", nil, &engine.Options{
		Servers: map[string]string{"shop": srv.URL, "orders": "amqp://" + b.Addr()}, Observers: []engine.Observer{log}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["status"] != "confirmed" {
		t.Fatalf("outputs %v", res.Outputs)
	}
	checkJoinOrder(t, log)
}

// noNewGoroutines fails the test if it ends with more goroutines than it
// began with (faults_test.go's noLeaks is in the internal test package).
func noNewGoroutines(t *testing.T) func() {
	// Connections closed just before (the broker's start-up probe) take
	// a moment to end their goroutines: the base is counted once the
	// count stops falling.
	base := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n >= base {
			break
		}
		base = n
	}
	return func() {
		for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > base && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked:\n%s", n-base, buf[:runtime.Stack(buf, true)])
		}
	}
}
