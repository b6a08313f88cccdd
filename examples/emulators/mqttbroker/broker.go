// Package mqttbroker starts an MQTT broker in-process on a loopback
// address (github.com/mochi-mqtt/server, MQTT 3.1.1 and 5): the broker of
// `arazzo emulate mqtt` and of the MQTT transport's tests.
package mqttbroker

import (
	"io"
	"log/slog"
	"net"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Config says where to listen and whom to let in.
type Config struct {
	// Addr is host:port; port 0 picks a free one.
	Addr string
	// User and Password, when set, are required of every client.
	User, Password string
}

// Broker is a running broker.
type Broker struct {
	srv *mqtt.Server
	ln  net.Listener
}

// Addr is where the broker listens.
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// Close stops the broker.
func (b *Broker) Close() { b.srv.Close() }

// Start starts a broker.
func Start(cfg Config) (*Broker, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := mqtt.New(&mqtt.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var hookErr error
	if cfg.User != "" {
		hookErr = srv.AddHook(new(auth.Hook), &auth.Options{Ledger: &auth.Ledger{
			Auth: auth.AuthRules{{Username: auth.RString(cfg.User), Password: auth.RString(cfg.Password), Allow: true}},
		}})
	} else {
		hookErr = srv.AddHook(new(auth.AllowHook), nil)
	}
	if hookErr == nil {
		hookErr = srv.AddListener(listeners.NewNet("tcp", ln))
	}
	if hookErr != nil {
		ln.Close()
		return nil, hookErr
	}
	go srv.Serve()
	return &Broker{srv: srv, ln: ln}, nil
}
