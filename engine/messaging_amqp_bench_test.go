package engine_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/arazzo-go/arazzo/engine"
)

// Messages per second through a send→receive round trip on the test
// RabbitMQ, as BenchmarkKafkaRoundTrip measures Kafka: a workflow run
// (connect, subscribe at start, send, receive by correlation id, close)
// against amqp091-go doing the same work by hand ("raw-connect": dial,
// a confirming publish channel, a server-named queue bound to amq.topic,
// consume, publish, wait for the confirm, receive, close) and amqp091-go
// keeping one connection and subscription for every round trip
// ("raw-persistent"), in the same run. Run with
//
//	go test -run '^$' -bench AMQPRoundTrip -benchtime 2s ./engine/
func BenchmarkAMQPRoundTrip(b *testing.B) {
	br := rabbit.Get(b)
	plan := loadAsync(b, echoDoc)
	url := "amqp://guest:guest@" + br.Addr() + "/"
	b.Run("engine", func(b *testing.B) {
		benchEchoRuns(b, plan, &engine.Options{Servers: map[string]string{"orders": "amqp://" + br.Addr()}})
	})
	b.Run("raw-connect", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r := openAMQPEcho(b, url)
			r.roundTrip(b, "r-"+strconv.Itoa(i))
			r.conn.Close()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("raw-persistent", func(b *testing.B) {
		r := openAMQPEcho(b, url)
		defer r.conn.Close()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r.roundTrip(b, "p-"+strconv.Itoa(i))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// amqpEcho is amqp091-go set up as a workflow run sets it up.
type amqpEcho struct {
	conn       *amqp091.Connection
	pub        *amqp091.Channel
	deliveries <-chan amqp091.Delivery
}

func openAMQPEcho(b *testing.B, url string) *amqpEcho {
	conn, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := conn.Channel()
	if err == nil {
		err = pub.Confirm(false)
	}
	if err != nil {
		b.Fatal(err)
	}
	sub, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	q, err := sub.QueueDeclare("", false, true, true, false, nil)
	if err == nil {
		err = sub.QueueBind(q.Name, "place-order", "amq.topic", false, nil)
	}
	if err == nil {
		err = sub.Qos(64, 0, false)
	}
	if err != nil {
		b.Fatal(err)
	}
	d, err := sub.Consume(q.Name, "", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	return &amqpEcho{conn: conn, pub: pub, deliveries: d}
}

func (r *amqpEcho) roundTrip(b *testing.B, corr string) {
	ctx := context.Background()
	dc, err := r.pub.PublishWithDeferredConfirmWithContext(ctx, "amq.topic", "place-order", false, false, amqp091.Publishing{
		ContentType: "application/json", Headers: amqp091.Table{"orderRequestId": corr}, Body: []byte(`{"petId":1}`)})
	if err != nil {
		b.Fatal(err)
	}
	if ok, err := dc.WaitContext(ctx); !ok || err != nil {
		b.Fatalf("not confirmed: %v", err)
	}
	for d := range r.deliveries {
		if err := d.Ack(false); err != nil {
			b.Fatal(err)
		}
		if d.Headers["orderRequestId"] == corr && bytes.Contains(d.Body, []byte(`"petId":1`)) {
			return
		}
	}
	b.Fatal("the subscription ended")
}
