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
	"github.com/arazzo-go/arazzo/engine/internal/brokertest"
	"github.com/arazzo-go/arazzo/engine/message"
	"github.com/arazzo-go/arazzo/engine/message/kafka"
	natstransport "github.com/arazzo-go/arazzo/engine/message/nats"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/authserver"
	"github.com/arazzo-go/arazzo/examples/emulators/kafkabroker"
	"github.com/arazzo-go/arazzo/examples/emulators/natsbroker"
)

// A Kafka broker that requires SASL/PLAIN gets its user and password from
// --auth values, through the same credential layers as HTTP schemes.
func TestBrokerCredentialsFromAuthLayers(t *testing.T) {
	c, err := kafkabroker.Start(kafkabroker.Config{User: "svc", Password: "pa55-CANARY"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	plan := brokerPlan(t, c.ListenAddrs()[0], "kafka", "sasl", "plain", &kafka.Transport{ConnectTimeout: time.Second})
	if got := security.PlanSchemes(plan)["events"]; len(got) != 1 || got[0].Kind != security.UserPassword {
		t.Fatalf("schemes %v", got)
	}
	run := func(cred string) error {
		if cred == "" {
			return brokertest.RunWithAuth(t, plan)
		}
		return brokertest.RunWithAuth(t, plan, "events.sasl="+cred)
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

// An X509 scheme gives a broker connection TLS with a client certificate
// (and the CA to trust), from --auth SOURCE.SCHEME=CERT,KEY,CA: here a
// NATS server that requires and verifies client certificates.
func TestBrokerClientCertificate(t *testing.T) {
	pki, err := authserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	stls, err := pki.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	s, err := natsbroker.Start(natsbroker.Config{TLS: stls})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	ca, cert, key, err := pki.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	plan := brokerPlan(t, s.Addr().String(), "nats", "cert", "X509", &natstransport.Transport{ConnectTimeout: 2 * time.Second})
	run := func(flags ...string) error { return brokertest.RunWithAuth(t, plan, flags...) }
	if err := run("events.cert=" + cert + "," + key + "," + ca); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	// Without the CA the server's certificate is not trusted.
	if err := run("events.cert=" + cert + "," + key); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v", err)
	}
	if err := run(); err == nil || !strings.Contains(err.Error(), "--auth events.cert=CERT_FILE,KEY_FILE[,CA_FILE]") {
		t.Fatalf("without: %v", err)
	}
}

// brokerPlan compiles a one-step workflow that sends to an AsyncAPI
// source on host whose server requires security scheme "name" of type typ.
func brokerPlan(t *testing.T, host, protocol, name, typ string, tr message.Transport) *engine.Plan {
	t.Helper()
	dir := t.TempDir()
	files := brokertest.SecuredSend(host, protocol, name, typ, "")
	for n, text := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan, diags := engine.LoadFile(context.Background(), filepath.Join(dir, "a.arazzo.yaml"), &source.Loader{}, engine.WithTransports(tr))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return plan
}
