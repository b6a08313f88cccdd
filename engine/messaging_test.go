package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/message"
	amqptransport "github.com/arazzo-go/arazzo/engine/message/amqp"
	"github.com/arazzo-go/arazzo/engine/message/kafka"
	mqtttransport "github.com/arazzo-go/arazzo/engine/message/mqtt"
	natstransport "github.com/arazzo-go/arazzo/engine/message/nats"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/kafkabroker"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
)

// AsyncAPI steps over a real Kafka protocol: franz-go's in-process
// cluster (kfake), the example's order service answering on it.

// broker starts a cluster and the order service; it returns the
// cluster's address.
func broker(t testing.TB, orders *petstore.Orders) string {
	t.Helper()
	c, err := kafkabroker.Start(kafkabroker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	if orders != nil {
		serveOrders(t, func(ctx context.Context, ready chan<- struct{}) error { return orders.Serve(ctx, addr, ready) })
	}
	return addr
}

// serveOrders runs an order service until the test ends, once it is ready.
func serveOrders(t testing.TB, serve func(ctx context.Context, ready chan<- struct{}) error) {
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); _ = serve(ctx, ready) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("order service did not start")
	}
}

const asyncDoc = `arazzo: 1.1.0
info: {title: orders, version: '1'}
sourceDescriptions:
  - {name: orders, url: ./pet-asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: buy
    inputs:
      type: object
      properties:
        petId: {type: integer, default: 7}
        corr: {type: string, default: c-1}
    steps:
      - stepId: place
        operationId: $sourceDescriptions.orders.placeOrder
        action: send
        parameters:
          - {name: orderRequestId, in: header, value: $inputs.corr}
        requestBody:
          payload: {petId: $inputs.petId}
      - stepId: confirm
        channelPath: '{$sourceDescriptions.orders.url}#/channels/confirm-order'
        action: receive
        correlationId: $inputs.corr
        timeout: TIMEOUT
        successCriteria:
          - condition: $message.payload#/orderId > 0
        outputs:
          orderId: $message.payload#/orderId
          corr: $message.header.orderRequestId
    outputs:
      orderId: $steps.confirm.outputs.orderId
      corr: $steps.confirm.outputs.corr
`

func loadAsync(t testing.TB, doc string) *engine.Plan {
	t.Helper()
	async, err := os.ReadFile("../examples/pet-purchase/pet-asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"pet-asyncapi.yaml": string(async), "a.arazzo.yaml": doc})
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{},
		engine.WithTransports(&kafka.Transport{ConnectTimeout: 2 * time.Second}, &natstransport.Transport{ConnectTimeout: 2 * time.Second},
			&mqtttransport.Transport{ConnectTimeout: 2 * time.Second}, &amqptransport.Transport{ConnectTimeout: 2 * time.Second}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return plan
}

// writeFiles writes files into a new temporary directory.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type eventLog struct {
	mu sync.Mutex
	ev []engine.Event
}

func (l *eventLog) OnEvent(e engine.Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }

func (l *eventLog) kinds(k engine.EventKind) []engine.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []engine.Event
	for _, e := range l.ev {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func TestKafkaSendReceiveWithCorrelation(t *testing.T) {
	orders := &petstore.Orders{Decoys: true}
	addr := broker(t, orders)
	plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
	log := &eventLog{}
	res, err := plan.Run(context.Background(), "buy", map[string]any{"corr": "secret-corr"}, &engine.Options{
		Servers: map[string]string{"orders": "kafka://" + addr}, Observers: []engine.Observer{log}, Secrets: []string{"secret-corr"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs["orderId"]; got == nil || got.(interface{ String() string }).String() != "1007" {
		t.Fatalf("outputs %v", res.Outputs)
	}
	if orders.Answered.Load() != 1 || orders.Rejected.Load() != 0 {
		t.Fatalf("answered %d rejected %d", orders.Answered.Load(), orders.Rejected.Load())
	}
	sent, recv := log.kinds(engine.MessageSent), log.kinds(engine.MessageReceived)
	if len(sent) != 1 || len(recv) != 1 {
		t.Fatalf("sent %d received %d events", len(sent), len(recv))
	}
	if m := sent[0].Msg; m.Channel != "place-order" || string(m.Payload) != `{"petId":7}` || m.Header["orderRequestId"] != engine.Mask {
		t.Fatalf("sent %+v", m)
	}
	if m := recv[0].Msg; m.Channel != "confirm-order" || m.Header["orderRequestId"] != engine.Mask {
		t.Fatalf("received %+v (the decoy must be skipped, the correlation id masked)", m)
	}
}

func TestKafkaReceiveTimeoutAndCriteria(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		addr := broker(t, &petstore.Orders{Silent: true})
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "300", 1))
		start := time.Now()
		res, err := plan.Run(context.Background(), "buy", nil, &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}})
		var te *engine.StepTimeoutError
		if !errors.As(err, &te) || te.StepID != "confirm" || res.Status != engine.Failed {
			t.Fatalf("err %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("criteria", func(t *testing.T) {
		addr := broker(t, &petstore.Orders{})
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
		// Pet 8 is sold: the service answers {"error": ...}, which fails
		// $message.payload#/orderId > 0.
		_, err := plan.Run(context.Background(), "buy", map[string]any{"petId": 8}, &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}})
		var ce *engine.CriterionError
		if !errors.As(err, &ce) || !strings.Contains(ce.Condition, "orderId > 0") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestKafkaBrokerDownAndCancellation(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		c, err := kafkabroker.Start(kafkabroker.Config{})
		if err != nil {
			t.Fatal(err)
		}
		addr := c.ListenAddrs()[0]
		c.Close()
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
		_, err = plan.Run(context.Background(), "buy", nil, &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}})
		if !errors.Is(err, message.ErrBrokerUnreachable) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		addr := broker(t, &petstore.Orders{Silent: true})
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "60000", 1))
		ctx, cancel := context.WithCancel(context.Background())
		log := engine.ObserverFunc(func(e engine.Event) {
			if e.Kind == engine.StepStarted && e.StepID == "confirm" {
				go func() { time.Sleep(100 * time.Millisecond); cancel() }()
			}
		})
		start := time.Now()
		_, err := plan.Run(ctx, "buy", nil, &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}, Observers: []engine.Observer{log}})
		var se *engine.StoppedError
		if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("cancellation took %v", d)
		}
	})
}

// The raw client sees what the step sent, exactly: a check that does not
// rely on the order service's reading of it.
func TestKafkaSendIsWhatTheWireCarries(t *testing.T) {
	addr := broker(t, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("place-order"), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	doc := strings.Replace(asyncDoc, "TIMEOUT", "5000", 1)
	doc = doc[:strings.Index(doc, "      - stepId: confirm")] + "    outputs: {}\n"
	plan := loadAsync(t, doc)
	if _, err := plan.Run(context.Background(), "buy", map[string]any{"petId": 9, "corr": "x-9"}, &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fs := cl.PollFetches(ctx)
	recs := fs.Records()
	if len(recs) != 1 || string(recs[0].Value) != `{"petId":9}` || len(recs[0].Headers) != 1 || recs[0].Headers[0].Key != "orderRequestId" || string(recs[0].Headers[0].Value) != "x-9" {
		t.Fatalf("records %+v errors %v", recs, fs.Errors())
	}
}

// A receive that a later step depends on waits in the background while
// an HTTP step triggers its message, and is joined by the step that
// depends on it: a mixed HTTP and Kafka workflow.
func TestKafkaBackgroundReceiveJoinedByDependsOn(t *testing.T) {
	addr := broker(t, nil)
	producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/orders":
			// The API confirms asynchronously, on Kafka.
			corr := r.URL.Query().Get("corr")
			rec := &kgo.Record{Topic: "confirm-order", Value: []byte(`{"orderId": 55}`), Headers: []kgo.RecordHeader{{Key: "orderRequestId", Value: []byte(corr)}}}
			if err := producer.ProduceSync(r.Context(), rec).FirstErr(); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.WriteHeader(202)
		case "/orders/55":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status": "confirmed"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	plan := mixedPlan(t, kafka.New())
	log := &eventLog{}
	res, err := plan.Run(context.Background(), "mixed", nil, &engine.Options{
		Servers: map[string]string{"shop": srv.URL, "orders": "kafka://" + addr}, Observers: []engine.Observer{log}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["status"] != "confirmed" || strings.Join(seen, ",") != "POST /orders,GET /orders/55" {
		t.Fatalf("outputs %v, requests %v", res.Outputs, seen)
	}
	// listen started before place and finished after it.
	checkJoinOrder(t, log)
}

// mixedPlan compiles a workflow whose receive (listen, on the pet
// example's place-order channel) runs in the background while an HTTP
// step (place, on shop) triggers its message; check depends on both.
func mixedPlan(t *testing.T, trs ...message.Transport) *engine.Plan {
	t.Helper()
	api := `openapi: 3.0.3
info: {title: shop, version: '1'}
paths:
  /orders:
    post:
      operationId: order
      parameters: [{name: corr, in: query, schema: {type: string}}]
      responses: {'202': {description: accepted}}
  /orders/{id}:
    get:
      operationId: getOrder
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
`
	doc := `arazzo: 1.1.0
info: {title: mixed, version: '1'}
sourceDescriptions:
  - {name: shop, url: ./shop.yaml, type: openapi}
  - {name: orders, url: ./pet-asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: mixed
    steps:
      - stepId: listen
        operationId: $sourceDescriptions.orders.placeOrder
        action: receive
        correlationId: c-77
        timeout: 5000
        outputs: {orderId: $message.payload#/orderId}
      - stepId: place
        operationId: order
        parameters: [{name: corr, in: query, value: c-77}]
        successCriteria: [{condition: $statusCode == 202}]
      - stepId: check
        operationId: getOrder
        dependsOn: [listen, place]
        parameters: [{name: id, in: path, value: $steps.listen.outputs.orderId}]
        successCriteria: [{condition: $response.body#/status == "confirmed"}]
        outputs: {status: $response.body#/status}
    outputs:
      status: $steps.check.outputs.status
`
	dir := t.TempDir()
	async, _ := os.ReadFile("../examples/pet-purchase/pet-asyncapi.yaml")
	for name, text := range map[string]string{"pet-asyncapi.yaml": string(async), "shop.yaml": api, "m.arazzo.yaml": doc} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "m.arazzo.yaml"), &source.Loader{}, engine.WithTransports(trs...))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return plan
}

// checkJoinOrder checks that listen started before place and finished
// after it, and check ran once both had.
func checkJoinOrder(t *testing.T, log *eventLog) {
	t.Helper()
	var order []string
	for _, e := range log.ev {
		if e.Kind == engine.StepStarted || e.Kind == engine.StepFinished {
			order = append(order, string(e.Kind)+":"+e.StepID)
		}
	}
	if got := strings.Join(order, " "); got != "step.started:listen step.started:place step.finished:place step.finished:listen step.started:check step.finished:check" {
		t.Fatalf("order %s", got)
	}
}

// Server variables and channel parameters fill a broker address and a
// topic as they fill an HTTP server URL and path: an AsyncAPI 2.6
// description whose server port is a variable and whose channel has a
// parameter, its actions from the API's side (publish = the API receives).
func TestKafkaServerVariablesAndChannelParameters(t *testing.T) {
	addr := broker(t, nil)
	host, port, _ := strings.Cut(addr, ":")
	desc := `asyncapi: 2.6.0
info: {title: regions, version: '1'}
servers:
  local: {url: '` + host + `:{port}', protocol: kafka, variables: {port: {default: '1'}}}
channels:
  orders.{region}:
    parameters: {region: {schema: {type: string}}}
    publish:
      operationId: submit
      message:
        contentType: application/json
        correlationId: {location: '$message.payload#/id'}
        payload: {type: object}
    subscribe:
      operationId: submitted
      message:
        contentType: application/json
        correlationId: {location: '$message.payload#/id'}
        payload: {type: object}
`
	doc := `arazzo: 1.1.0
info: {title: regions, version: '1'}
sourceDescriptions:
  - {name: regions, url: ./regions.yaml, type: asyncapi}
workflows:
  - workflowId: w
    steps:
      - stepId: send
        operationId: submit
        action: send
        parameters: [{name: region, in: channel, value: eu}]
        requestBody: {payload: {id: r-1, qty: 3}}
      - stepId: echo
        operationId: submitted
        action: receive
        correlationId: r-1
        timeout: 5000
        parameters: [{name: region, in: channel, value: eu}]
        outputs: {qty: $message.payload#/qty}
    outputs: {qty: $steps.echo.outputs.qty}
`
	dir := writeFiles(t, map[string]string{"regions.yaml": desc, "a.arazzo.yaml": doc})
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{}, engine.WithTransports(&kafka.Transport{ConnectTimeout: time.Second}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	log := &eventLog{}
	res, err := plan.Run(context.Background(), "w", nil, &engine.Options{ServerVariables: map[string]map[string]string{"regions": {"port": port}}, Observers: []engine.Observer{log}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Outputs["qty"]) != "3" {
		t.Fatalf("outputs %v", res.Outputs)
	}
	if sent := log.kinds(engine.MessageSent); len(sent) != 1 || sent[0].Msg.Channel != "orders.eu" || sent[0].Msg.Server != addr {
		t.Fatalf("sent %+v", sent[0].Msg)
	}
	// Without the variable the default port is used, where nothing listens.
	_, err = plan.Run(context.Background(), "w", nil, nil)
	if !errors.Is(err, message.ErrBrokerUnreachable) || !strings.Contains(err.Error(), host+":1") {
		t.Fatalf("err %v", err)
	}
}

// A description without servers runs where --server says, and says so
// when it is not given.
func TestAsyncAPIWithoutServersTakesServerOverride(t *testing.T) {
	addr := broker(t, nil)
	desc := strings.Replace(readFile(t, "../examples/pet-purchase/pet-asyncapi.yaml"), "servers:\n  localKafka:\n    host: localhost:9092\n    protocol: kafka\n", "", 1)
	doc := strings.Replace(asyncDoc, "TIMEOUT", "5000", 1)
	doc = doc[:strings.Index(doc, "      - stepId: confirm")] + "    outputs: {}\n"
	dir := writeFiles(t, map[string]string{"pet-asyncapi.yaml": desc, "a.arazzo.yaml": doc})
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{}, engine.WithTransports(kafka.New()))
	if diags.HasErrors() || strings.Contains(desc, "localKafka") {
		t.Fatal(diags.Error())
	}
	_, err := plan.Run(context.Background(), "buy", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "has no servers: give one with --server orders=PROTOCOL://HOST:PORT") {
		t.Fatalf("err %v", err)
	}
	if _, err := plan.Run(context.Background(), "buy", nil, &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}}); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// --check applies to messages: what a step sends is checked against the
// message's payload and headers schemas before it goes out, what it
// receives after it arrives.
func TestKafkaMessageContractChecks(t *testing.T) {
	orders := &petstore.Orders{}
	addr := broker(t, orders)
	plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
	opts := func(c engine.Checks, obs ...engine.Observer) *engine.Options {
		return &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}, Checks: c, Observers: obs}
	}
	// petId must be an integer (OrderRequest's payload schema).
	bad := loadAsync(t, strings.Replace(strings.Replace(asyncDoc, "TIMEOUT", "5000", 1), "payload: {petId: $inputs.petId}", "payload: {petId: seven}", 1))
	_, err := bad.Run(context.Background(), "buy", nil, opts(engine.Checks{engine.CheckRequest: engine.CheckError}))
	var ce *engine.ContractError
	if !errors.As(err, &ce) || ce.Violations[0].Pointer != "/petId" || ce.Violations[0].Rule != "type" {
		t.Fatalf("err %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if orders.Rejected.Load()+orders.Answered.Load() != 0 {
		t.Fatal("a message that breaks its schema was sent")
	}
	// A sold pet's answer has no orderId, which OrderResponse requires.
	log := &eventLog{}
	_, err = plan.Run(context.Background(), "buy", map[string]any{"petId": 8}, opts(engine.Checks{engine.CheckSchema: engine.CheckError}, log))
	if !errors.As(err, &ce) || ce.Violations[0].Rule != "required" || !strings.Contains(ce.Violations[0].Message, "orderId") {
		t.Fatalf("err %v", err)
	}
	if v := log.kinds(engine.CheckViolated); len(v) != 1 || v[0].StepID != "confirm" {
		t.Fatalf("violations %+v", v)
	}
	// A conforming exchange passes both checks.
	if _, err := plan.Run(context.Background(), "buy", nil, opts(engine.Checks{engine.CheckRequest: engine.CheckError, engine.CheckSchema: engine.CheckError})); err != nil {
		t.Fatal(err)
	}
}
