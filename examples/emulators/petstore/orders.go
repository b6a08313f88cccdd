// Package petstore emulates the two APIs of the Arazzo 1.1 specification's
// pet purchase example (examples/pet-purchase): a small HTTP pet store
// (login, find pets by status) and the AsyncAPI order service, which
// consumes orders from Kafka topic place-order and answers each on
// confirm-order (or, over NATS, the subjects of the same names).
//
// Both enforce what the example relies on: the pet store wants its test
// user's password and then the session token it issued; the order
// service wants the orderRequestId header (the description's correlation
// id) and an integer petId of a pet that is available, copies the header
// to its reply and answers {"orderId": N}, or {"error": ...} for a pet it
// does not sell.
package petstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/eclipse/paho.golang/paho"
	"github.com/nats-io/nats.go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics of the order service (pet-asyncapi.yaml).
const (
	OrderTopic   = "place-order"
	ConfirmTopic = "confirm-order"
	// CorrelationHeader is the header the description's correlationId
	// points at.
	CorrelationHeader = "orderRequestId"
)

// Orders is the order service.
type Orders struct {
	// Rejected counts orders that were not answered because they broke
	// the description (no correlation header, no integer petId).
	Rejected atomic.Int64
	Answered atomic.Int64
	// Silent, when set, answers nothing: for timeout tests.
	Silent bool
	// Decoys, when set, sends a reply with another correlation id before
	// each real one: a receive step must skip it.
	Decoys bool
}

// Serve consumes orders from the Kafka cluster at broker until ctx ends.
// ready is closed once the consumer has its start offsets: an order sent
// after that is answered.
func (o *Orders) Serve(ctx context.Context, broker string, ready chan<- struct{}) error {
	admin, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		return err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	for _, t := range []string{OrderTopic, ConfirmTopic} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, t); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return err
		}
	}
	ends, err := adm.ListEndOffsets(ctx, OrderTopic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return err
	}
	from := map[int32]kgo.Offset{}
	ends.Each(func(l kadm.ListedOffset) { from[l.Partition] = kgo.NewOffset().At(l.Offset) })
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{OrderTopic: from}))
	if err != nil {
		return err
	}
	defer cl.Close()
	if ready != nil {
		close(ready)
	}
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return nil
		}
		for _, e := range fs.Errors() {
			return e.Err
		}
		fs.EachRecord(func(r *kgo.Record) { o.answer(ctx, cl, r) })
	}
}

func (o *Orders) answer(ctx context.Context, cl *kgo.Client, r *kgo.Record) {
	var corr string
	for _, h := range r.Headers {
		if h.Key == CorrelationHeader {
			corr = string(h.Value)
		}
	}
	send := func(corr string, body []byte) {
		_ = cl.ProduceSync(ctx, &kgo.Record{Topic: ConfirmTopic, Value: body,
			Headers: []kgo.RecordHeader{{Key: CorrelationHeader, Value: []byte(corr)}}}).FirstErr()
	}
	o.reply(corr, r.Value, send)
}

// reply answers one order through send, whatever carries it.
func (o *Orders) reply(corr string, payload []byte, send func(corr string, body []byte)) {
	var order struct {
		PetID *json.Number `json:"petId"`
	}
	if corr == "" || json.Unmarshal(payload, &order) != nil || order.PetID == nil {
		o.Rejected.Add(1)
		return
	}
	id, err := order.PetID.Int64()
	if err != nil {
		o.Rejected.Add(1)
		return
	}
	if o.Silent {
		return
	}
	reply := fmt.Sprintf(`{"orderId": %d}`, 1000+id)
	if !available(id) {
		reply = fmt.Sprintf(`{"error": "pet %d is not for sale"}`, id)
	}
	if o.Decoys {
		send("someone-else", []byte(`{"orderId": 1}`))
	}
	// Counted before the answer goes out: a test that has the answer
	// must see the count.
	o.Answered.Add(1)
	send(corr, []byte(reply))
}

// ServeNATS answers orders on the NATS server at url (subjects named as
// the Kafka topics) until ctx ends. ready is closed once the subscription
// is in place.
func (o *Orders) ServeNATS(ctx context.Context, url string, ready chan<- struct{}) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	sub, err := nc.Subscribe(OrderTopic, func(m *nats.Msg) {
		o.reply(m.Header.Get(CorrelationHeader), m.Data, func(corr string, body []byte) {
			out := &nats.Msg{Subject: ConfirmTopic, Data: body, Header: nats.Header{}}
			out.Header.Set(CorrelationHeader, corr)
			_ = nc.PublishMsg(out)
		})
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		return err
	}
	if ready != nil {
		close(ready)
	}
	<-ctx.Done()
	return nil
}

// ServeMQTT answers orders on the MQTT 5 broker at addr (topics named as
// the Kafka topics, the correlation id a user property) until ctx ends.
// ready is closed once the subscription is acknowledged.
func (o *Orders) ServeMQTT(ctx context.Context, addr string, ready chan<- struct{}) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	var cl *paho.Client
	cl = paho.NewClient(paho.ClientConfig{Conn: nc, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) {
			p := pr.Packet
			var corr string
			if p.Properties != nil {
				corr = p.Properties.User.Get(CorrelationHeader)
			}
			go o.reply(corr, p.Payload, func(corr string, body []byte) {
				out := &paho.Publish{Topic: ConfirmTopic, QoS: 1, Payload: body, Properties: &paho.PublishProperties{ContentType: "application/json"}}
				out.Properties.User.Add(CorrelationHeader, corr)
				_, _ = cl.Publish(ctx, out)
			})
			return true, nil
		}}})
	if _, err := cl.Connect(ctx, &paho.Connect{ClientID: "pet-orders", CleanStart: true, KeepAlive: 30}); err != nil {
		nc.Close()
		return err
	}
	defer cl.Disconnect(&paho.Disconnect{})
	if _, err := cl.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: OrderTopic, QoS: 1}}}); err != nil {
		return err
	}
	if ready != nil {
		close(ready)
	}
	<-ctx.Done()
	return nil
}
