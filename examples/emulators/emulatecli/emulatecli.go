// Package emulatecli is the command line of arazzo-emulate, the companion
// program that serves the emulators embedding a broker: an in-process
// Kafka (franz-go's kfake), NATS server (nats-server) and MQTT broker
// (mochi-mqtt), each with the pet purchase example's order service, and
// the WebSocket order service that shares their command. They live
// outside the arazzo binary because every package a binary links runs its
// initialiser in every command: the brokers would cost each arazzo command
// start-up time and memory for something only emulators use. arazzo runs
// this program for `arazzo emulate kafka|nats|mqtt|websocket` and for
// `arazzo run --emulate petstore`.
//
// The logic is here rather than in cmd/arazzo-emulate so that tests (the
// CLI's among them) can run it in their own binary, without go build.
package emulatecli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/examples/emulators/kafkabroker"
	"github.com/arazzo-go/arazzo/examples/emulators/mqttbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/natsbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
)

// Exit codes, as arazzo's.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2 // bad command line, or an address that cannot be listened on
)

// usageError marks an error the user can fix on the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Run is the process's main: the command line, standard streams and
// SIGINT/SIGTERM (which stop the emulator cleanly, exit 0) of this process.
func Run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Main runs arazzo-emulate with args and returns its exit code. The
// emulator serves until ctx ends; with --json also until stdin closes.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewCommand(stdin)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "arazzo-emulate:", err)
		return exitUsage
	case isCobraUsage(err):
		fmt.Fprintln(stderr, "arazzo-emulate:", err)
		fmt.Fprintln(stderr, "Run 'arazzo-emulate --help' for usage.")
		return exitUsage
	default:
		fmt.Fprintln(stderr, "arazzo-emulate:", err)
		return exitFailed
	}
}

// isCobraUsage tells cobra's own rejections (unknown flag or command,
// wrong arguments) from the emulators' errors, which are all wrapped.
func isCobraUsage(err error) bool {
	var se serveError
	return !errors.As(err, &se)
}

// serveError marks an error of a running emulator (exit 1).
type serveError struct{ err error }

func (e serveError) Error() string { return e.err.Error() }
func (e serveError) Unwrap() error { return e.err }

// NewCommand is arazzo-emulate's root command. stdin is watched with
// --json only.
func NewCommand(stdin io.Reader) *cobra.Command {
	root := &cobra.Command{
		Use:   "arazzo-emulate",
		Short: "Serve the emulators that embed a broker (Kafka, NATS, MQTT) and the WebSocket order service",
		Long: `arazzo-emulate serves the emulators of arazzo that embed a broker, each with the
order service of examples/pet-purchase. arazzo runs it for
'arazzo emulate kafka|nats|mqtt|websocket' and 'arazzo run --emulate petstore';
it is a program of its own so that the arazzo binary does not link the brokers.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newKafkaCmd(stdin),
		newBrokerCmd(stdin, "nats", "NATS server", "nats-server itself, as a library", "127.0.0.1:4222", natsEmulator),
		newBrokerCmd(stdin, "mqtt", "MQTT broker", "mochi-mqtt, MQTT 3.1.1 and 5", "127.0.0.1:1883", mqttEmulator),
		newBrokerCmd(stdin, "websocket", "WebSocket order service", "coder/websocket; orders and replies on one connection at /orders, the correlation id in the payload", "127.0.0.1:8092", wsEmulator))
	return root
}

// jsonFlagUsage is the --json flag's help, the same for every emulator.
const jsonFlagUsage = "print one JSON line once ready (its URLs) instead of the banner, and stop also when stdin closes (for programs that start the emulator)"

// announce prints, once everything is ready, the JSON line of --json (and
// makes a closed stdin end ctx), or else the banner.
func announce(ctx context.Context, stdin io.Reader, out io.Writer, asJSON bool, urls map[string]string, banner func()) context.Context {
	if !asJSON {
		banner()
		return ctx
	}
	line, _ := json.Marshal(urls) // map keys come out sorted: stable lines
	fmt.Fprintf(out, "%s\n", line)
	if stdin == nil {
		return ctx
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		io.Copy(io.Discard, stdin) // returns when the starting program closes its end or dies
		cancel()
	}()
	return ctx
}

// newKafkaCmd serves an in-process Kafka broker with the pet purchase
// example's order service on it, and the example's pet store.
func newKafkaCmd(stdin io.Reader) *cobra.Command {
	var addr, store, user, password string
	var asJSON bool
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
				return usageError{err}
			}
			defer c.Close()
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			broker := c.ListenAddrs()[0]
			urls := map[string]string{"broker": "kafka://" + broker}
			if user != "" {
				// The order service is a client like any other.
				ctx = announce(ctx, stdin, out, asJSON, urls, func() {
					fmt.Fprintf(out, "Kafka broker listening on kafka://%s (SASL/PLAIN user %s)\n", broker, user)
				})
				<-ctx.Done()
				return nil
			}
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			errc := make(chan error, 2)
			ready := make(chan struct{})
			go func(ctx context.Context) { errc <- (&petstore.Orders{}).Serve(ctx, broker, ready) }(ctx)
			select {
			case <-ready:
			case err := <-errc:
				return serveError{err}
			}
			var ln net.Listener
			if store != "" {
				if ln, err = net.Listen("tcp", store); err != nil {
					return usageError{err}
				}
				urls["petstore"] = "http://" + ln.Addr().String()
				go func(ctx context.Context) { errc <- serve(ctx, ln, petstore.NewStore()) }(ctx)
			}
			ctx = announce(ctx, stdin, out, asJSON, urls, func() {
				fmt.Fprintf(out, "Kafka broker listening on kafka://%s\n", broker)
				fmt.Fprintf(out, "  order service: consumes %s, answers on %s\n", petstore.OrderTopic, petstore.ConfirmTopic)
				if ln != nil {
					fmt.Fprintf(out, "pet store listening on http://%s (user %s, password %s)\n", ln.Addr(), petstore.TestUser, petstore.TestPassword)
				}
			})
			return wait(ctx, errc)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9092", "address the broker listens on")
	cmd.Flags().StringVar(&store, "petstore", "", "also serve the example's HTTP pet store on this address")
	cmd.Flags().StringVar(&user, "user", "", "require SASL/PLAIN with this user (the order service is then off)")
	cmd.Flags().StringVar(&password, "password", "", "the SASL/PLAIN user's password")
	cmd.Flags().BoolVar(&asJSON, "json", false, jsonFlagUsage)
	return cmd
}

// wait serves until ctx ends (a clean stop) or a server fails.
func wait(ctx context.Context, errc <-chan error) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if err == nil || ctx.Err() != nil {
			return nil
		}
		return serveError{err}
	}
}

// serve answers on ln until ctx ends.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
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

// newBrokerCmd serves an embedded NATS server or MQTT broker, or the
// WebSocket order service, with the pet purchase example's order service.
func newBrokerCmd(stdin io.Reader, name, title, lib, defaultAddr string, start brokerEmulator) *cobra.Command {
	var addr, user, password string
	var asJSON bool
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
				return usageError{err}
			}
			defer stop()
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			urls := map[string]string{"broker": url}
			if name == "websocket" {
				urls = map[string]string{"server": url} // no broker: the server is the API
			}
			if user != "" && name != "websocket" {
				ctx = announce(ctx, stdin, out, asJSON, urls, func() { fmt.Fprintf(out, "%s listening on %s (user %s)\n", title, url, user) })
				<-ctx.Done()
				return nil
			}
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			errc, ready := make(chan error, 1), make(chan struct{})
			go func(ctx context.Context) { errc <- orders(ctx, ready) }(ctx)
			select {
			case <-ready:
			case err := <-errc:
				return serveError{err}
			}
			ctx = announce(ctx, stdin, out, asJSON, urls, func() {
				fmt.Fprintf(out, "%s listening on %s\n", title, url)
				if name == "websocket" {
					fmt.Fprintf(out, "  order service: at %s, answers each order on the connection it came in on\n", petstore.WSOrdersPath)
				} else {
					fmt.Fprintf(out, "  order service: answers %s on %s\n", petstore.OrderTopic, petstore.ConfirmTopic)
				}
			})
			return wait(ctx, errc)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultAddr, "address to listen on")
	cmd.Flags().StringVar(&user, "user", "", "require this user (the order service is then off)")
	cmd.Flags().StringVar(&password, "password", "", "the user's password")
	cmd.Flags().BoolVar(&asJSON, "json", false, jsonFlagUsage)
	return cmd
}
