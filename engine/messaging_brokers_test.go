package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/examples/emulators/mqttbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/natsbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
)

// AsyncAPI steps over NATS and MQTT: the same workflow as the Kafka
// tests, its source pointed at an embedded broker (nats-server, mochi-mqtt)
// with --server SCHEME://, the order service answering on topics or
// subjects of the same names.

type brokerCase struct {
	scheme string
	// start starts a broker (with the order service when orders is not
	// nil) and returns its address and a function that stops it.
	start func(t *testing.T, orders *petstore.Orders, user, password string) (addr string, stop func())
	// down, when set, gives an address where no broker answers (for a
	// broker that start shares rather than starts).
	down func(t *testing.T) string
}

var brokerCases = []brokerCase{
	{"nats", func(t *testing.T, orders *petstore.Orders, user, password string) (string, func()) {
		s, err := natsbroker.Start(natsbroker.Config{User: user, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if orders != nil {
			serveOrders(t, func(ctx context.Context, ready chan<- struct{}) error {
				return orders.ServeNATS(ctx, s.ClientURL(), ready)
			})
		}
		return s.Addr().String(), func() { s.Shutdown(); s.WaitForShutdown() }
	}, nil},
	{"mqtt", func(t *testing.T, orders *petstore.Orders, user, password string) (string, func()) {
		b, err := mqttbroker.Start(mqttbroker.Config{User: user, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if orders != nil {
			serveOrders(t, func(ctx context.Context, ready chan<- struct{}) error { return orders.ServeMQTT(ctx, b.Addr(), ready) })
		}
		return b.Addr(), b.Close
	}, nil},
	{scheme: "amqp", start: func(t *testing.T, orders *petstore.Orders, user, password string) (string, func()) {
		// RabbitMQ is a subprocess shared by the package's tests; its
		// users include svc (messaging_amqp_test.go).
		b := rabbit.Get(t)
		if orders != nil {
			serveOrders(t, func(ctx context.Context, ready chan<- struct{}) error {
				return orders.ServeAMQP(ctx, "amqp://guest:guest@"+b.Addr()+"/", ready)
			})
		}
		return b.Addr(), func() {}
	}, down: freeLoopbackAddr},
}

func (bc brokerCase) serve(t *testing.T, orders *petstore.Orders, user, password string) string {
	addr, stop := bc.start(t, orders, user, password)
	t.Cleanup(stop)
	return addr
}

func (bc brokerCase) opts(addr string, obs ...engine.Observer) *engine.Options {
	return &engine.Options{Servers: map[string]string{"orders": bc.scheme + "://" + addr}, Observers: obs}
}

func TestBrokersSendReceiveWithCorrelation(t *testing.T) {
	for _, bc := range brokerCases {
		t.Run(bc.scheme, func(t *testing.T) {
			orders := &petstore.Orders{Decoys: true}
			addr := bc.serve(t, orders, "", "")
			plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
			log := &eventLog{}
			res, err := plan.Run(context.Background(), "buy", nil, bc.opts(addr, log))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Outputs["orderId"]; got == nil || got.(interface{ String() string }).String() != "1007" || res.Outputs["corr"] != "c-1" {
				t.Fatalf("outputs %v", res.Outputs)
			}
			if orders.Answered.Load() != 1 || orders.Rejected.Load() != 0 {
				t.Fatalf("answered %d rejected %d", orders.Answered.Load(), orders.Rejected.Load())
			}
			recv := log.kinds(engine.MessageReceived)
			if len(recv) != 1 || recv[0].Msg.Protocol != bc.scheme || recv[0].Msg.Header["orderRequestId"] != "c-1" {
				t.Fatalf("received %+v", recv)
			}
		})
	}
}

func TestBrokersTimeoutCriteriaDownCredentialsCancel(t *testing.T) {
	for _, bc := range brokerCases {
		t.Run(bc.scheme+"/timeout", func(t *testing.T) {
			addr := bc.serve(t, &petstore.Orders{Silent: true}, "", "")
			plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "300", 1))
			_, err := plan.Run(context.Background(), "buy", nil, bc.opts(addr))
			var te *engine.StepTimeoutError
			if !errors.As(err, &te) || te.StepID != "confirm" {
				t.Fatalf("err %v", err)
			}
		})
		t.Run(bc.scheme+"/criteria", func(t *testing.T) {
			addr := bc.serve(t, &petstore.Orders{}, "", "")
			plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
			_, err := plan.Run(context.Background(), "buy", map[string]any{"petId": 8}, bc.opts(addr))
			var ce *engine.CriterionError
			if !errors.As(err, &ce) {
				t.Fatalf("err %v", err)
			}
		})
		t.Run(bc.scheme+"/down", func(t *testing.T) {
			var addr string
			if bc.down != nil {
				addr = bc.down(t)
			} else {
				var stop func()
				addr, stop = bc.start(t, nil, "", "")
				stop()
			}
			plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
			_, err := plan.Run(context.Background(), "buy", nil, bc.opts(addr))
			var me *engine.MessageError
			if !errors.Is(err, message.ErrBrokerUnreachable) || !strings.Contains(err.Error(), addr) || !errors.As(err, &me) || !strings.Contains(err.Error(), me.Step) {
				t.Fatalf("err %v", err)
			}
		})
		t.Run(bc.scheme+"/credentials", func(t *testing.T) {
			addr := bc.serve(t, nil, "svc", "s3cret-CANARY")
			doc := strings.Replace(asyncDoc, "TIMEOUT", "5000", 1)
			doc = doc[:strings.Index(doc, "      - stepId: confirm")] + "    outputs: {}\n"
			plan := loadAsync(t, doc)
			o := &engine.Options{Servers: map[string]string{"orders": bc.scheme + "://svc:s3cret-CANARY@" + addr}}
			if _, err := plan.Run(context.Background(), "buy", nil, o); err != nil {
				t.Fatal(err)
			}
			o.Servers["orders"] = bc.scheme + "://svc:wrong-CANARY@" + addr
			_, err := plan.Run(context.Background(), "buy", nil, o)
			if err == nil || strings.Contains(err.Error(), "wrong-CANARY") {
				t.Fatalf("err %v", err)
			}
		})
		t.Run(bc.scheme+"/cancel", func(t *testing.T) {
			addr := bc.serve(t, &petstore.Orders{Silent: true}, "", "")
			plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "60000", 1))
			ctx, cancel := context.WithCancel(context.Background())
			obs := engine.ObserverFunc(func(e engine.Event) {
				if e.Kind == engine.StepStarted && e.StepID == "confirm" {
					go func() { time.Sleep(100 * time.Millisecond); cancel() }()
				}
			})
			start := time.Now()
			_, err := plan.Run(ctx, "buy", nil, bc.opts(addr, obs))
			var se *engine.StoppedError
			if !errors.As(err, &se) || time.Since(start) > 5*time.Second {
				t.Fatalf("err %v after %v", err, time.Since(start))
			}
		})
	}
}
