package engine_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/message"
	wstransport "github.com/arazzo-go/arazzo/engine/message/websocket"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
)

// AsyncAPI steps over WebSocket: no broker, the order service is a
// WebSocket server that answers on the connection the order came in on,
// the correlation id in the payload.

const wsAsyncAPI = `asyncapi: 3.0.0
info: {title: ws orders, version: '1'}
servers:
  local: {host: '127.0.0.1:1', protocol: ws}
channels:
  orders:
    address: /orders
    messages:
      order: {$ref: '#/components/messages/Order'}
      confirmation: {$ref: '#/components/messages/Confirmation'}
operations:
  placeOrder:
    action: receive
    channel: {$ref: '#/channels/orders'}
    messages: [{$ref: '#/channels/orders/messages/order'}]
    reply:
      channel: {$ref: '#/channels/orders'}
      messages: [{$ref: '#/channels/orders/messages/confirmation'}]
components:
  messages:
    Order:
      contentType: application/json
      correlationId: {location: '$message.payload#/requestId'}
      payload: {type: object, required: [requestId, petId]}
    Confirmation:
      contentType: application/json
      correlationId: {location: '$message.payload#/requestId'}
      payload: {type: object}
`

const wsDoc = `arazzo: 1.1.0
info: {title: ws, version: '1'}
sourceDescriptions:
  - {name: orders, url: ./ws.asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: buy
    inputs:
      type: object
      properties:
        petId: {type: integer, default: 7}
        corr: {type: string, default: w-1}
    steps:
      - stepId: place
        operationId: placeOrder
        action: send
        requestBody:
          payload: {requestId: $inputs.corr, petId: $inputs.petId}
      - stepId: confirm
        operationId: placeOrder
        action: receive
        correlationId: $inputs.corr
        timeout: TIMEOUT
        successCriteria:
          - condition: $message.payload#/orderId > 0
        outputs:
          orderId: $message.payload#/orderId
    outputs:
      orderId: $steps.confirm.outputs.orderId
`

func loadWS(t *testing.T, timeout string) *engine.Plan {
	t.Helper()
	dir := writeFiles(t, map[string]string{"ws.asyncapi.yaml": wsAsyncAPI, "a.arazzo.yaml": strings.Replace(wsDoc, "TIMEOUT", timeout, 1)})
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{},
		engine.WithTransports(&wstransport.Transport{ConnectTimeout: 2 * time.Second}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return plan
}

func wsServer(t *testing.T, o *petstore.Orders, user, password string) string {
	srv := httptest.NewServer(o.WebSocket(user, password))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func wsOpts(url string, obs ...engine.Observer) *engine.Options {
	return &engine.Options{Servers: map[string]string{"orders": url}, Observers: obs}
}

func TestWebSocketSendReceiveWithCorrelation(t *testing.T) {
	o := &petstore.Orders{Decoys: true}
	addr := wsServer(t, o, "", "")
	log := &eventLog{}
	res, err := loadWS(t, "5000").Run(context.Background(), "buy", nil, wsOpts("ws://"+addr, log))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs["orderId"]; got == nil || got.(interface{ String() string }).String() != "1007" || o.Answered.Load() != 1 {
		t.Fatalf("outputs %v answered %d", res.Outputs, o.Answered.Load())
	}
	if sent := log.kinds(engine.MessageSent); len(sent) != 1 || sent[0].Msg.Channel != "/orders" || sent[0].Msg.Protocol != "ws" {
		t.Fatalf("sent %+v", sent)
	}
}

func TestWebSocketTimeoutCriteriaDownCredentialsCancel(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		addr := wsServer(t, &petstore.Orders{Silent: true}, "", "")
		_, err := loadWS(t, "300").Run(context.Background(), "buy", nil, wsOpts("ws://"+addr))
		var te *engine.StepTimeoutError
		if !errors.As(err, &te) || te.StepID != "confirm" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("criteria", func(t *testing.T) {
		addr := wsServer(t, &petstore.Orders{}, "", "")
		_, err := loadWS(t, "5000").Run(context.Background(), "buy", map[string]any{"petId": 8}, wsOpts("ws://"+addr))
		var ce *engine.CriterionError
		if !errors.As(err, &ce) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("down", func(t *testing.T) {
		srv := httptest.NewServer(nil)
		addr := strings.TrimPrefix(srv.URL, "http://")
		srv.Close()
		_, err := loadWS(t, "5000").Run(context.Background(), "buy", nil, wsOpts("ws://"+addr))
		if !errors.Is(err, message.ErrBrokerUnreachable) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("credentials", func(t *testing.T) {
		addr := wsServer(t, &petstore.Orders{}, "svc", "w5-CANARY")
		if _, err := loadWS(t, "5000").Run(context.Background(), "buy", nil, wsOpts("ws://svc:w5-CANARY@"+addr)); err != nil {
			t.Fatal(err)
		}
		_, err := loadWS(t, "5000").Run(context.Background(), "buy", nil, wsOpts("ws://svc:wrong-CANARY@"+addr))
		if err == nil || strings.Contains(err.Error(), "wrong-CANARY") || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		addr := wsServer(t, &petstore.Orders{Silent: true}, "", "")
		ctx, cancel := context.WithCancel(context.Background())
		obs := engine.ObserverFunc(func(e engine.Event) {
			if e.Kind == engine.StepStarted && e.StepID == "confirm" {
				go func() { time.Sleep(100 * time.Millisecond); cancel() }()
			}
		})
		start := time.Now()
		_, err := loadWS(t, "60000").Run(ctx, "buy", nil, wsOpts("ws://"+addr, obs))
		var se *engine.StoppedError
		if !errors.As(err, &se) || time.Since(start) > 5*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
	})
}
