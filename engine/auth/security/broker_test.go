package security_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
	"github.com/arazzo-go/arazzo/engine/message/kafka"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/kafkabroker"
)

// A Kafka broker that requires SASL/PLAIN gets its user and password from
// --auth values, through the same credential layers as HTTP schemes.
func TestBrokerCredentialsFromAuthLayers(t *testing.T) {
	c, err := kafkabroker.Start(kafkabroker.Config{User: "svc", Password: "pa55-CANARY"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	files := map[string]string{
		"events.asyncapi.yaml": `asyncapi: 3.0.0
info: {title: events, version: '1'}
servers:
  prod:
    host: ` + c.ListenAddrs()[0] + `
    protocol: kafka
    security: [{$ref: '#/components/securitySchemes/sasl'}]
channels:
  audit: {address: audit}
operations:
  record: {action: receive, channel: {$ref: '#/channels/audit'}}
components:
  securitySchemes:
    sasl: {type: plain}
`,
		"a.arazzo.yaml": `arazzo: 1.1.0
info: {title: a, version: '1'}
sourceDescriptions:
  - {name: events, url: ./events.asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: w
    steps:
      - stepId: send
        operationId: record
        action: send
        requestBody: {payload: {what: login}}
`,
	}
	for n, text := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{},
		engine.WithTransports(&kafka.Transport{ConnectTimeout: time.Second}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := security.PlanSchemes(plan)["events"]; len(got) != 1 || got[0].Kind != security.UserPassword {
		t.Fatalf("schemes %v", got)
	}
	run := func(cred string) error {
		var layers []security.Layer
		if cred != "" {
			v, err := security.ParseFlags([]string{"events.sasl=" + cred})
			if err != nil {
				t.Fatal(err)
			}
			if v, err = security.Check(v, "--auth", security.PlanSchemes(plan)); err != nil {
				t.Fatal(err)
			}
			layers = append(layers, v.Layer("--auth"))
		}
		_, err := plan.Run(context.Background(), "w", nil, &engine.Options{Middleware: []engine.Middleware{security.New(security.Config{Layers: layers})}})
		return err
	}
	if err := run("svc:pa55-CANARY"); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	err = run("svc:wrong-CANARY")
	if err == nil || strings.Contains(err.Error(), "wrong-CANARY") {
		t.Fatalf("wrong password: %v", err)
	}
	err = run("")
	if err == nil || !strings.Contains(err.Error(), "--auth events.sasl=USER:PASSWORD") {
		t.Fatalf("no credentials: %v", err)
	}
}
