package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/examples/emulators/natsbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
)

// AsyncAPI steps over NATS: the same workflow as the Kafka tests, its
// source pointed at an embedded nats-server with --server nats://, the
// order service answering on subjects of the same names.

func natsServer(t *testing.T, orders *petstore.Orders, user, password string) string {
	t.Helper()
	s, err := natsbroker.Start(natsbroker.Config{User: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	addr := s.Addr().String()
	if orders != nil {
		serveOrders(t, func(ctx context.Context, ready chan<- struct{}) error { return orders.ServeNATS(ctx, s.ClientURL(), ready) })
	}
	return addr
}

func natsOpts(addr string, obs ...engine.Observer) *engine.Options {
	return &engine.Options{Servers: map[string]string{"orders": "nats://" + addr}, Observers: obs}
}

func TestNATSSendReceiveWithCorrelation(t *testing.T) {
	orders := &petstore.Orders{Decoys: true}
	addr := natsServer(t, orders, "", "")
	plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
	log := &eventLog{}
	res, err := plan.Run(context.Background(), "buy", nil, natsOpts(addr, log))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs["orderId"]; got == nil || got.(interface{ String() string }).String() != "1007" || res.Outputs["corr"] != "c-1" {
		t.Fatalf("outputs %v", res.Outputs)
	}
	if orders.Answered.Load() != 1 {
		t.Fatalf("answered %d", orders.Answered.Load())
	}
	recv := log.kinds(engine.MessageReceived)
	if len(recv) != 1 || recv[0].Msg.Protocol != "nats" || recv[0].Msg.Header["orderRequestId"] != "c-1" {
		t.Fatalf("received %+v", recv)
	}
}

func TestNATSTimeoutCriteriaDownAndCancel(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		addr := natsServer(t, &petstore.Orders{Silent: true}, "", "")
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "300", 1))
		_, err := plan.Run(context.Background(), "buy", nil, natsOpts(addr))
		var te *engine.StepTimeoutError
		if !errors.As(err, &te) || te.StepID != "confirm" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("criteria", func(t *testing.T) {
		addr := natsServer(t, &petstore.Orders{}, "", "")
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
		_, err := plan.Run(context.Background(), "buy", map[string]any{"petId": 8}, natsOpts(addr))
		var ce *engine.CriterionError
		if !errors.As(err, &ce) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("down", func(t *testing.T) {
		s, err := natsbroker.Start(natsbroker.Config{})
		if err != nil {
			t.Fatal(err)
		}
		addr := s.Addr().String()
		s.Shutdown()
		s.WaitForShutdown()
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "5000", 1))
		_, err = plan.Run(context.Background(), "buy", nil, natsOpts(addr))
		if !errors.Is(err, message.ErrBrokerUnreachable) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("credentials", func(t *testing.T) {
		addr := natsServer(t, nil, "svc", "n4ts-CANARY")
		doc := strings.Replace(asyncDoc, "TIMEOUT", "5000", 1)
		doc = doc[:strings.Index(doc, "      - stepId: confirm")] + "    outputs: {}\n"
		plan := loadAsync(t, doc)
		o := &engine.Options{Servers: map[string]string{"orders": "nats://svc:n4ts-CANARY@" + addr}}
		if _, err := plan.Run(context.Background(), "buy", nil, o); err != nil {
			t.Fatal(err)
		}
		o.Servers["orders"] = "nats://svc:wrong-CANARY@" + addr
		_, err := plan.Run(context.Background(), "buy", nil, o)
		if err == nil || strings.Contains(err.Error(), "wrong-CANARY") || !strings.Contains(err.Error(), "Authorization") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		addr := natsServer(t, &petstore.Orders{Silent: true}, "", "")
		plan := loadAsync(t, strings.Replace(asyncDoc, "TIMEOUT", "60000", 1))
		ctx, cancel := context.WithCancel(context.Background())
		obs := engine.ObserverFunc(func(e engine.Event) {
			if e.Kind == engine.StepStarted && e.StepID == "confirm" {
				go func() { time.Sleep(100 * time.Millisecond); cancel() }()
			}
		})
		start := time.Now()
		_, err := plan.Run(ctx, "buy", nil, natsOpts(addr, obs))
		var se *engine.StoppedError
		if !errors.As(err, &se) || time.Since(start) > 5*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
	})
}
