// Package natsbroker starts a NATS server in-process on a loopback
// address (github.com/nats-io/nats-server, the real server as a library):
// the broker of `arazzo emulate nats` and of the NATS transport's tests.
package natsbroker

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config says where to listen and whom to let in.
type Config struct {
	// Addr is host:port; port 0 picks a free one.
	Addr string
	// User and Password, when set, are required of every client.
	User, Password string
	// TLS, when set, makes the server speak TLS only (and verify client
	// certificates when it sets ClientCAs).
	TLS *tls.Config
}

// Start starts the server and waits until it accepts connections. Call
// Shutdown when done; ClientURL gives its address.
func Start(cfg Config) (*server.Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{Host: host, Port: port, Username: cfg.User, Password: cfg.Password,
		NoSigs: true, NoLog: true, MaxControlLine: 4096, TLSConfig: cfg.TLS, TLS: cfg.TLS != nil,
		TLSVerify: cfg.TLS != nil && cfg.TLS.ClientCAs != nil, TLSTimeout: 5})
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("the NATS server did not start on %s", addr)
	}
	return s, nil
}
