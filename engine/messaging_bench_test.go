package engine_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arazzo-go/arazzo/engine"
)

// Messages per second through a send→receive round trip on the
// in-process Kafka cluster: a workflow run (send, then receive the same
// message by correlation id), against franz-go's own loop doing the same
// round trip, in the same run. Run with
//
//	go test -run '^$' -bench KafkaRoundTrip -benchtime 2s ./engine/
//
// "engine" pays what every run pays: connect, subscribe (create the
// topic if needed, list its end offsets, start a consumer), send,
// receive, close. "raw-connect" is franz-go doing exactly that work by
// hand; "raw-persistent" keeps one producer and one consumer for all
// round trips, the library's best case, which a workflow run (one
// connection per run) cannot have.
func BenchmarkKafkaRoundTrip(b *testing.B) {
	addr := broker(b, nil)
	plan := loadAsync(b, echoDoc)
	opts := &engine.Options{Servers: map[string]string{"orders": "kafka://" + addr}}
	ctx := context.Background()
	b.Run("engine", func(b *testing.B) { benchEchoRuns(b, plan, opts) })
	b.Run("raw-connect", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			rawRoundTrip(b, ctx, addr, nil, nil, "r-"+strconv.Itoa(i))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("raw-persistent", func(b *testing.B) {
		prod, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			b.Fatal(err)
		}
		defer prod.Close()
		cons := consumerAtEnd(b, ctx, prod, addr)
		defer cons.Close()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			rawRoundTrip(b, ctx, addr, prod, cons, "p-"+strconv.Itoa(i))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// benchEchoRuns runs echoDoc's workflow b.N times.
func benchEchoRuns(b *testing.B, plan *engine.Plan, opts *engine.Options) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := plan.Run(context.Background(), "echo", map[string]any{"corr": "e-" + strconv.Itoa(i)}, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// echoDoc sends a message and receives it back by its correlation id: a
// round trip through a broker per run.
const echoDoc = `arazzo: 1.1.0
info: {title: bench, version: '1'}
sourceDescriptions:
  - {name: orders, url: ./pet-asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: echo
    inputs: {type: object, properties: {corr: {type: string}}}
    steps:
      - stepId: send
        channelPath: '{$sourceDescriptions.orders.url}#/channels/place-order'
        action: send
        parameters: [{name: orderRequestId, in: header, value: $inputs.corr}]
        requestBody: {payload: {petId: 1}}
      - stepId: receive
        channelPath: '{$sourceDescriptions.orders.url}#/channels/place-order'
        action: receive
        correlationId: $inputs.corr
        timeout: 5000
        successCriteria: [{condition: $message.payload#/petId == 1}]
`

func consumerAtEnd(b testing.TB, ctx context.Context, admin *kgo.Client, addr string) *kgo.Client {
	adm := kadm.NewClient(admin)
	_, _ = adm.CreateTopic(ctx, 1, 1, nil, "place-order")
	ends, err := adm.ListEndOffsets(ctx, "place-order")
	if err != nil {
		b.Fatal(err)
	}
	from := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) { from[o.Partition] = kgo.NewOffset().At(o.Offset) })
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"place-order": from}))
	if err != nil {
		b.Fatal(err)
	}
	return cons
}

// rawRoundTrip sends one message and reads until it comes back; with nil
// clients it connects and subscribes first, as a workflow run does.
func rawRoundTrip(b testing.TB, ctx context.Context, addr string, prod, cons *kgo.Client, corr string) {
	if prod == nil {
		var err error
		if prod, err = kgo.NewClient(kgo.SeedBrokers(addr)); err != nil {
			b.Fatal(err)
		}
		defer prod.Close()
		if err := prod.Ping(ctx); err != nil {
			b.Fatal(err)
		}
		cons = consumerAtEnd(b, ctx, prod, addr)
		defer cons.Close()
	}
	rec := &kgo.Record{Topic: "place-order", Value: []byte(`{"petId":1}`), Headers: []kgo.RecordHeader{{Key: "orderRequestId", Value: []byte(corr)}}}
	if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
		b.Fatal(err)
	}
	for {
		fs := cons.PollFetches(ctx)
		if errs := fs.Errors(); len(errs) > 0 {
			b.Fatal(fmt.Sprint(errs))
		}
		for _, r := range fs.Records() {
			if len(r.Headers) == 1 && string(r.Headers[0].Value) == corr && strings.Contains(string(r.Value), `"petId":1`) {
				return
			}
		}
	}
}
