// Package kafkabroker starts an in-process Kafka cluster (franz-go's
// kfake) on a loopback address: the broker of `arazzo emulate kafka` and
// of the Kafka transport's tests. kfake speaks the real Kafka protocol,
// so clients talk to it exactly as to a Kafka server; it keeps
// everything in memory.
package kafkabroker

import (
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config says where to listen and whom to let in.
type Config struct {
	// Addr is host:port; port 0 picks a free one.
	Addr string
	// User and Password, when set, turn on SASL/PLAIN: clients must
	// authenticate as this user.
	User, Password string
}

// Start starts a one-broker cluster. Close it when done.
func Start(cfg Config) (*kfake.Cluster, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, err
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, addr) })}
	if port != 0 {
		opts = append(opts, kfake.Ports(port))
	}
	if cfg.User != "" {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser("PLAIN", cfg.User, cfg.Password))
	}
	return kfake.NewCluster(opts...)
}
