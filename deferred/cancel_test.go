package deferred_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// cancelRecorder records what the callbacks of a cancelled Deferred saw.
type cancelRecorder struct {
	results []string
	errs    []error
}

func (c *cancelRecorder) attach(d *deferred.Deferred[string]) {
	d.AddCallbacks(
		func(s string) (string, error) { c.results = append(c.results, s); return s, nil },
		func(err error) (string, error) { c.errs = append(c.errs, err); return "", err },
	)
}

func TestCancelWithoutCancellerFailsWithErrCancelled(t *testing.T) {
	// Twisted's test_noCanceller.
	var c cancelRecorder
	d := deferred.New[string]()
	c.attach(d)
	d.Cancel()
	require.Len(t, c.errs, 1)
	assert.ErrorIs(t, c.errs[0], deferred.ErrCancelled)
	assert.Empty(t, c.results)
}

func TestCancelWithoutCancellerIgnoresOneLateFire(t *testing.T) {
	// Twisted's test_raisesAfterCancelAndCallback and
	// test_raisesAfterCancelAndErrback.
	late := map[string]func(d *deferred.Deferred[string]){
		"Callback": func(d *deferred.Deferred[string]) { d.Callback("late") },
		"Errback":  func(d *deferred.Deferred[string]) { d.Errback(errA) },
	}
	for name, fire := range late {
		t.Run(name, func(t *testing.T) {
			var c cancelRecorder
			d := deferred.New[string]()
			c.attach(d)
			d.Cancel()
			fire(d) // swallowed
			assert.Empty(t, c.results)
			require.Len(t, c.errs, 1)
			assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)

			err := misusePanic(t, "Deferred.Callback", func() { d.Callback("again") })
			assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
			err = misusePanic(t, "Deferred.Errback", func() { d.Errback(errB) })
			assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
		})
	}
}

func TestCancelAgainAfterCancelDoesNothing(t *testing.T) {
	// Twisted's test_noCancellerMultipleCancel and
	// test_noCancellerMultipleCancelsAfterCancelAndCallback/Errback.
	var c cancelRecorder
	d := deferred.New[string]()
	c.attach(d)
	d.Cancel()
	first := c.errs[0]
	d.Cancel()
	d.Callback("late") // still the one ignored late fire
	d.Cancel()
	require.Len(t, c.errs, 1)
	assert.Same(t, first, c.errs[0])
	assert.Empty(t, c.results)
	assert.Panics(t, func() { d.Callback("again") }, "only one late fire is ignored")
}

func TestCancellerIsCalledOnceWithTheDeferred(t *testing.T) {
	// Twisted's test_cancellerMultipleCancel, test_simpleCanceller and
	// test_cancellerArg: a canceller that does not fire the Deferred.
	var calls int
	var c cancelRecorder
	var d *deferred.Deferred[string]
	d = deferred.NewWithCanceller(func(got *deferred.Deferred[string]) {
		calls++
		assert.Same(t, d, got)
	})
	c.attach(d)
	d.Cancel()
	assert.Equal(t, 1, calls)
	require.Len(t, c.errs, 1)
	assert.ErrorIs(t, c.errs[0], deferred.ErrCancelled)
	d.Cancel()
	assert.Equal(t, 1, calls, "a second Cancel does not call the canceller again")
	require.Len(t, c.errs, 1)

	// With a canceller, a late fire is not swallowed: it panics.
	err := misusePanic(t, "Deferred.Callback", func() { d.Callback("late") })
	assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
	err = misusePanic(t, "Deferred.Errback", func() { d.Errback(errA) })
	assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
}

func TestCancellerThatErrbacksKeepsItsError(t *testing.T) {
	// Twisted's test_cancellerThatErrbacks.
	var calls int
	var c cancelRecorder
	d := deferred.NewWithCanceller(func(d *deferred.Deferred[string]) { calls++; d.Errback(errA) })
	c.attach(d)
	d.Cancel()
	assert.Equal(t, 1, calls)
	assert.Equal(t, []error{errA}, c.errs)
	assert.Same(t, errA, failureOf(t, d))
}

func TestCancellerThatCallbacksGivesAResult(t *testing.T) {
	// Twisted's test_cancellerThatCallbacks.
	var calls int
	var c cancelRecorder
	d := deferred.NewWithCanceller(func(d *deferred.Deferred[string]) { calls++; d.Callback("hello!") })
	c.attach(d)
	d.Cancel()
	assert.Equal(t, 1, calls)
	assert.Equal(t, []string{"hello!"}, c.results)
	assert.Empty(t, c.errs)
}

func TestCancellerThatPanicsFailsTheDeferred(t *testing.T) {
	d := deferred.NewWithCanceller(func(*deferred.Deferred[string]) { panic("canceller broke") })
	var c cancelRecorder
	c.attach(d)
	assert.NotPanics(t, d.Cancel)
	require.Len(t, c.errs, 1)
	var pe *deferred.PanicError
	require.ErrorAs(t, c.errs[0], &pe)
	assert.Equal(t, "canceller broke", pe.Value)
	assert.NotEmpty(t, pe.Stack)
	assert.Same(t, pe, failureOf(t, d))
}

func TestCancellerThatFiresThenPanicsKeepsItsResult(t *testing.T) {
	d := deferred.NewWithCanceller(func(d *deferred.Deferred[string]) {
		d.Callback("fired first")
		panic("and then broke")
	})
	assert.NotPanics(t, d.Cancel)
	assert.Equal(t, "fired first", successOf(t, d))
}

func TestCancelAfterFiringDoesNothing(t *testing.T) {
	// Twisted's test_cancelAfterCallback and test_cancelAfterErrback.
	var calls int
	canceller := func(d *deferred.Deferred[string]) { calls++; d.Errback(errB) }

	var ok cancelRecorder
	d := deferred.NewWithCanceller(canceller)
	ok.attach(d)
	d.Callback("biff!")
	d.Cancel()
	assert.Equal(t, []string{"biff!"}, ok.results)
	assert.Empty(t, ok.errs)

	var bad cancelRecorder
	e := deferred.NewWithCanceller(canceller)
	bad.attach(e)
	e.Errback(errA)
	e.Cancel()
	assert.Equal(t, []error{errA}, bad.errs)
	assert.Empty(t, bad.results)
	assert.Equal(t, 0, calls, "the canceller of a fired Deferred is never called")
	e.AddErrback(func(error) (string, error) { return "", nil })
}

func TestCancelOfAPausedFiredDeferredDoesNothing(t *testing.T) {
	d := deferred.Succeed("kept")
	d.Pause()
	d.Cancel()
	d.Unpause()
	assert.Equal(t, "kept", successOf(t, d))
}

func TestCancelOfAPausedUnfiredDeferredFailsItWhenUnpaused(t *testing.T) {
	var c cancelRecorder
	d := deferred.New[string]()
	c.attach(d)
	d.Pause()
	d.Cancel()
	assert.True(t, d.Called())
	assert.Empty(t, c.errs, "the chain is paused")
	d.Unpause()
	require.Len(t, c.errs, 1)
	assert.ErrorIs(t, c.errs[0], deferred.ErrCancelled)
}

func TestCancelReachesTheDeferredTheChainWaitsOn(t *testing.T) {
	// Twisted's test_cancelNestedDeferred.
	var innerCalls int
	b := deferred.NewWithCanceller(func(*deferred.Deferred[any]) { innerCalls++ })
	a := deferred.NewWithCanceller(func(*deferred.Deferred[any]) {
		t.Error("the outer canceller must not run: the outer Deferred has fired")
	})
	a.Callback(nil)
	a.AddCallback(returns(b))
	a.Cancel()
	var errs []error
	a.AddErrback(func(err error) (any, error) { errs = append(errs, err); return nil, nil })
	assert.Equal(t, 1, innerCalls)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], deferred.ErrCancelled)
}

func TestCancelReachesTheEndOfALineOfWaits(t *testing.T) {
	// d0 waits on d1, which waits on d2, ... which waits on last: one
	// Cancel on d0 reaches last, and its error comes back up the line.
	const n = 5
	var cancelled []int
	ds := make([]*deferred.Deferred[any], n)
	for i := range ds {
		ds[i] = deferred.NewWithCanceller(func(*deferred.Deferred[any]) { cancelled = append(cancelled, i) })
	}
	for i := range n - 1 {
		ds[i].AddCallback(returns(ds[i+1]))
	}
	for i := n - 2; i >= 0; i-- {
		ds[i].Callback(nil)
	}
	var seen []error
	ds[0].AddErrback(func(err error) (any, error) { seen = append(seen, err); return "recovered", nil })
	ds[0].Cancel()
	assert.Equal(t, []int{n - 1}, cancelled, "only the Deferred at the end of the line is cancelled")
	require.Len(t, seen, 1)
	assert.ErrorIs(t, seen[0], deferred.ErrCancelled)
	assert.Equal(t, "recovered", successOf(t, ds[0]))
}

func TestCancelOfTheMiddleOfALineReachesItsEnd(t *testing.T) {
	a := deferred.New[any]()
	b := deferred.New[any]()
	c := deferred.New[any]()
	a.AddCallback(returns(b))
	b.AddCallback(returns(c))
	b.Callback(nil)
	a.Callback(nil)
	b.Cancel()
	assert.ErrorIs(t, failureOf(t, a), deferred.ErrCancelled)
	assert.Nil(t, successOf(t, c))
	c.Callback("late") // c had no canceller: its one late fire is ignored
}

func TestCancelFromInsideItsOwnCallbackDoesNothing(t *testing.T) {
	d := deferred.New[string]()
	d.AddCallback(func(s string) (string, error) { d.Cancel(); return s + "!", nil })
	d.Callback("x")
	assert.Equal(t, "x!", successOf(t, d))
}

func TestCancelOfAWaitCycleReturns(t *testing.T) {
	// a waits on b and b waits on a: neither can ever fire. Twisted's
	// cancel recurses down the line until Python stops it with an error;
	// Cancel must not walk round the cycle forever. It may return, or
	// panic as a misuse naming Deferred.Cancel.
	a := deferred.New[any]()
	b := deferred.New[any]()
	a.AddCallback(returns(b))
	b.AddCallback(returns(a))
	a.Callback(nil)
	b.Callback(nil)
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		a.Cancel()
	}()
	// A generous bound, only ever reached when Cancel loops forever.
	watchdog := time.NewTimer(10 * time.Second)
	defer watchdog.Stop()
	select {
	case r := <-done:
		if r != nil {
			err, ok := r.(error)
			require.True(t, ok, "Cancel panicked with %v", r)
			assert.True(t, strings.HasPrefix(err.Error(), "deferred: Deferred.Cancel: "), err.Error())
		}
	case <-watchdog.C:
		t.Fatal("Cancel on a cycle of waits did not return")
	}
}
