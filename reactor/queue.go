package reactor

import (
	"sync"
	"time"
)

// soonQueue holds the functions given to CallSoon until the reactor takes
// them. Producers append under a mutex held for a few nanoseconds; the
// reactor takes everything at once by swapping buffers, so it locks once per
// batch rather than once per function, and the two slices are reused
// without allocating.
type soonQueue struct {
	mu      sync.Mutex
	items   []func()
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
	q.mu.Unlock()
	return items, at
}

// len reports how many functions wait.
func (q *soonQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// isClosed reports whether close has been called.
func (q *soonQueue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// drain hands every queued function to the caller, in order, keeping
// spare (emptied by the caller) as the next buffer, and reports true. If
// none is queued, or if last is true, it closes the queue in the same step,
// so that nothing can slip in between, and reports false; the functions it
// returns then are the last ones the queue takes.
func (q *soonQueue) drain(spare []func(), last bool) ([]func(), bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	if len(items) == 0 || last {
		q.closed = true
		q.items = nil
		return items, false
	}
	q.items = spare[:0]
	return items, true
}
