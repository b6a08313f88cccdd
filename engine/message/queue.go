package message

import (
	"context"
	"errors"
	"sync"
)

// Queue buffers the messages a client library delivers by callback or
// from a reader goroutine until a Subscription's Next takes them: for
// transports whose library pushes rather than lets us pull.
type Queue struct {
	mu      sync.Mutex
	pending []*Message
	ready   chan struct{}
	err     error // set by Fail or Close: Next returns it once drained
}

// NewQueue returns an empty queue.
func NewQueue() *Queue { return &Queue{ready: make(chan struct{}, 1)} }

// Push adds m.
func (q *Queue) Push(m *Message) {
	q.mu.Lock()
	q.pending = append(q.pending, m)
	q.mu.Unlock()
	q.signal()
}

// Fail ends the queue: Next returns err once the pending messages are
// taken (a connection that broke).
func (q *Queue) Fail(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	q.signal()
}

func (q *Queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// ErrClosed is what Next returns after Close.
var ErrClosed = errors.New("subscription closed")

// Close ends the queue.
func (q *Queue) Close() { q.Fail(ErrClosed) }

// Next returns the next message, blocking until one arrives, the queue
// ends or ctx does.
func (q *Queue) Next(ctx context.Context) (*Message, error) {
	for {
		q.mu.Lock()
		if len(q.pending) > 0 {
			m := q.pending[0]
			q.pending = q.pending[1:]
			q.mu.Unlock()
			return m, nil
		}
		err := q.err
		q.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.ready:
		}
	}
}
