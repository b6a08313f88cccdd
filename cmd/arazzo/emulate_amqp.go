package main

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
	"github.com/arazzo-go/arazzo/examples/emulators/rabbitbroker"
)

// newEmulateAMQPCmd serves the pet purchase example's order service over
// AMQP 0-9-1, on a RabbitMQ it starts (there is no AMQP broker in Go to
// embed) or on one that runs already.
func newEmulateAMQPCmd() *cobra.Command {
	var addr, broker, user, password string
	cmd := &cobra.Command{
		Use:   "amqp",
		Short: "Start a RabbitMQ (rabbitmq-server must be installed) with the pet purchase example's order service",
		Long: `amqp starts RabbitMQ's rabbitmq-server as a subprocess on --addr, isolated
from any system instance (its own node, ports, Erlang port mapper and
temporary directory, all removed when it stops), and runs the order
service of examples/pet-purchase on it: it answers each message routed
with key place-order on exchange amq.topic with one routed with key
confirm-order. There is no well-kept AMQP 0-9-1 broker written in Go to
embed, so RabbitMQ must be installed (Debian: apt-get install
rabbitmq-server). --broker runs only the order service, on a RabbitMQ that
runs already. --user and --password set the started broker's user
(guest/guest otherwise).`,
		Example: `  arazzo emulate amqp --addr 127.0.0.1:5672
  arazzo run examples/amqp/orders.arazzo.yaml --server orders=amqp://127.0.0.1:5672
  arazzo emulate amqp --broker amqp://guest:guest@localhost:5672/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			serviceURL := broker
			if broker == "" {
				u := rabbitbroker.User{Name: "guest", Password: "guest"}
				if user != "" || password != "" {
					u = rabbitbroker.User{Name: user, Password: password}
				}
				b, err := rabbitbroker.Start(ctx, rabbitbroker.Config{Addr: addr, Users: []rabbitbroker.User{u}})
				if errors.Is(err, rabbitbroker.ErrNotInstalled) {
					return withCode(exitUsage, fmt.Errorf("%v; arazzo has no embedded AMQP broker (none written in Go is well kept). Or run the order service on a RabbitMQ of yours with --broker amqp://USER:PASSWORD@HOST:PORT/", err))
				}
				if err != nil {
					return err
				}
				defer b.Close()
				fmt.Fprintf(out, "RabbitMQ listening on amqp://%s (user %s, started in %.1fs)\n", b.Addr(), u.Name, b.Started.Seconds())
				serviceURL = (&url.URL{Scheme: "amqp", User: url.UserPassword(u.Name, u.Password), Host: b.Addr(), Path: "/"}).String()
			}
			errc, ready := make(chan error, 1), make(chan struct{})
			go func() { errc <- (&petstore.Orders{}).ServeAMQP(ctx, serviceURL, ready) }()
			select {
			case <-ready:
			case err := <-errc:
				return fmt.Errorf("the order service could not start on the broker: %v", err)
			}
			fmt.Fprintf(out, "  order service: answers %s on %s (exchange %s)\n", petstore.OrderTopic, petstore.ConfirmTopic, petstore.AMQPExchange)
			select {
			case <-ctx.Done():
				return nil
			case err := <-errc:
				return err
			}
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:5672", "address the started RabbitMQ listens on")
	cmd.Flags().StringVar(&broker, "broker", "", "run the order service on this running RabbitMQ (amqp://USER:PASSWORD@HOST:PORT/) instead of starting one")
	cmd.Flags().StringVar(&user, "user", "", "the started broker's user (guest when not set)")
	cmd.Flags().StringVar(&password, "password", "", "the user's password")
	return cmd
}
