package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/examples/emulators/authserver"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

func newEmulateCmd(h host) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "emulate",
		Short:   "Serve a local emulator (an AWS API, the auth example's API, or a Kafka, NATS, MQTT, WebSocket or AMQP order service)",
		Long:    "emulate serves a local emulator.\n\n" + companionHelp,
		Example: "  arazzo emulate healthlake --addr 127.0.0.1:8089\n  arazzo emulate auth --addr 127.0.0.1:8090\n  arazzo emulate kafka --addr 127.0.0.1:9092 --petstore 127.0.0.1:8091",
	}
	var addr, region, finalStatus string
	var polls, throttle int
	var statuses []string
	hl := &cobra.Command{
		Use:   "healthlake",
		Short: "Serve the Amazon HealthLake emulator",
		Long: `healthlake serves an emulator of the Amazon HealthLake API (AWS JSON 1.0 on POST /,
selected by X-Amz-Target) that verifies SigV4 signatures made with its test
credentials, and prints the data store id and the credentials to use.`,
		Example: `  arazzo emulate healthlake --addr 127.0.0.1:8089
  AWS_ACCESS_KEY_ID=` + healthlake.TestAccessKeyID + ` AWS_SECRET_ACCESS_KEY=... \
    arazzo run workflows/amazon-healthlake-export.arazzo.yaml --server healthlakeApi=http://127.0.0.1:8089 ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := healthlake.Config{Region: region, PollsToComplete: polls, FinalStatus: finalStatus, ThrottleLimit: throttle, Statuses: statuses}
			if err := cfg.Validate(); err != nil {
				return withCode(exitUsage, err)
			}
			emu := healthlake.NewVerifying(cfg)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return withCode(exitUsage, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "HealthLake emulator listening on http://%s\n", ln.Addr())
			fmt.Fprintf(out, "  region:                %s\n", emu.Region())
			fmt.Fprintf(out, "  data store id:         %s\n", emu.DatastoreID())
			fmt.Fprintf(out, "  AWS_ACCESS_KEY_ID:     %s\n", healthlake.TestAccessKeyID)
			fmt.Fprintf(out, "  AWS_SECRET_ACCESS_KEY: %s\n", healthlake.TestSecretAccessKey)
			return serve(cmd, ln, emu)
		},
	}
	hl.Flags().StringVar(&addr, "addr", "127.0.0.1:8089", "address to listen on")
	hl.Flags().StringVar(&region, "region", "us-east-1", "region the emulator signs for")
	hl.Flags().IntVar(&polls, "polls", 3, "DescribeFHIRExportJob calls a job takes to finish")
	hl.Flags().StringVar(&finalStatus, "final-status", "COMPLETED", "how export jobs end: any JobStatus of the model (COMPLETED, FAILED, CANCEL_COMPLETED, ...)")
	hl.Flags().StringSliceVar(&statuses, "statuses", nil, "the statuses export jobs go through, one per describe call (e.g. QUEUED,IN_PROGRESS,CANCEL_SUBMITTED,CANCEL_COMPLETED); overrides --polls and --final-status")
	hl.Flags().IntVar(&throttle, "throttle", 0, "answer ThrottlingException beyond this many requests a second (0: never)")
	cmd.AddCommand(hl, newEmulateAuthCmd(),
		newCompanionCmd(h, "kafka", "Serve an in-process Kafka broker with the pet purchase example's order service and pet store"),
		newCompanionCmd(h, "nats", "Serve an in-process NATS server with the pet purchase example's order service"),
		newCompanionCmd(h, "mqtt", "Serve an in-process MQTT broker with the pet purchase example's order service"),
		newCompanionCmd(h, "websocket", "Serve the pet purchase example's order service over WebSocket"),
		newEmulateAMQPCmd())
	return cmd
}

// serve answers on ln until the command's context ends.
func serve(cmd *cobra.Command, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-cmd.Context().Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func newEmulateAuthCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Serve the auth example's API, enforcing OAuth 2.0 and API keys (and every other scheme)",
		Long: `auth serves the API of examples/auth: /oauth/items/{id} needs an OAuth 2.0
token from its /oauth/token endpoint (client credentials or password grant,
scope items:read), /apikey/items/{id} an X-API-Key header; basic, bearer and
digest resources and OpenID Connect discovery are there too. It prints the
test credentials it accepts.`,
		Example: `  arazzo emulate auth --addr 127.0.0.1:8090
  arazzo run examples/auth/shop.arazzo.yaml --auth-file examples/auth/credentials.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return withCode(exitUsage, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "auth example API listening on http://%s\n", ln.Addr())
			fmt.Fprintf(out, "  oauth2 client id:     %s\n", authserver.ClientID)
			fmt.Fprintf(out, "  oauth2 client secret: %s\n", authserver.ClientSecret)
			fmt.Fprintf(out, "  user / password:      %s / %s\n", authserver.User, authserver.Password)
			fmt.Fprintf(out, "  API key:              %s\n", authserver.APIKey)
			fmt.Fprintf(out, "  bearer token:         %s\n", authserver.BearerToken)
			return serve(cmd, ln, authserver.New(authserver.Config{}))
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "address to listen on")
	return cmd
}
