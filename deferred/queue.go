package deferred

import (
	"errors"
	"sync"
)

// ErrQueueOverflow is returned by [Queue.Put] when the queue already holds
// as many values as its size allows: Twisted's QueueOverflow.
var ErrQueueOverflow = errors.New("deferred: queue overflow")

// ErrQueueUnderflow is the error a [Queue.Get] Deferred fails with at once
// when as many Gets already wait as the queue's backlog allows: Twisted's
// QueueUnderflow.
var ErrQueueUnderflow = errors.New("deferred: queue underflow")

// Queue is a first-in, first-out queue for event-driven code: Twisted's
// DeferredQueue. [Queue.Put] adds a value without waiting; [Queue.Get]
// returns a Deferred that fires with the next value, at once if one is
// there, otherwise when one is put.
//
// Values come out in the order they were put, and waiting Gets are served in
// the order they were made. A Put hands its value straight to the oldest
// waiting Get, so values are buffered only while nobody waits. Cancelling a
// waiting Get's Deferred takes it out of the line and fails it with
// [ErrCancelled]; no value is lost to it, even when the cancellation races
// with a Put on another goroutine.
//
// Two limits, set with [WithQueueSize] and [WithQueueBacklog], bound the
// buffered values and the waiting Gets; by default neither is bounded.
//
// Deferreds are fired with no internal lock held: Get fires at once, on the
// caller's goroutine, when a value is there, and Put fires the waiting Get's
// Deferred on the caller's goroutine before it returns. Callbacks may call
// Put and Get again.
//
// A Queue is safe for concurrent use. The zero value is an empty Queue with
// no limits. A Queue must not be copied after first use.
type Queue[T any] struct {
	mu      sync.Mutex
	values  fifo[T]
	waiting fifo[*Deferred[T]]
	relay   relay[T]
	limits  queueLimits
	cancel  func(*Deferred[T]) // the waiters' canceller, made once
}

type queueLimits struct {
	size, backlog       int
	hasSize, hasBacklog bool
}

// QueueOption configures a Queue made by [NewQueue].
type QueueOption func(*queueLimits)

var errNegativeLimit = errors.New("deferred: negative limit")

// WithQueueSize bounds the values a Queue buffers to n: a Put that finds n
// values waiting for a Get fails with [ErrQueueOverflow]. Zero refuses every
// value that no Get waits for. It panics if n is negative.
func WithQueueSize(n int) QueueOption {
	if n < 0 {
		panicMisuse("WithQueueSize", errNegativeLimit)
	}
	return func(l *queueLimits) { l.size, l.hasSize = n, true }
}

// WithQueueBacklog bounds the Gets waiting on an empty Queue to n: a further
// Get returns a Deferred already failed with [ErrQueueUnderflow]. Zero makes
// every Get on an empty Queue fail. It panics if n is negative.
func WithQueueBacklog(n int) QueueOption {
	if n < 0 {
		panicMisuse("WithQueueBacklog", errNegativeLimit)
	}
	return func(l *queueLimits) { l.backlog, l.hasBacklog = n, true }
}

// NewQueue returns an empty Queue with the given limits, Twisted's
// DeferredQueue(size, backlog). Without options it is unbounded, like the
// zero value.
func NewQueue[T any](opts ...QueueOption) *Queue[T] {
	q := &Queue[T]{}
	for _, opt := range opts {
		if opt == nil {
			panicMisuse("NewQueue", errNilFunc)
		}
		opt(&q.limits)
	}
	q.cancel = q.cancelGet
	return q
}

// Put adds v to the queue. If a Get waits, its Deferred fires with v on the
// calling goroutine before Put returns; otherwise v is buffered for the next
// Get. If the buffer is full, Put returns [ErrQueueOverflow] and v is not
// queued. For a Queue[any], v must not be a Deferred, of any element type:
// Put panics.
//
// A value handed to a Get that is cancelled at that very moment is not lost:
// it goes to the next waiting Get or back to the head of the buffer, even
// past the size limit, since Put has accepted it. Like [Lock.Release], a Put
// made while hand-offs are nested 100 deep leaves the firing to the hand-off
// under way.
func (q *Queue[T]) Put(v T) error {
	checkNotDeferred("Queue.Put", v)
	q.mu.Lock()
	if q.waiting.len() == 0 {
		if q.limits.hasSize && q.values.len() >= q.limits.size {
			q.mu.Unlock()
			return ErrQueueOverflow
		}
		q.values.push(v)
		q.mu.Unlock()
		return nil
	}
	q.relay.push(q.waiting.pop(), v)
	q.relay.drain(&q.mu, q.putBack)
	return nil
}

// putBack finds a place for a value that a cancelled Get could not take:
// the next waiting Get, or else the head of the buffer, as it was put
// before anything buffered since. Called with q.mu held.
func (q *Queue[T]) putBack(v T) {
	if q.waiting.len() > 0 {
		q.relay.push(q.waiting.pop(), v)
		return
	}
	q.values.pushFront(v)
}

// Get returns a Deferred that fires with the next value: the oldest buffered
// one at once, before Get returns, or else the value of a later Put, once
// every earlier waiting Get has been served. If the backlog of waiting Gets
// is full, the Deferred has already failed with [ErrQueueUnderflow].
//
// Cancelling the Deferred while it waits removes it from the line and fails
// it with [ErrCancelled]; the value it would have had goes to the next Get.
// Cancelling it after it fired does nothing.
func (q *Queue[T]) Get() *Deferred[T] {
	q.mu.Lock()
	if q.values.len() > 0 {
		v := q.values.pop()
		q.mu.Unlock()
		return Succeed(v)
	}
	if q.limits.hasBacklog && q.waiting.len() >= q.limits.backlog {
		q.mu.Unlock()
		return Fail[T](ErrQueueUnderflow)
	}
	if q.cancel == nil {
		q.cancel = q.cancelGet
	}
	d := NewWithCanceller(q.cancel)
	q.waiting.push(d)
	q.mu.Unlock()
	return d
}

// cancelGet is the canceller of a waiting Get: it takes d out of the line.
// If d is no longer there, a Put has handed it a value; either that fire or
// the cancellation wins, and the value goes on if the cancellation did.
func (q *Queue[T]) cancelGet(d *Deferred[T]) {
	q.mu.Lock()
	q.waiting.remove(func(w *Deferred[T]) bool { return w == d })
	q.mu.Unlock()
}

// Len reports how many values are buffered, waiting for a Get (Twisted's
// pending list). It is a snapshot: another goroutine may change it at once.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.values.len()
}

// Waiting reports how many Gets wait for a value (Twisted's waiting list).
func (q *Queue[T]) Waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting.len()
}
