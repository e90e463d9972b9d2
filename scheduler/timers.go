package scheduler

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twinego/twine/internal/funcinfo"
)

// Timers is a queue of functions due at given times: the one timer queue of
// twine, behind [ManualClock] and the reactor. It is a 4-ary min-heap ordered
// by due time and then by scheduling order, so calls due at the same time run
// in the order they were scheduled (a [Call.Reset] or [Call.Delay] counts as
// scheduling anew).
//
// Schedule, Cancel, Reset and Delay cost O(log n). A cancelled call leaves the
// heap at once and drops its function, so cancelled calls do not linger in
// memory; the heap's backing array shrinks as the queue empties.
//
// Timers never runs anything itself: its owner asks for due calls with
// [Timers.PopDue] and runs them. All methods, and the methods of the calls it
// hands out, are safe to use from several goroutines; the owner must run the
// popped functions without holding any lock of its own that they might need.
type Timers struct {
	mu      sync.Mutex
	epoch   time.Time
	elapsed func() time.Duration
	wake    func()
	heap    []*timer
	seq     uint64
	closed  bool
}

// Mark is a point in a [Timers] queue's scheduling order, from [Timers.Mark].
type Mark uint64

// NewTimers returns an empty queue. Due times count from epoch; elapsed
// reports how much time has passed since epoch and is what Schedule and
// Reset read as "now". wake, if not nil, is called whenever Schedule, Reset
// or Delay makes a call the earliest due, after the queue's lock has been
// released, so that a sleeping owner can wake up earlier; it must not block.
func NewTimers(epoch time.Time, elapsed func() time.Duration, wake func()) *Timers {
	if elapsed == nil {
		panic("scheduler: NewTimers: nil elapsed function")
	}
	return &Timers{epoch: epoch, elapsed: elapsed, wake: wake}
}

// timer states.
const (
	pending uint8 = iota
	called
	cancelled
)

// timer is one scheduled call; it implements [Call].
type timer struct {
	when  time.Duration // due time, counted from the queue's epoch
	seq   uint64        // scheduling order, to break ties on when
	index int           // position in the heap while pending
	state uint8
	f     func()
	q     *Timers
}

// Schedule adds a call to f, due d from now (a negative d counts as zero),
// and returns it. After [Timers.Close] it returns a call that is already
// inactive (cancelled) and will never run. A nil f panics.
func (q *Timers) Schedule(d time.Duration, f func()) Call {
	if f == nil {
		panic("scheduler: Timers.Schedule: nil function")
	}
	t := &timer{q: q, f: f}
	if d < 0 {
		d = 0
	}
	now := q.elapsed()
	q.mu.Lock()
	t.when = addSat(now, d)
	if q.closed {
		t.state = cancelled
		t.f = nil
		q.mu.Unlock()
		return t
	}
	q.seq++
	t.seq = q.seq
	q.push(t)
	first := t.index == 0
	q.mu.Unlock()
	if first && q.wake != nil {
		q.wake()
	}
	return t
}

// Next reports when the earliest pending call is due, counted from the
// queue's epoch, and false if no call is pending.
func (q *Timers) Next() (time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].when, true
}

// Len reports how many calls are pending.
func (q *Timers) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.heap)
}

// Mark returns the current point in the scheduling order, for
// [Timers.PopDueBefore].
func (q *Timers) Mark() Mark {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Mark(q.seq)
}

// PopDue removes the earliest call due at or before now (counted from the
// epoch), marks it called and returns its function for the caller to run.
// It returns false if no call is due. Calls due at the same time come out in
// scheduling order.
func (q *Timers) PopDue(now time.Duration) (func(), bool) {
	return q.PopDueBefore(now, ^Mark(0))
}

// PopDueBefore is [Timers.PopDue] restricted to calls scheduled (or reset, or
// delayed) before mark: a loop that takes a Mark at the start of a pass runs
// calls scheduled during the pass in a later pass, so a call that keeps
// rescheduling itself with no delay cannot starve the loop.
func (q *Timers) PopDueBefore(now time.Duration, mark Mark) (func(), bool) {
	q.mu.Lock()
	if len(q.heap) == 0 {
		q.mu.Unlock()
		return nil, false
	}
	t := q.heap[0]
	if t.when > now || t.seq > uint64(mark) {
		q.mu.Unlock()
		return nil, false
	}
	q.remove(0)
	t.state = called
	f := t.f
	t.f = nil
	q.mu.Unlock()
	return f, true
}

// Pending returns the pending calls sorted by due time (ties in scheduling
// order). The slice is a snapshot: calls may run or be cancelled afterwards.
func (q *Timers) Pending() []Call {
	q.mu.Lock()
	ts := slices.Clone(q.heap)
	q.mu.Unlock()
	slices.SortFunc(ts, func(a, b *timer) int {
		if less(a, b) {
			return -1
		}
		return 1
	})
	calls := make([]Call, len(ts))
	for i, t := range ts {
		calls[i] = t
	}
	return calls
}

// Close cancels every pending call and makes later calls to Schedule return
// calls that are already inactive. It is for an owner that has shut down;
// closing twice does nothing more.
func (q *Timers) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, t := range q.heap {
		t.state = cancelled
		t.f = nil
		t.index = -1
	}
	q.heap = nil
}

// At converts a due time counted from the epoch into a [time.Time].
func (q *Timers) At(d time.Duration) time.Time {
	return q.epoch.Add(d)
}

// Cancel implements [Call.Cancel].
func (t *timer) Cancel() error {
	q := t.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := t.check(); err != nil {
		return err
	}
	t.state = cancelled
	t.f = nil
	q.remove(t.index)
	return nil
}

// Reset implements [Call.Reset]: the call becomes due d from now (a negative
// d counts as zero), after any call already due at that time.
func (t *timer) Reset(d time.Duration) error {
	if d < 0 {
		d = 0
	}
	now := t.q.elapsed()
	return t.move(func(time.Duration) time.Duration { return addSat(now, d) })
}

// Delay implements [Call.Delay]: the call becomes due d later than it was
// (a negative d makes it due earlier), after any call already due at that
// time.
func (t *timer) Delay(d time.Duration) error {
	return t.move(func(when time.Duration) time.Duration { return addSat(when, d) })
}

func (t *timer) move(to func(time.Duration) time.Duration) error {
	q := t.q
	q.mu.Lock()
	if err := t.check(); err != nil {
		q.mu.Unlock()
		return err
	}
	t.when = to(t.when)
	q.seq++
	t.seq = q.seq
	q.fix(t.index)
	first := t.index == 0
	q.mu.Unlock()
	if first && q.wake != nil {
		q.wake()
	}
	return nil
}

// Active implements [Call.Active].
func (t *timer) Active() bool {
	t.q.mu.Lock()
	defer t.q.mu.Unlock()
	return t.state == pending
}

// When implements [Call.When].
func (t *timer) When() time.Time {
	t.q.mu.Lock()
	when := t.when
	t.q.mu.Unlock()
	return t.q.epoch.Add(when)
}

// String describes the call as Twisted's DelayedCall repr does: its
// address, how long until it is due (negative once past), whether it has
// been called or cancelled, and, while it is pending, its function's name
// and where that function is defined, as in
// "<Call 0xc000012345 [10.5s] called=false cancelled=false main.tick (main.go:12)>".
// A call lets go of its function once it has run or been cancelled, so the
// name is missing then. It is safe from any goroutine, and costs about a
// microsecond while the call is pending: it is for debugging, not for hot
// paths.
func (t *timer) String() string {
	q := t.q
	now := q.elapsed()
	q.mu.Lock()
	when, state, f := t.when, t.state, t.f
	q.mu.Unlock()
	s := fmt.Sprintf("<Call %p [%v] called=%t cancelled=%t", t, when-now, state == called, state == cancelled)
	if f != nil {
		s += " " + funcinfo.String(f)
	}
	return s + ">"
}

func (t *timer) check() error {
	switch t.state {
	case called:
		return ErrAlreadyCalled
	case cancelled:
		return ErrAlreadyCancelled
	}
	return nil
}

// addSat adds two durations, saturating instead of overflowing.
func addSat(a, b time.Duration) time.Duration {
	s := a + b
	if b > 0 && s < a {
		return 1<<63 - 1
	}
	if b < 0 && s > a {
		return -1 << 63
	}
	return s
}
