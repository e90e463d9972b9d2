package cooperate_test

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/scheduler"
)

// chanLoop is a scheduler.Loop for tests of lanes: CallSoon may be called
// from any goroutine, and the functions it is given run, in order, on the
// goroutine that calls runUntil, which blocks while there are none. Its clock
// is a ManualClock that nothing advances.
type chanLoop struct {
	*scheduler.ManualClock
	mu     sync.Mutex
	queue  []func()
	signal chan struct{}
	gid    uint64 // the goroutine that runs the functions: the one that made the loop
	ran    int    // functions run so far
}

func newChanLoop() *chanLoop {
	return &chanLoop{ManualClock: scheduler.NewManualClock(), signal: make(chan struct{}, 1), gid: goid()}
}

func (l *chanLoop) CallSoon(f func()) {
	l.mu.Lock()
	l.queue = append(l.queue, f)
	l.mu.Unlock()
	select {
	case l.signal <- struct{}{}:
	default:
	}
}

// safety bounds how long runUntil and receive wait, so that a broken
// Cooperator fails a test instead of hanging it. Nothing waits for it to pass.
const safety = time.Minute

// runUntil runs the loop's functions on the calling goroutine until cond
// holds, blocking while the queue is empty.
func (l *chanLoop) runUntil(tb testing.TB, cond func() bool) {
	tb.Helper()
	if goid() != l.gid {
		tb.Fatal("runUntil called on another goroutine than newChanLoop")
	}
	deadline := time.NewTimer(safety)
	defer deadline.Stop()
	for !cond() {
		l.mu.Lock()
		q := l.queue
		l.queue = nil
		l.mu.Unlock()
		if len(q) == 0 {
			select {
			case <-l.signal:
			case <-deadline.C:
				tb.Fatalf("the loop waited %v for a condition that never held", safety)
			}
			continue
		}
		for i, f := range q {
			f()
			l.ran++
			if cond() {
				// Keep what is left, in order, for the next run.
				l.mu.Lock()
				l.queue = append(q[i+1:len(q):len(q)], l.queue...)
				l.mu.Unlock()
				return
			}
		}
	}
}

// newLanes returns a Cooperator with n lanes on a new chanLoop, stopped at
// the end of the test.
func newLanes(t *testing.T, n int, opts ...cooperate.Option) (*cooperate.Cooperator, *chanLoop) {
	t.Helper()
	loop := newChanLoop()
	c := cooperate.New(loop, append([]cooperate.Option{cooperate.WithLanes(n)}, opts...)...)
	t.Cleanup(c.Stop)
	return c, loop
}

// goid returns the calling goroutine's id, from its stack trace's header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic(err)
	}
	return id
}

// receive waits for ch to be closed or to deliver, failing the test after
// the safety bound.
func receive[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safety):
		require.FailNow(tb, "never happened: "+what)
		var zero T
		return zero
	}
}

// endless yields 0, 1, 2, ... until told to stop.
func endless(yield func(int) bool) {
	for i := 0; yield(i); i++ {
	}
}

// upTo yields 0 to n-1.
func upTo(n int) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}
