package cooperate_test

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// TestRunOnTheLoop: without lanes, f runs on the loop in a later slice,
// never inside Run, and its result, error or panic fires the Deferred.
func TestRunOnTheLoop(t *testing.T) {
	c, clock := newCooperator(t)
	ran := 0
	ok := watch(cooperate.Run(c, func() (int, error) { ran++; return 42, nil }))
	bad := watch(cooperate.Run(c, func() (string, error) { ran++; return "", errors.New("no") }))
	boom := watch(cooperate.Run(c, func() (int, error) { ran++; panic("boom") }))
	assert.Zero(t, ran, "f ran inside Run")
	assert.False(t, ok.fired)
	for range 3 {
		tick(clock)
	}
	assert.Equal(t, 3, ran)
	require.True(t, ok.fired)
	require.NoError(t, ok.err)
	assert.Equal(t, 42, ok.value)
	require.True(t, bad.fired)
	assert.EqualError(t, bad.err, "no")
	var perr *deferred.PanicError
	require.True(t, boom.fired)
	require.ErrorAs(t, boom.err, &perr)
	assert.Equal(t, "boom", perr.Value)
}

// TestRunCancelAndStop: a Run cancelled before its step fails with
// ErrCancelled and f is never called; one left when the Cooperator stops
// fails with ErrSchedulerStopped.
func TestRunCancelAndStop(t *testing.T) {
	c, clock := newCooperator(t)
	ran := 0
	d := cooperate.Run(c, func() (int, error) { ran++; return 1, nil })
	cancelled := watch(d)
	d.Cancel()
	requireFailedWith(t, cancelled, deferred.ErrCancelled)
	for range 3 {
		tick(clock)
	}
	assert.Zero(t, ran, "f ran after its Deferred was cancelled")

	left := watch(cooperate.Run(c, func() (int, error) { ran++; return 1, nil }))
	c.Stop()
	requireFailedWith(t, left, cooperate.ErrSchedulerStopped)
	assert.Zero(t, ran)
}

// TestRunParallelOverLanes: Parallel on a Cooperator of the loop, with Run
// on one with lanes as its body, runs the bodies on the lanes, at most n at
// a time, and hands every result over on the loop.
func TestRunParallelOverLanes(t *testing.T) {
	r := reactor.New(reactor.WithWatchdog(0))
	const items, n = 200, 4
	var inFlight, most, onReactor atomic.Int64
	var reactorG uint64
	var sum uint64
	var err error
	r.CallWhenRunning(func() {
		reactorG = goid()
		lanes := cooperate.New(r, cooperate.WithLanes(2))
		c := cooperate.New(r)
		cooperate.Parallel(c, upTo(items), n, func(i int) *deferred.Deferred[uint64] {
			return cooperate.Run(lanes, func() (uint64, error) {
				k := inFlight.Add(1)
				defer inFlight.Add(-1)
				for m := most.Load(); k > m && !most.CompareAndSwap(m, k); m = most.Load() {
				}
				if goid() == reactorG {
					onReactor.Add(1)
				}
				runtime.Gosched()
				return crunch(uint64(i), 1000), nil
			})
		}, func(i int, v uint64) error {
			sum += v // on the reactor
			return nil
		}).AddBoth(func(_ struct{}, e error) (struct{}, error) {
			err = e
			c.Stop()
			lanes.Stop()
			return struct{}{}, r.Stop()
		})
	})
	require.NoError(t, r.Run())
	require.NoError(t, err)
	var want uint64
	for i := range items {
		want += crunch(uint64(i), 1000)
	}
	assert.Equal(t, want, sum)
	assert.Zero(t, onReactor.Load(), "a body ran on the reactor")
	assert.Positive(t, most.Load())
	assert.LessOrEqual(t, most.Load(), int64(n))
}

func TestRunMisuse(t *testing.T) {
	c, _ := newCooperator(t)
	assert.PanicsWithValue(t, "cooperate: Run: nil Cooperator", func() {
		cooperate.Run(nil, func() (int, error) { return 0, nil })
	})
	assert.PanicsWithValue(t, "cooperate: Run: nil function", func() { cooperate.Run[int](c, nil) })
}
