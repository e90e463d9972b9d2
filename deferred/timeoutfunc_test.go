package deferred_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// onTimeoutCall is what an onTimeout function was called with.
type onTimeoutCall struct {
	v       any
	err     error
	timeout time.Duration
}

// overridden returns an onTimeout function that records its calls and
// gives "OVERRIDDEN", as Twisted's tests' _overrideFunc does.
func overridden(calls *[]onTimeoutCall) func(any, error, time.Duration) (any, error) {
	return func(v any, err error, timeout time.Duration) (any, error) {
		*calls = append(*calls, onTimeoutCall{v, err, timeout})
		return "OVERRIDDEN", nil
	}
}

func TestTimeoutFuncReplacesTheTimeout(t *testing.T) {
	// Twisted's test_timedOutCustom: onTimeoutCancel may give a result.
	clock := scheduler.NewManualClock()
	var calls []onTimeoutCall
	d := deferred.New[any]()
	assert.Same(t, d, d.AddTimeoutFunc(clock, 10*time.Second, overridden(&calls)))
	requireNoResult(t, d)
	clock.Advance(9 * time.Second)
	requireNoResult(t, d)
	assert.Empty(t, calls)
	clock.Advance(6 * time.Second)
	assert.Equal(t, "OVERRIDDEN", successOf(t, d))
	require.Len(t, calls, 1)
	assert.Nil(t, calls[0].v)
	assert.ErrorIs(t, calls[0].err, deferred.ErrCancelled, "it sees what the cancellation left")
	assert.Equal(t, 10*time.Second, calls[0].timeout, "and the timeout")
	assert.Empty(t, clock.Pending())
}

func TestTimeoutFuncErrorPropagates(t *testing.T) {
	clock := scheduler.NewManualClock()
	d := deferred.New[int]()
	d.AddTimeoutFunc(clock, time.Second, func(v int, err error, _ time.Duration) (int, error) {
		return 0, errC
	})
	var seen error
	d.AddErrback(func(err error) (int, error) { seen = err; return 0, err })
	clock.Advance(time.Second)
	assert.Same(t, errC, seen, "the callbacks after it see its error")
	assert.Same(t, errC, failureOf(t, d))
}

func TestTimeoutFuncNotCalledWhenFiredInTime(t *testing.T) {
	// Twisted's test_successResultBeforeTimeoutCustom and
	// test_failureBeforeTimeoutCustom.
	for name, fire := range map[string]func(*deferred.Deferred[any]){
		"Callback": func(d *deferred.Deferred[any]) { d.Callback("results") },
		"Errback":  func(d *deferred.Deferred[any]) { d.Errback(errA) },
	} {
		t.Run(name, func(t *testing.T) {
			clock := scheduler.NewManualClock()
			var calls []onTimeoutCall
			d := deferred.New[any]()
			d.AddTimeoutFunc(clock, 10*time.Second, overridden(&calls))
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
			assert.NotEqual(t, "OVERRIDDEN", seen[0])
			assert.Empty(t, clock.Pending(), "the timer is cancelled once the Deferred fired")
			clock.Advance(15 * time.Second)
			requireNoResult(t, inner)
			assert.Empty(t, calls)
			inner.Callback("inner")
			assert.Equal(t, "inner", successOf(t, d))
		})
	}
}

func TestTimeoutFuncNotCalledWhenCancelledFirst(t *testing.T) {
	// Twisted's test_cancelBeforeTimeoutCustom.
	clock := scheduler.NewManualClock()
	var calls []onTimeoutCall
	d := deferred.New[any]()
	d.AddTimeoutFunc(clock, 10*time.Second, overridden(&calls))
	inner := deferred.NewWithCanceller(func(*deferred.Deferred[any]) {
		t.Error("the inner Deferred must not be cancelled")
	})
	var got []error
	d.AddErrback(func(err error) (any, error) { got = append(got, err); return inner, nil })
	d.Cancel()
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0], deferred.ErrCancelled, "the user's cancellation stays ErrCancelled")
	clock.Advance(15 * time.Second)
	requireNoResult(t, inner)
	assert.Empty(t, calls)
	inner.Callback(nil)
}

func TestTimeoutFuncSeesWhatTheCancellerFired(t *testing.T) {
	// Twisted's test_providedCancelCalledBeforeTimeoutCustom, and
	// test_callbackAddedToCancelerBeforeTimeoutCustom for a canceller that
	// gives a result.
	t.Run("error", func(t *testing.T) {
		clock := scheduler.NewManualClock()
		var calls []onTimeoutCall
		d := deferred.NewWithCanceller(func(d *deferred.Deferred[any]) { d.Errback(errA) })
		d.AddTimeoutFunc(clock, 10*time.Second, overridden(&calls))
		clock.Advance(15 * time.Second)
		assert.Equal(t, "OVERRIDDEN", successOf(t, d))
		require.Len(t, calls, 1)
		assert.Same(t, errA, calls[0].err)
	})
	t.Run("result", func(t *testing.T) {
		clock := scheduler.NewManualClock()
		var calls []onTimeoutCall
		d := deferred.NewWithCanceller(func(d *deferred.Deferred[any]) { d.Callback("success") })
		var callbacked any
		d.AddCallback(func(v any) (any, error) { callbacked = v; return v, nil })
		d.AddTimeoutFunc(clock, 10*time.Second, overridden(&calls))
		clock.Advance(15 * time.Second)
		assert.Equal(t, "success", callbacked, "the callback added before runs with the canceller's result")
		assert.Equal(t, "OVERRIDDEN", successOf(t, d))
		require.Len(t, calls, 1)
		assert.Equal(t, onTimeoutCall{v: "success", timeout: 10 * time.Second}, calls[0])
	})
}

func TestTimeoutFuncAfterAnErrbackAddedBefore(t *testing.T) {
	// Twisted's test_errbackAddedBeforeTimeoutCustom and
	// test_errbackAddedBeforeTimeoutSuppressesCancellationCustom: the
	// function runs whatever the errback made of the cancellation.
	for name, errback := range map[string]func(error) (any, error){
		"passes the error on": func(err error) (any, error) { return nil, err },
		"suppresses it":       func(error) (any, error) { return nil, nil },
	} {
		t.Run(name, func(t *testing.T) {
			clock := scheduler.NewManualClock()
			var calls []onTimeoutCall
			var seen []error
			d := deferred.New[any]()
			d.AddErrback(func(err error) (any, error) { seen = append(seen, err); return errback(err) })
			d.AddTimeoutFunc(clock, 10*time.Second, overridden(&calls))
			clock.Advance(15 * time.Second)
			require.Len(t, seen, 1)
			assert.ErrorIs(t, seen[0], deferred.ErrCancelled)
			assert.Equal(t, "OVERRIDDEN", successOf(t, d))
			assert.Len(t, calls, 1)
		})
	}
}

func TestTimeoutFuncPanicBecomesPanicError(t *testing.T) {
	clock := scheduler.NewManualClock()
	d := deferred.New[int]()
	d.AddTimeoutFunc(clock, time.Second, func(int, error, time.Duration) (int, error) { panic("boom") })
	clock.Advance(time.Second)
	var pe *deferred.PanicError
	require.ErrorAs(t, failureOf(t, d), &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.Empty(t, clock.Pending())
}

func TestTimeoutFuncMisuse(t *testing.T) {
	clock := scheduler.NewManualClock()
	misusePanic(t, "Deferred.AddTimeoutFunc", func() {
		deferred.New[int]().AddTimeoutFunc(nil, time.Second, func(v int, err error, _ time.Duration) (int, error) { return v, err })
	})
	misusePanic(t, "Deferred.AddTimeoutFunc", func() {
		deferred.New[int]().AddTimeoutFunc(clock, time.Second, nil)
	})
	assert.Empty(t, clock.Pending(), "a refused call schedules nothing")
}
