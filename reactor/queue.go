package reactor

import (
	"sync"
	"sync/atomic"
	"time"
)

// soonQueue holds the functions given to CallSoon until the reactor takes
// them. Producers append under a mutex held for a few nanoseconds; the
// reactor takes everything at once by swapping buffers, so it locks once per
// batch rather than once per function, and the two slices are reused
// without allocating. The length is also kept in an atomic, so that the
// reactor can look for work without taking the mutex, as it does while it
// spins.
type soonQueue struct {
	mu      sync.Mutex
	items   []func()
	n       atomic.Int64  // len(items), stored under mu
	firstAt time.Duration // when items went from empty to non-empty
	closed  bool
	now     func() time.Duration // the reactor's clock
}

// push appends f. It reports whether the queue was empty before (so the
// caller may need to wake the reactor) and whether f was accepted (false
// once the queue is closed). The clock is read only when the queue was
// empty, to date the oldest waiting function for the lag statistics.
func (q *soonQueue) push(f func()) (first, ok bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, false
	}
	if len(q.items) == 0 {
		first = true
		q.firstAt = q.now()
	}
	q.items = append(q.items, f)
	q.n.Store(int64(len(q.items)))
	q.mu.Unlock()
	return first, true
}

// take hands every queued function to the caller, in order, and keeps spare
// (emptied by the caller) as the next buffer. It also returns when the
// oldest of them was queued.
func (q *soonQueue) take(spare []func()) ([]func(), time.Duration) {
	q.mu.Lock()
	items, at := q.items, q.firstAt
	q.items = spare[:0]
	q.n.Store(0)
	q.mu.Unlock()
	return items, at
}

// len reports how many functions wait. It takes no lock: a push stores the
// new length before it returns, so a producer that then finds the reactor
// awake knows that the reactor will see its function.
func (q *soonQueue) len() int {
	return int(q.n.Load())
}

// close refuses further functions and returns those still waiting.
func (q *soonQueue) close() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	items := q.items
	q.items = nil
	q.n.Store(0)
	return items
}
