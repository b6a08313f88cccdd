package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/examples/emulators/kafkabroker"
	"github.com/arazzo-go/arazzo/examples/emulators/mqttbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/natsbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
)

// newEmulateKafkaCmd serves an in-process Kafka broker with the pet
// purchase example's order service on it, and the example's pet store.
func newEmulateKafkaCmd() *cobra.Command {
	var addr, store, user, password string
	cmd := &cobra.Command{
		Use:   "kafka",
		Short: "Serve an in-process Kafka broker with the pet purchase example's order service (and its pet store)",
		Long: `kafka serves a Kafka broker (franz-go's kfake: the real Kafka protocol, kept in
memory) on --addr, with the order service of examples/pet-purchase on it:
it consumes topic place-order and answers each order on confirm-order. With
--petstore it also serves the example's HTTP pet store. --user and
--password turn on SASL/PLAIN.`,
		Example: `  arazzo emulate kafka --addr 127.0.0.1:9092 --petstore 127.0.0.1:8091
  arazzo run examples/pet-purchase/pet-purchase.arazzo.yaml \
    --server asyncOrderApiDescription=kafka://127.0.0.1:9092 \
    --server petStoreDescription=http://127.0.0.1:8091`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := kafkabroker.Start(kafkabroker.Config{Addr: addr, User: user, Password: password})
			if err != nil {
				return withCode(exitUsage, err)
			}
			defer c.Close()
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			broker := c.ListenAddrs()[0]
			if user != "" {
				// The order service is a client like any other.
				fmt.Fprintf(out, "Kafka broker listening on kafka://%s (SASL/PLAIN user %s)\n", broker, user)
				<-ctx.Done()
				return nil
			}
			errc := make(chan error, 2)
			ready := make(chan struct{})
			go func() { errc <- (&petstore.Orders{}).Serve(ctx, broker, ready) }()
			select {
			case <-ready:
			case err := <-errc:
				return err
			}
			fmt.Fprintf(out, "Kafka broker listening on kafka://%s\n", broker)
			fmt.Fprintf(out, "  order service: consumes %s, answers on %s\n", petstore.OrderTopic, petstore.ConfirmTopic)
			if store != "" {
				ln, err := net.Listen("tcp", store)
				if err != nil {
					return withCode(exitUsage, err)
				}
				fmt.Fprintf(out, "pet store listening on http://%s (user %s, password %s)\n", ln.Addr(), petstore.TestUser, petstore.TestPassword)
				go func() { errc <- serve(cmd, ln, petstore.NewStore()) }()
			}
			select {
			case <-ctx.Done():
				return nil
			case err := <-errc:
				return err
			}
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9092", "address the broker listens on")
	cmd.Flags().StringVar(&store, "petstore", "", "also serve the example's HTTP pet store on this address")
	cmd.Flags().StringVar(&user, "user", "", "require SASL/PLAIN with this user (the order service is then off)")
	cmd.Flags().StringVar(&password, "password", "", "the SASL/PLAIN user's password")
	return cmd
}

// brokerEmulator starts one embedded broker: its URL, the order service
// to run on it, and how to stop it.
type brokerEmulator func(addr, user, password string) (url string, orders func(ctx context.Context, ready chan<- struct{}) error, stop func(), err error)

func natsEmulator(addr, user, password string) (string, func(context.Context, chan<- struct{}) error, func(), error) {
	s, err := natsbroker.Start(natsbroker.Config{Addr: addr, User: user, Password: password})
	if err != nil {
		return "", nil, nil, err
	}
	orders := func(ctx context.Context, ready chan<- struct{}) error {
		return (&petstore.Orders{}).ServeNATS(ctx, s.ClientURL(), ready)
	}
	return "nats://" + s.Addr().String(), orders, s.Shutdown, nil
}

func mqttEmulator(addr, user, password string) (string, func(context.Context, chan<- struct{}) error, func(), error) {
	b, err := mqttbroker.Start(mqttbroker.Config{Addr: addr, User: user, Password: password})
	if err != nil {
		return "", nil, nil, err
	}
	orders := func(ctx context.Context, ready chan<- struct{}) error {
		return (&petstore.Orders{}).ServeMQTT(ctx, b.Addr(), ready)
	}
	return "mqtt://" + b.Addr(), orders, b.Close, nil
}

func wsEmulator(addr, user, password string) (string, func(context.Context, chan<- struct{}) error, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, nil, err
	}
	srv := &http.Server{Handler: (&petstore.Orders{}).WebSocket(user, password), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	// The server is the order service: it is ready once it listens.
	orders := func(ctx context.Context, ready chan<- struct{}) error {
		close(ready)
		<-ctx.Done()
		return nil
	}
	return "ws://" + ln.Addr().String(), orders, func() { srv.Close() }, nil
}

// newEmulateBrokerCmd serves an embedded NATS server or MQTT broker with
// the pet purchase example's order service on it.
func newEmulateBrokerCmd(name, title, lib, defaultAddr string, start brokerEmulator) *cobra.Command {
	var addr, user, password string
	cmd := &cobra.Command{
		Use:   name,
		Short: "Serve an in-process " + title + " with the pet purchase example's order service",
		Long: name + ` serves a ` + title + ` (` + lib + `) on --addr, with the order
service of examples/pet-purchase on it: it answers each message on
place-order with one on confirm-order. --user and --password make clients
authenticate (the order service then is off).`,
		Example: "  arazzo emulate " + name + " --addr " + defaultAddr + "\n  arazzo run examples/pet-purchase/pet-purchase.arazzo.yaml \\\n" +
			"    --server asyncOrderApiDescription=" + name + "://" + defaultAddr + " --server petStoreDescription=...",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, orders, stop, err := start(addr, user, password)
			if err != nil {
				return withCode(exitUsage, err)
			}
			defer stop()
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			if user != "" && name != "websocket" {
				fmt.Fprintf(out, "%s listening on %s (user %s)\n", title, url, user)
				<-ctx.Done()
				return nil
			}
			errc, ready := make(chan error, 1), make(chan struct{})
			go func() { errc <- orders(ctx, ready) }()
			select {
			case <-ready:
			case err := <-errc:
				return err
			}
			fmt.Fprintf(out, "%s listening on %s\n", title, url)
			if name == "websocket" {
				fmt.Fprintf(out, "  order service: at %s, answers each order on the connection it came in on\n", petstore.WSOrdersPath)
			} else {
				fmt.Fprintf(out, "  order service: answers %s on %s\n", petstore.OrderTopic, petstore.ConfirmTopic)
			}
			select {
			case <-ctx.Done():
				return nil
			case err := <-errc:
				return err
			}
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultAddr, "address to listen on")
	cmd.Flags().StringVar(&user, "user", "", "require this user (the order service is then off)")
	cmd.Flags().StringVar(&password, "password", "", "the user's password")
	return cmd
}

// emulatePetstore, for `run --emulate petstore`, starts the pet purchase
// example's APIs in this process (a Kafka broker with the order service,
// the HTTP pet store) and points the document's sources at them: every
// AsyncAPI source to the broker, every OpenAPI source to the store.
func emulatePetstore(plan *engine.Plan, opts *engine.Options, emulate string, note func(string)) (func(), error) {
	if emulate != "petstore" {
		return func() {}, nil
	}
	c, err := kafkabroker.Start(kafkabroker.Config{})
	if err != nil {
		return func() {}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	broker := c.ListenAddrs()[0]
	go func() { done <- (&petstore.Orders{}).Serve(ctx, broker, ready) }()
	srv := httptest.NewServer(petstore.NewStore())
	stop := func() { cancel(); srv.Close(); c.Close() }
	select {
	case <-ready:
	case err := <-done:
		stop()
		return func() {}, fmt.Errorf("--emulate petstore: the order service did not start: %v", err)
	case <-time.After(30 * time.Second):
		stop()
		return func() {}, fmt.Errorf("--emulate petstore: the order service did not start")
	}
	var names []string
	for _, ref := range plan.Sources() {
		if _, set := opts.Servers[ref.Name]; set || ref.Source == nil {
			continue
		}
		switch {
		case ref.Source.Async != nil:
			opts.Servers[ref.Name] = "kafka://" + broker
		case ref.Source.OpenAPI != nil:
			opts.Servers[ref.Name] = srv.URL
		default:
			continue
		}
		names = append(names, ref.Name)
	}
	note(fmt.Sprintf("emulating the pet purchase example: Kafka at %s, pet store at %s (sources %s)", broker, srv.URL, strings.Join(names, ", ")))
	return stop, nil
}
