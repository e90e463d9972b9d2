package deferred_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

func TestAddTimeoutReturnsTheDeferred(t *testing.T) {
	// Twisted's test_timeoutChainable.
	clock := scheduler.NewManualClock()
	d := deferred.New[string]()
	assert.Same(t, d, d.AddTimeout(clock, 5*time.Second))
	d.AddCallback(func(string) (string, error) { return "done", nil })
	d.Callback("")
	assert.Equal(t, "done", successOf(t, d))
}

func TestFiredInTimeCancelsTheTimer(t *testing.T) {
	// Twisted's test_successResultBeforeTimeout and
	// test_failureBeforeTimeout: no cancellation happens after the fire,
	// which would otherwise reach the inner Deferred returned later.
	for name, fire := range map[string]func(*deferred.Deferred[any]){
		"Callback": func(d *deferred.Deferred[any]) { d.Callback("results") },
		"Errback":  func(d *deferred.Deferred[any]) { d.Errback(errA) },
	} {
		t.Run(name, func(t *testing.T) {
			clock := scheduler.NewManualClock()
			d := deferred.New[any]()
			d.AddTimeout(clock, 10*time.Second)
			require.Len(t, clock.Pending(), 1)

			inner := deferred.NewWithCanceller(func(*deferred.Deferred[any]) {
				t.Error("the inner Deferred must not be cancelled")
			})
			var seen []any
			d.AddBoth(func(v any, err error) (any, error) {
				if err != nil {
					seen = append(seen, err)
				} else {
					seen = append(seen, v)
				}
				return inner, nil
			})
			fire(d)
			require.Len(t, seen, 1)
			assert.Empty(t, clock.Pending(), "the timer is cancelled once the Deferred fired")
			clock.Advance(15 * time.Second)
			requireNoResult(t, inner)
			requireNoResult(t, d)
			inner.Callback("inner")
			assert.Equal(t, "inner", successOf(t, d))
		})
	}
}

func TestTimesOutWithErrTimeout(t *testing.T) {
	// Twisted's test_timedOut.
	clock := scheduler.NewManualClock()
	d := deferred.New[int]()
	d.AddTimeout(clock, 10*time.Second)
	requireNoResult(t, d)
	clock.Advance(9 * time.Second)
	requireNoResult(t, d)
	clock.Advance(time.Second)
	err := failureOf(t, d)
	assert.ErrorIs(t, err, deferred.ErrTimeout)
	assert.NotErrorIs(t, err, deferred.ErrCancelled)
	assert.Empty(t, clock.Pending())
}

func TestTimeoutWithACancellerThatCallbacksGivesItsResult(t *testing.T) {
	// Twisted's test_timedOutProvidedCancelSuccess.
	clock := scheduler.NewManualClock()
	d := deferred.NewWithCanceller(func(d *deferred.Deferred[string]) { d.Callback("I was cancelled!") })
	d.AddTimeout(clock, 10*time.Second)
	clock.Advance(15 * time.Second)
	assert.Equal(t, "I was cancelled!", successOf(t, d))
}

func TestTimeoutWithACancellerThatErrbacksKeepsItsError(t *testing.T) {
	// Twisted's test_timedOutProvidedCancelFailure.
	clock := scheduler.NewManualClock()
	d := deferred.NewWithCanceller(func(d *deferred.Deferred[string]) { d.Errback(errA) })
	d.AddTimeout(clock, 10*time.Second)
	clock.Advance(15 * time.Second)
	err := failureOf(t, d)
	assert.Same(t, errA, err)
}

func TestNegativeOrZeroTimeoutTimesOutOnTheNextAdvance(t *testing.T) {
	for _, timeout := range []time.Duration{-time.Second, 0} {
		clock := scheduler.NewManualClock()
		d := deferred.New[int]()
		d.AddTimeout(clock, timeout)
		requireNoResult(t, d)
		clock.Advance(0)
		assert.ErrorIs(t, failureOf(t, d), deferred.ErrTimeout, "timeout %v", timeout)
	}
}

func TestUserCancelBeforeTheTimeoutStaysErrCancelled(t *testing.T) {
	// Twisted's test_cancelBeforeTimeout: the timer does not cancel again
	// later, which would reach the Deferred the errback returned.
	clock := scheduler.NewManualClock()
	d := deferred.New[any]()
	d.AddTimeout(clock, 10*time.Second)
	inner := deferred.NewWithCanceller(func(*deferred.Deferred[any]) {
		t.Error("the inner Deferred must not be cancelled")
	})
	var got []error
	d.AddErrback(func(err error) (any, error) { got = append(got, err); return inner, nil })
	d.Cancel()
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0], deferred.ErrCancelled)
	assert.NotErrorIs(t, got[0], deferred.ErrTimeout)
	assert.Empty(t, clock.Pending())
	clock.Advance(15 * time.Second)
	requireNoResult(t, inner)
	inner.Callback(nil)
}

func TestErrbackAddedBeforeTheTimeoutSeesTheCancellation(t *testing.T) {
	// Twisted's test_errbackAddedBeforeTimeout and
	// test_errbackAddedBeforeTimeoutSuppressesCancellation.
	clock := scheduler.NewManualClock()
	d := deferred.New[int]()
	var seen []error
	d.AddErrback(func(err error) (int, error) { seen = append(seen, err); return 0, err })
	d.AddTimeout(clock, 10*time.Second)
	clock.Advance(15 * time.Second)
	require.Len(t, seen, 1)
	assert.ErrorIs(t, seen[0], deferred.ErrCancelled)
	assert.ErrorIs(t, failureOf(t, d), deferred.ErrTimeout)

	suppressed := deferred.New[int]()
	suppressed.AddErrback(func(error) (int, error) { return 42, nil })
	suppressed.AddTimeout(clock, 10*time.Second)
	clock.Advance(15 * time.Second)
	assert.Equal(t, 42, successOf(t, suppressed))
}

func TestTimeoutCancelsTheDeferredTheChainWaitsOn(t *testing.T) {
	clock := scheduler.NewManualClock()
	inner := deferred.New[any]()
	d := deferred.New[any]()
	d.AddCallback(returns(inner))
	d.Callback(nil)
	d.AddTimeout(clock, time.Second)
	clock.Advance(time.Second)
	assert.ErrorIs(t, failureOf(t, d), deferred.ErrTimeout)
	assert.Nil(t, successOf(t, inner))
}

func TestTwoTimeoutsTheFirstWins(t *testing.T) {
	clock := scheduler.NewManualClock()
	d := deferred.New[int]()
	d.AddTimeout(clock, time.Second)
	d.AddTimeout(clock, time.Minute)
	clock.Advance(time.Second)
	assert.ErrorIs(t, failureOf(t, d), deferred.ErrTimeout)
	assert.Empty(t, clock.Pending(), "the second timer is cancelled as the result passes it")
}
