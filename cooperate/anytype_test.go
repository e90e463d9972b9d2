package cooperate_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// A task that yields a Deferred of any element type waits on it, as
// Twisted's Cooperator waits on any Deferred a step yields: these
// re-express test_cooperator.py's tests of yielded Deferreds with Deferreds
// of other types than any and struct{}.

func TestYieldedTypedDeferredIsWaitedOn(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(100)))
	d := deferred.New[string]()
	var order []string
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		order = append(order, "a1")
		if !yield(d) {
			return
		}
		order = append(order, "a2")
	}))
	cooperate.Coiterate(c, values(1, 2, 3))
	tick(clock)
	result := watch(d) // after the Cooperator's own callback, as a user's would be
	assert.Equal(t, []string{"a1"}, order, "a waits on the Deferred[string]")
	assert.False(t, done.fired)
	d.Callback("fired")
	tick(clock)
	tick(clock)
	assert.Equal(t, []string{"a1", "a2"}, order)
	require.True(t, done.fired)
	assert.NoError(t, done.err)
	assert.True(t, result.fired)
	assert.Equal(t, "", result.value, "the Cooperator consumed the result, as in Twisted")
}

// Twisted's testUnexpectedErrorActuallyLater and
// testUnexpectedErrorNotActuallyLater.
func TestYieldedTypedDeferredThatFailsFailsTheTask(t *testing.T) {
	c, clock := newCooperator(t)
	later := deferred.New[int]()
	laterDone := watch(cooperate.Coiterate(c, values(later)))
	nowDone := watch(cooperate.Coiterate(c, values(deferred.Fail[[]byte](errBoom))))
	tick(clock)
	tick(clock)
	assert.False(t, laterDone.fired)
	later.Errback(errBoom)
	tick(clock)
	tick(clock)
	requireFailedWith(t, laterDone, errBoom)
	requireFailedWith(t, nowDone, errBoom)
}

// Twisted's test_stopDeferred: a task stopped while it waits on a Deferred
// takes no further step when it fires, and consumes its result.
func TestStopWhileWaitingOnATypedDeferred(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(oneStep))
	d := deferred.New[int]()
	steps := 0
	task := c.Cooperate(func(yield func(any) bool) {
		for {
			steps++
			if !yield(d) {
				return
			}
		}
	})
	tick(clock)
	result := watch(d)
	require.Equal(t, 1, steps)
	require.NoError(t, task.Stop())
	tick(clock)
	d.Callback(7)
	tick(clock)
	tick(clock)
	assert.True(t, result.fired)
	assert.Zero(t, result.value, "the Cooperator consumed the Deferred's result")
	assert.NoError(t, result.err)
	assert.Equal(t, 1, steps, "no step after the stop")
}

func TestNilTypedDeferredsAreNotWaitedOn(t *testing.T) {
	c, clock := newCooperator(t)
	var nilString *deferred.Deferred[string]
	var nilInt *deferred.Deferred[int]
	done := watch(cooperate.Coiterate(c, values(nilString, nilInt, 3)))
	tick(clock)
	require.True(t, done.fired)
	assert.NoError(t, done.err)
}

func TestEveryDeferredIsAWaitable(t *testing.T) {
	var _ cooperate.Waitable = deferred.New[string]()
	w := cooperate.Wait(deferred.New[float64]())
	_, ok := w.(*deferred.Deferred[float64])
	assert.True(t, ok, "Wait returns the Deferred itself")
}

func TestLaneTaskWaitsOnAYieldedTypedDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock, cooperate.WithLanes(2))
		defer c.Stop()
		d := deferred.New[[]byte]()
		failed := deferred.New[float64]()
		var resumed atomic.Bool
		done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
			if !yield(d) {
				return
			}
			resumed.Store(true)
		}))
		failing := watch(cooperate.Coiterate(c, values(failed)))
		synctest.Wait()
		clock.Advance(0)
		synctest.Wait()
		require.False(t, resumed.Load(), "the task waits on the Deferred[[]byte]")
		require.False(t, failing.fired)

		var wg sync.WaitGroup
		wg.Go(func() { d.Callback([]byte("from another goroutine")) })
		wg.Go(func() { failed.Errback(errBoom) })
		wg.Wait()
		synctest.Wait()
		clock.Advance(0)
		synctest.Wait()
		assert.True(t, resumed.Load(), "the task resumed on its lane")
		require.True(t, done.fired)
		assert.NoError(t, done.err)
		requireFailedWith(t, failing, errBoom)
	})
}
