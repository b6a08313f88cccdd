// Package rabbitbroker starts a real RabbitMQ (the rabbitmq-server that
// Debian's package installs) as a subprocess on loopback, isolated from
// any system instance: its own node name, ports, Erlang port mapper
// (epmd) on its own port, and a temporary directory for its database,
// logs and configuration. It is the broker of the AMQP transport's tests
// and of `arazzo emulate amqp`. There is no well-kept AMQP 0-9-1 broker
// written in Go to embed, so RabbitMQ must be installed.
package rabbitbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// ErrNotInstalled is returned by Start when rabbitmq-server is not found.
var ErrNotInstalled = errors.New("RabbitMQ is not installed: the AMQP broker is a real rabbitmq-server (Debian: apt-get install rabbitmq-server)")

// debianServer is the server script itself; /usr/sbin/rabbitmq-server on
// Debian is a wrapper that switches to the rabbitmq user and its
// environment, which would not be ours.
const debianServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// ServerPath returns the rabbitmq-server script to run.
func ServerPath() (string, error) {
	if _, err := os.Stat(debianServer); err == nil {
		return debianServer, nil
	}
	if p, err := exec.LookPath("rabbitmq-server"); err == nil {
		return p, nil
	}
	return "", ErrNotInstalled
}

// User is a user the broker lets in, with full rights on every virtual
// host.
type User struct{ Name, Password string }

// TLS makes the broker listen for amqps too, requiring a client
// certificate signed by CAFile and logging in with EXTERNAL as the
// certificate's common name (which must be one of the Users).
type TLS struct {
	Addr                      string // host:port; port 0 picks a free one
	CAFile, CertFile, KeyFile string
}

// Config says where to listen and whom to let in.
type Config struct {
	// Addr is host:port for AMQP; port 0 (or "") picks a free loopback
	// port.
	Addr string
	// Users are the users; guest/guest when empty.
	Users []User
	// VHosts are virtual hosts to create besides "/".
	VHosts []string
	TLS    *TLS
	// StartTimeout bounds the start; 60 seconds when zero.
	StartTimeout time.Duration
}

// Broker is a running RabbitMQ.
type Broker struct {
	addr, tlsAddr string
	// Started is how long the broker took to accept its first login.
	Started time.Duration
	dir     string
	cmd     *exec.Cmd
	epmd    *exec.Cmd
	done    chan struct{} // closed when the server process has exited
	closed  atomic.Bool
}

// Addr is the AMQP listener's host:port.
func (b *Broker) Addr() string { return b.addr }

// TLSAddr is the amqps listener's host:port ("" without TLS).
func (b *Broker) TLSAddr() string { return b.tlsAddr }

// LogFile is the broker's log, for a failing test to show.
func (b *Broker) LogFile() string { return filepath.Join(b.dir, "log", "rabbit.log") }

var nodes atomic.Int64

// Start starts RabbitMQ and waits until a user can log in.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	server, err := ServerPath()
	if err != nil {
		return nil, err
	}
	epmdPath, err := exec.LookPath("epmd")
	if err != nil {
		return nil, fmt.Errorf("RabbitMQ's Erlang port mapper (epmd) is not on PATH: %v", err)
	}
	if len(cfg.Users) == 0 {
		cfg.Users = []User{{"guest", "guest"}}
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	addr, err := freeAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	epmdPort, distPort := ports[0], ports[1]
	dir, err := os.MkdirTemp("", "arazzo-rabbitmq-")
	if err != nil {
		return nil, err
	}
	b := &Broker{addr: addr, dir: dir, done: make(chan struct{})}
	fail := func(err error) (*Broker, error) {
		b.Close()
		return nil, err
	}
	if cfg.TLS != nil {
		if b.tlsAddr, err = freeAddr(cfg.TLS.Addr); err != nil {
			return fail(err)
		}
	}
	if err := b.writeConfig(cfg); err != nil {
		return fail(err)
	}
	begin := time.Now()
	// Our own epmd, in the foreground so that it is ours to stop (the one
	// Erlang starts by itself daemonises and outlives the broker).
	b.epmd = exec.Command(epmdPath, "-port", strconv.Itoa(epmdPort), "-address", "127.0.0.1")
	b.epmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := b.epmd.Start(); err != nil {
		return fail(fmt.Errorf("starting epmd: %v", err))
	}
	if err := waitListening(ctx, "127.0.0.1:"+strconv.Itoa(epmdPort), 10*time.Second, nil, nil); err != nil {
		return fail(fmt.Errorf("epmd did not start on port %d: %v", epmdPort, err))
	}
	host, port, _ := net.SplitHostPort(addr)
	node := fmt.Sprintf("arazzo%d_%d@localhost", os.Getpid(), nodes.Add(1))
	env := []string{
		"HOME=" + dir, // Erlang's cookie goes here, not in the user's home
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_NODENAME=" + node,
		"RABBITMQ_NODE_IP_ADDRESS=" + host,
		"RABBITMQ_NODE_PORT=" + port,
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(distPort),
		"ERL_EPMD_PORT=" + strconv.Itoa(epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
		"RABBITMQ_LOGS=" + b.LogFile(),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_PLUGINS_EXPAND_DIR=" + filepath.Join(dir, "plugins-expand"),
		"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbit.pid"),
		// The script then execs the Erlang VM instead of running it as a
		// child: the process we start is beam itself, which Pdeathsig
		// kills if this process dies without calling Close.
		"RUNNING_UNDER_SYSTEMD=true",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RABBITMQ_") && !strings.HasPrefix(kv, "ERL_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	out, err := os.Create(filepath.Join(dir, "server.out"))
	if err != nil {
		return fail(err)
	}
	defer out.Close()
	b.cmd = exec.Command(server)
	b.cmd.Dir, b.cmd.Env, b.cmd.Stdout, b.cmd.Stderr = dir, env, out, out
	// A process group of its own: beam and its helpers are stopped
	// together.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		close(b.done)
		return fail(fmt.Errorf("starting %s: %v", server, err))
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	u := cfg.Users[0]
	login := func() error {
		c, err := amqp091.DialConfig(fmt.Sprintf("amqp://%s:%s@%s/", u.Name, u.Password, addr), amqp091.Config{Dial: amqp091.DefaultDial(2 * time.Second)})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := waitListening(ctx, addr, timeout, login, b.done); err != nil {
		return fail(fmt.Errorf("RabbitMQ did not start on %s within %v: %v%s", addr, timeout, err, b.tail()))
	}
	b.Started = time.Since(begin)
	return b, nil
}

func (b *Broker) writeConfig(cfg Config) error {
	conf := []string{
		"listeners.tcp.1 = " + b.addr,
		// Definitions below create the users and virtual hosts.
		"load_definitions = " + filepath.Join(b.dir, "definitions.json"),
		"loopback_users = none",
		"disk_free_limit.absolute = 10MB",
		"log.file.level = info",
		"log.console = false",
	}
	plugins := "[]."
	if t := cfg.TLS; t != nil {
		conf = append(conf,
			"listeners.ssl.1 = "+b.tlsAddr,
			"ssl_options.cacertfile = "+t.CAFile,
			"ssl_options.certfile = "+t.CertFile,
			"ssl_options.keyfile = "+t.KeyFile,
			"ssl_options.verify = verify_peer",
			"ssl_options.fail_if_no_peer_cert = true",
			"ssl_cert_login_from = common_name",
			"auth_mechanisms.1 = PLAIN",
			"auth_mechanisms.2 = AMQPLAIN",
			"auth_mechanisms.3 = EXTERNAL")
		plugins = "[rabbitmq_auth_mechanism_ssl]."
	}
	type user struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		Tags     string `json:"tags"`
	}
	type perm struct {
		User      string `json:"user"`
		VHost     string `json:"vhost"`
		Configure string `json:"configure"`
		Write     string `json:"write"`
		Read      string `json:"read"`
	}
	type vhost struct {
		Name string `json:"name"`
	}
	var defs struct {
		Users       []user  `json:"users"`
		VHosts      []vhost `json:"vhosts"`
		Permissions []perm  `json:"permissions"`
	}
	vhosts := append([]string{"/"}, cfg.VHosts...)
	for _, v := range vhosts {
		defs.VHosts = append(defs.VHosts, vhost{v})
	}
	for _, u := range cfg.Users {
		defs.Users = append(defs.Users, user{u.Name, u.Password, "administrator"})
		for _, v := range vhosts {
			defs.Permissions = append(defs.Permissions, perm{u.Name, v, ".*", ".*", ".*"})
		}
	}
	js, err := json.Marshal(defs)
	if err != nil {
		return err
	}
	files := map[string]string{
		"rabbitmq.conf":     strings.Join(conf, "\n") + "\n",
		"enabled_plugins":   plugins + "\n",
		"rabbitmq-env.conf": "",
		"definitions.json":  string(js),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// tail is the end of the broker's output and log, for errors.
func (b *Broker) tail() string {
	var s strings.Builder
	for _, f := range []string{filepath.Join(b.dir, "server.out"), b.LogFile()} {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&s, "\n--- %s:\n%s", filepath.Base(f), data)
	}
	return s.String()
}

// waitListening waits until addr accepts connections and ready (when
// set) succeeds; it gives up when exited is closed (the server process
// ended).
func waitListening(ctx context.Context, addr string, timeout time.Duration, ready func() error, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	last := errors.New("timed out")
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-exited:
			return errors.New("the server exited")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			if ready == nil {
				return nil
			}
			if err = ready(); err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return last
}

// Close stops the broker and its epmd, and removes its directory.
func (b *Broker) Close() {
	if b.closed.Swap(true) {
		return
	}
	if b.cmd != nil && b.cmd.Process != nil {
		// Killed outright: its data is thrown away, so a graceful stop
		// (seconds) buys nothing. Beam's helpers in other groups
		// (erl_child_setup, inet_gethost) exit when it does.
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
		// Wait until the whole group is gone, so that nothing is left
		// running when Close returns.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if err := syscall.Kill(-b.cmd.Process.Pid, 0); errors.Is(err, syscall.ESRCH) {
				break
			}
		}
	}
	if b.epmd != nil && b.epmd.Process != nil {
		_ = syscall.Kill(-b.epmd.Process.Pid, syscall.SIGKILL)
		_ = b.epmd.Wait()
	}
	_ = os.RemoveAll(b.dir)
}

// freeAddr returns addr, or a free loopback address when addr is "" or
// has port 0.
func freeAddr(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ProcessGroups are the process groups of the server and its epmd, for
// tests that check nothing is left running.
func (b *Broker) ProcessGroups() []int {
	var out []int
	for _, c := range []*exec.Cmd{b.cmd, b.epmd} {
		if c != nil && c.Process != nil {
			out = append(out, c.Process.Pid)
		}
	}
	return out
}
