package rabbitbroker_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/arazzo-go/arazzo/examples/emulators/rabbitbroker"
)

// A broker starts with its users and virtual hosts, refuses a wrong
// password, and Close leaves no process and no listener behind.
func TestStartLoginStop(t *testing.T) {
	b, err := rabbitbroker.Start(context.Background(), rabbitbroker.Config{
		Users: []rabbitbroker.User{{Name: "guest", Password: "guest"}, {Name: "svc", Password: "s3cret"}}, VHosts: []string{"other"}})
	if errors.Is(err, rabbitbroker.ErrNotInstalled) {
		(&rabbitbroker.Shared{}).Get(t) // skips, or fails under ARAZZO_REQUIRE_BROKERS=1
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("RabbitMQ started in %v", b.Started)
	pids := b.ProcessGroups()
	for _, url := range []string{"amqp://guest:guest@" + b.Addr() + "/", "amqp://svc:s3cret@" + b.Addr() + "/other"} {
		c, err := amqp091.Dial(url)
		if err != nil {
			b.Close()
			t.Fatalf("%s: %v", url, err)
		}
		c.Close()
	}
	if _, err := amqp091.Dial("amqp://svc:wrong@" + b.Addr() + "/"); err == nil {
		b.Close()
		t.Fatal("a wrong password was let in")
	}
	stop := time.Now()
	b.Close()
	t.Logf("stopped in %v", time.Since(stop))
	for _, pg := range pids {
		if err := syscall.Kill(-pg, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d is still there after Close (%v)", pg, err)
		}
	}
	if c, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("%s still listens after Close", b.Addr())
	}
}
