package rabbitbroker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// RequireEnv names the environment variable that, set to 1, turns a
// missing RabbitMQ from a skipped test into a failed one (CI sets it).
const RequireEnv = "ARAZZO_REQUIRE_BROKERS"

// TB is what Shared needs of a testing.TB (this package is linked into
// the CLI, which must not link package testing).
type TB interface {
	Helper()
	Skip(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Shared is one broker for a whole test binary, started on first use so
// that a run of other tests does not pay for it; TestMain calls Close.
type Shared struct {
	Config Config
	once   sync.Once
	b      *Broker
	err    error
}

// Get returns the broker, starting it the first time. Without RabbitMQ
// the test is skipped, or fails when RequireEnv is 1.
func (s *Shared) Get(t TB) *Broker {
	t.Helper()
	first := false
	s.once.Do(func() {
		first = true
		s.b, s.err = Start(context.Background(), s.Config)
	})
	switch {
	case errors.Is(s.err, ErrNotInstalled) && os.Getenv(RequireEnv) == "1":
		t.Fatalf("%v; %s=1 requires it", s.err, RequireEnv)
	case errors.Is(s.err, ErrNotInstalled):
		t.Skip(fmt.Sprintf("skipped: %v (set %s=1 to fail instead)", s.err, RequireEnv))
	case s.err != nil:
		t.Fatalf("starting RabbitMQ: %v", s.err)
	case first:
		t.Logf("RabbitMQ started in %v on %s", s.b.Started.Round(time.Millisecond), s.b.Addr())
	}
	return s.b
}

// Close stops the broker if it was started.
func (s *Shared) Close() {
	s.once.Do(func() {}) // a Get after Close starts nothing
	if s.b != nil {
		s.b.Close()
	}
}
