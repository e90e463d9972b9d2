package deferred

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Async's caller goes to sleep until the body first hands back, unless the
// body has handed back already. These tests hold the body until the caller
// sleeps, so that the body must wake it.

// yieldUntilCallerSleeps yields, in a body, until its Async's caller has
// gone to sleep, as the asyncRun's hand says, and reports whether it did.
func yieldUntilCallerSleeps(hand *atomic.Uint32) bool {
	for range 1_000_000 {
		if hand.Load() == handBackSleep {
			return true
		}
		runtime.Gosched()
	}
	return false
}

func TestAsyncWakesItsSleepingCallerWhenTheBodyReturns(t *testing.T) {
	var slept bool
	d := Async(func(a *Awaiter) (int, error) {
		slept = yieldUntilCallerSleeps(&a.owner.(*asyncRun[int]).hand)
		v, err := Await(a, Succeed(6))
		return v + 1, err
	})
	require.True(t, slept, "the caller never went to sleep")
	v, err := d.Result()
	require.NoError(t, err)
	assert.Equal(t, 7, v)
}

func TestAsyncWakesItsSleepingCallerWhenTheBodyWaits(t *testing.T) {
	var slept bool
	gate := New[int]()
	d := Async(func(a *Awaiter) (int, error) {
		slept = yieldUntilCallerSleeps(&a.owner.(*asyncRun[int]).hand)
		v, err := Await(a, gate)
		return v + 1, err
	})
	require.True(t, slept, "the caller never went to sleep")
	_, err := d.Result()
	require.ErrorIs(t, err, ErrNotFired)
	gate.Callback(41)
	v, err := d.Result()
	require.NoError(t, err)
	assert.Equal(t, 42, v)
}

// A body that fails without waiting, and one that returns a Deferred, give
// the Async no room of its own: its Deferred is the failure or that one.
func TestAsyncWithoutWaitingFailsOrFollows(t *testing.T) {
	errBody := assert.AnError
	failed := Async(func(*Awaiter) (int, error) { return 3, errBody })
	_, err := failed.Result()
	assert.ErrorIs(t, err, errBody)

	inner := Succeed[any]("inner")
	d := Async(func(*Awaiter) (any, error) { return inner, nil })
	assert.Same(t, inner, d)
}
