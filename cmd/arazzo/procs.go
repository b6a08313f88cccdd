package main

import (
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/arazzo-go/arazzo/engine"
)

// Runs start on one processor (P) and get them all back at the first
// large exchange, unless GOMAXPROCS says what the user wants.
//
// A run is a chain of requests, each waiting on the network. With two Ps
// every exchange hands the request and the response between goroutines
// on different threads (futex wake-ups, the scheduler looking for work),
// and the collector's idle workers take the other core from an API on the
// same machine: on one P the poll benchmark's 20 000 polls took 0.97 of
// the raw loop's time instead of 1.14 (CPU 0.82 instead of 1.21), and
// 1000 exchanges of 50 KB bodies 0.94 of two Ps' time. Large bodies turn
// that around: decoding and checking them is work the collector does best
// beside the run, on another core (100 bodies of 1.35 MB took 1.17 times
// as long on one P). So the first body over largeBody, either way, gives
// the process back every P for good.
//
// Loading stays parallel (the Arazzo schema compiles on another
// goroutine), and servers (mcp, worker), which run many workflows at
// once, never go down to one P: only run and resume call start.
type procPolicy struct {
	getenv  func(string) string
	setProc func(int) int // runtime.GOMAXPROCS; a test's stand-in
	full    atomic.Int64  // the Ps to give back; 0 while not on one P
	restore sync.Once
}

// largeBody is the request or response body size from which a run gets
// every P back.
const largeBody = 256 << 10

// procs is the CLI's policy; nil (tests running the CLI in-process, which
// must not change the test binary's processors) does nothing.
var procs *procPolicy

func newProcPolicy(getenv func(string) string) *procPolicy {
	return &procPolicy{getenv: getenv, setProc: runtime.GOMAXPROCS}
}

// active says whether runs go to one P: the policy is set and GOMAXPROCS
// is not.
func (p *procPolicy) active() bool { return p != nil && p.getenv("GOMAXPROCS") == "" }

// start puts the process on one P, as the runs start.
func (p *procPolicy) start() {
	if p.active() {
		if prev := p.setProc(1); prev > 1 {
			p.full.Store(int64(prev))
		}
	}
}

// grow gives every P back, once.
func (p *procPolicy) grow() {
	if n := p.full.Load(); n > 1 {
		p.restore.Do(func() { p.setProc(int(n)) })
	}
}

// Wrap implements engine.Middleware: it watches body sizes.
func (p *procPolicy) Wrap(_ *engine.SourceRef, next engine.Caller) engine.Caller {
	if p.full.Load() <= 1 {
		return next // not on one P (a server, or GOMAXPROCS set): nothing to watch
	}
	return procWatch{p, next}
}

type procWatch struct {
	p    *procPolicy
	next engine.Caller
}

func (w procWatch) Do(req *http.Request) (*http.Response, error) {
	if req.ContentLength > largeBody {
		w.p.grow()
	}
	resp, err := w.next.Do(req)
	switch {
	case resp == nil:
	case resp.ContentLength > largeBody:
		w.p.grow()
	case resp.ContentLength < 0 && w.p.full.Load() > 1:
		// Chunked: counted as it is read.
		resp.Body = &countingBody{ReadCloser: resp.Body, p: w.p}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	p *procPolicy
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.n += int64(n); b.n > largeBody {
		b.p.grow()
	}
	return n, err
}
