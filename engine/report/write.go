package report

import (
	"bufio"
	"fmt"
	"io"
	"sync"
	"time"
)

// stickyWriter keeps the first write error and drops every later write, so
// a renderer writes line after line and checks once at the end.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}

func (s *stickyWriter) printf(format string, args ...any) {
	fmt.Fprintf(s, format, args...)
}

// batcher buffers a log's lines and writes them FlushDelay after the first
// one waiting, at the end of each workflow (end), and on Flush: a poll
// loop logs several lines per request, and one write per line cost more
// CPU than the rest of the engine's work on the request (a write to a pipe
// is a system call and often a context switch to the reader). The log
// holds mu while it formats into buf and calls logged.
type batcher struct {
	mu    sync.Mutex
	w     stickyWriter
	buf   *bufio.Writer
	timer *time.Timer // armed while buf holds lines
}

// FlushDelay is how long a logged line may wait in a TextLog's or a
// JSONLines' buffer: a reader sees the log live, in batches.
const FlushDelay = 20 * time.Millisecond

func (b *batcher) init(w io.Writer) {
	b.w.w = w
	b.buf = bufio.NewWriterSize(&b.w, 8<<10)
}

// logged is called, with mu held, after each event.
func (b *batcher) logged(end bool) {
	switch {
	case end:
		b.flush()
	case b.buf.Buffered() > 0 && b.timer == nil:
		b.timer = time.AfterFunc(FlushDelay, func() { b.Flush() })
	}
}

// Flush writes what the log holds and returns the first error met
// writing it.
func (b *batcher) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flush()
	return b.w.err
}

// Err is Flush: the first error met writing the log, after writing what
// it holds.
func (b *batcher) Err() error { return b.Flush() }

func (b *batcher) flush() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if b.buf.Buffered() > 0 {
		b.buf.Flush()
	}
}

// Tool names the program that wrote a report: HAR's creator, SARIF's
// driver.
type Tool struct {
	Name    string
	Version string
	// InformationURI is a page about the tool (SARIF only).
	InformationURI string
}

// millis is a duration as milliseconds to the microsecond, the unit HAR
// uses and the event log follows.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
