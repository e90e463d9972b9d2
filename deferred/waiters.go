package deferred

import "sync"

// fifo is a first-in, first-out ring of values: the line of waiting
// Deferreds of a Lock, a Semaphore or a Queue, and a Queue's buffered values.
// It grows by doubling and reuses its slots, so a steady stream of pushes and
// pops allocates nothing. The zero value is an empty fifo. It is not safe for
// concurrent use: its owner guards it with its own mutex.
type fifo[E any] struct {
	buf  []E
	head int // index in buf of the oldest element
	n    int // number of elements
}

// shrinkCap is the capacity above which an emptied fifo gives its buffer
// back, so that a burst of waiters does not pin memory for ever.
const shrinkCap = 1024

func (q *fifo[E]) len() int { return q.n }

func (q *fifo[E]) push(e E) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
}

// pushFront puts e before every other element.
func (q *fifo[E]) pushFront(e E) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = e
	q.n++
}

// pop removes and returns the oldest element; the fifo must not be empty.
func (q *fifo[E]) pop() E {
	var zero E
	e := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.emptied()
	return e
}

// remove takes out the first element for which match reports true, if any,
// keeping the order of the others. It is linear in the length of the line,
// as Twisted's list.remove is: cancelling a waiter is rare next to handing
// out.
func (q *fifo[E]) remove(match func(E) bool) {
	var zero E
	for i := range q.n {
		if !match(q.buf[(q.head+i)%len(q.buf)]) {
			continue
		}
		for j := i; j < q.n-1; j++ {
			q.buf[(q.head+j)%len(q.buf)] = q.buf[(q.head+j+1)%len(q.buf)]
		}
		q.buf[(q.head+q.n-1)%len(q.buf)] = zero
		q.n--
		q.emptied()
		return
	}
}

func (q *fifo[E]) grow() {
	buf := make([]E, max(4, 2*len(q.buf)))
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

func (q *fifo[E]) emptied() {
	if q.n != 0 {
		return
	}
	q.head = 0
	if len(q.buf) > shrinkCap {
		q.buf = nil
	}
}

// maxNest bounds how deeply hand-offs nest on one Lock, Semaphore or Queue.
//
// A callback of a waiter that releases (or puts) at once hands over to the
// next waiter from inside its own hand-off: Twisted fires the next waiter
// right there, nested, so a long line of quick holders recurses once per
// waiter (Twisted's issue 9304 ends in RecursionError after a few hundred).
// Here hand-offs nest as in Twisted up to maxNest deep, which covers
// everything Twisted itself can run; deeper ones are relayed: the enclosing
// hand-off fires them, in order, as soon as the one under way returns. The
// stack stays bounded however long the line.
const maxNest = 100

// relay is the line of waiters that have been given what they waited for
// (a hold, a token, a value) but whose Deferreds have not been fired yet.
// Its owner guards it with its mutex.
type relay[T any] struct {
	line fifo[handoff[T]]
	nest int // hand-offs being fired right now, with the mutex released
}

type handoff[T any] struct {
	d *Deferred[T]
	v T
}

func (r *relay[T]) push(d *Deferred[T], v T) {
	r.line.push(handoff[T]{d: d, v: v})
}

// drain fires the relayed hand-offs in order, each with mu released, so that
// callbacks never run under the owner's mutex. When maxNest fires are
// already under way it leaves the line to them: each of them drains it once
// its own fire returns. A waiter fired by someone else first (a cancellation
// racing with the hand-off) cannot take what it was given: lost is called
// for it, with mu held, to pass v on. drain is entered with mu held and
// returns with it released.
func (r *relay[T]) drain(mu *sync.Mutex, lost func(v T)) {
	if r.nest >= maxNest {
		mu.Unlock()
		return
	}
	for r.line.len() > 0 {
		h := r.line.pop()
		r.nest++
		mu.Unlock()
		fired := h.d.fire(h.v, nil, "")
		mu.Lock()
		r.nest--
		if !fired {
			lost(h.v)
		}
	}
	mu.Unlock()
}
