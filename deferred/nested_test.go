package deferred_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// The tests in this file follow Twisted's "nested" and "chained" Deferred
// behaviour: a Deferred[any] callback that returns a *Deferred[any] makes
// the chain wait for that Deferred's result.

// returns gives a callback that ignores its argument and returns d.
func returns(d *deferred.Deferred[any]) func(any) (any, error) {
	return func(any) (any, error) { return d, nil }
}

func TestReturnedUnfiredDeferredPausesChainUntilItFires(t *testing.T) {
	var r recorder
	inner := deferred.New[any]()
	outer := deferred.New[any]()
	outer.AddCallback(returns(inner))
	outer.AddCallback(func(v any) (any, error) { r.add("after:" + v.(string)); return v, nil })
	outer.Callback("outer")
	assert.Empty(t, r.calls)
	requireNoResult(t, outer)
	assert.True(t, outer.Called(), "the outer Deferred has fired, its chain waits")

	inner.Callback("inner")
	assert.Equal(t, []string{"after:inner"}, r.calls)
	assert.Equal(t, "inner", successOf(t, outer))
	assert.Nil(t, successOf(t, inner), "the inner result went to the outer chain")
}

func TestReturnedPausedInnerHoldsTheChainUntilUnpaused(t *testing.T) {
	// Twisted's test_callbackReturnsDeferred.
	var got []any
	d1 := deferred.New[any]()
	d2 := deferred.New[any]()
	d2.Pause()
	d1.AddCallback(returns(d2))
	d1.AddCallback(func(v any) (any, error) { got = append(got, v); return v, nil })
	d1.Callback(1)
	assert.Empty(t, got, "not before the inner Deferred fires")
	d2.Callback(2)
	assert.Empty(t, got, "not while the inner Deferred is paused")
	d2.Unpause()
	assert.Equal(t, []any{2}, got)
}

func TestReturnedFiredButPausedInnerIsWaitedOn(t *testing.T) {
	// Twisted's test_chainedPausedDeferredWithResult.
	paused := deferred.Succeed[any]("expected")
	paused.Pause()
	chained := deferred.New[any]()
	chained.AddCallback(returns(paused))
	chained.Callback(nil)
	var got []any
	chained.AddCallback(func(v any) (any, error) { got = append(got, v); return v, nil })
	assert.Empty(t, got)
	paused.Unpause()
	assert.Equal(t, []any{"expected"}, got)
}

func TestPausedOuterDoesNotStopTheInnerChain(t *testing.T) {
	// Twisted's test_pausedDeferredChained: first waits on second; first is
	// paused; second's own callbacks still run.
	first := deferred.New[any]()
	second := deferred.New[any]()
	first.AddCallback(returns(second))
	first.Callback(nil)
	first.Pause()
	second.Callback(nil)
	var got []any
	second.AddCallback(func(v any) (any, error) { got = append(got, v); return v, nil })
	assert.Equal(t, []any{nil}, got)

	var firstGot []any
	first.AddCallback(func(v any) (any, error) { firstGot = append(firstGot, v); return "done", nil })
	assert.Empty(t, firstGot, "first stays paused")
	first.Unpause()
	assert.Equal(t, []any{nil}, firstGot, "second's result (nil) reached first")
	assert.Equal(t, "done", successOf(t, first))
}

func TestReturnedFiredInnerGivesItsResultAtOnce(t *testing.T) {
	// Twisted's test_synchronousImplicitChain.
	first := deferred.Succeed[any]("result")
	second := deferred.New[any]()
	second.AddCallback(returns(first))
	second.Callback(nil)

	var results []any
	first.AddCallback(func(v any) (any, error) { results = append(results, v); return v, nil })
	assert.Equal(t, []any{nil}, results, "first's result was taken by second")
	second.AddCallback(func(v any) (any, error) { results = append(results, v); return v, nil })
	assert.Equal(t, []any{nil, "result"}, results)
}

func TestReturnedUnfiredInnerGivesItsResultWhenItFires(t *testing.T) {
	// Twisted's test_asynchronousImplicitChain: callbacks added to the inner
	// Deferred after the outer one started waiting on it run after the
	// outer chain took the result, and see nil.
	var r recorder
	first := deferred.New[any]()
	second := deferred.New[any]()
	second.AddCallback(returns(first))
	second.Callback(nil)

	var firstResult, secondResult []any
	first.AddCallback(func(v any) (any, error) {
		r.add("first")
		firstResult = append(firstResult, v)
		return v, nil
	})
	second.AddCallback(func(v any) (any, error) {
		r.add("second")
		secondResult = append(secondResult, v)
		return v, nil
	})
	assert.Empty(t, firstResult)
	assert.Empty(t, secondResult)

	first.Callback("result")
	assert.Equal(t, []any{nil}, firstResult)
	assert.Equal(t, []any{"result"}, secondResult)
	assert.Equal(t, []string{"second", "first"}, r.calls,
		"the waiting chain goes on before the rest of the inner chain")
}

func TestReturnedFailedInnerFailsTheOuterChain(t *testing.T) {
	// Twisted's test_synchronousImplicitErrorChain.
	first := deferred.Fail[any](errA)
	second := deferred.New[any]()
	second.AddCallback(returns(first))
	second.Callback(nil)

	var firstResult []any
	first.AddCallback(func(v any) (any, error) { firstResult = append(firstResult, v); return v, nil })
	assert.Equal(t, []any{nil}, firstResult, "the error moved to second")
	assert.ErrorIs(t, failureOf(t, second), errA)
}

func TestReturnedInnerThatFailsLaterFailsTheOuterChain(t *testing.T) {
	// Twisted's test_asynchronousImplicitErrorChain.
	first := deferred.New[any]()
	second := deferred.New[any]()
	second.AddCallback(returns(first))
	second.Callback(nil)
	var secondErrors []error
	second.AddErrback(func(err error) (any, error) { secondErrors = append(secondErrors, err); return nil, nil })

	var firstResult, secondResult []any
	first.AddCallback(func(v any) (any, error) { firstResult = append(firstResult, v); return v, nil })
	second.AddCallback(func(v any) (any, error) { secondResult = append(secondResult, v); return v, nil })

	first.Errback(errA)
	require.Len(t, secondErrors, 1)
	assert.ErrorIs(t, secondErrors[0], errA)
	assert.Equal(t, []any{nil}, firstResult)
	assert.Equal(t, []any{nil}, secondResult)
}

func TestErrbackCanReturnADeferredToo(t *testing.T) {
	// Twisted's test_errbackReturnsDeferred.
	d := deferred.New[any]()
	d2 := deferred.New[any]()
	var values []any
	d.AddErrback(func(error) (any, error) { return d2, nil })
	d.AddCallback(func(v any) (any, error) { values = append(values, v); return v, nil })
	d.Errback(errA)
	requireNoResult(t, d)
	assert.Empty(t, values)
	d2.Callback("result")
	assert.Equal(t, []any{"result"}, values)
}

func TestAddBothCanReturnADeferred(t *testing.T) {
	d := deferred.New[any]()
	inner := deferred.New[any]()
	d.AddBoth(func(any, error) (any, error) { return inner, nil })
	d.Errback(errA)
	requireNoResult(t, d)
	inner.Callback("replaced")
	assert.Equal(t, "replaced", successOf(t, d))
}

func TestWaitsAreTransitive(t *testing.T) {
	// Twisted's test_doubleAsynchronousImplicitChaining.
	first := deferred.New[any]()
	second := deferred.New[any]()
	second.AddCallback(returns(first))
	third := deferred.New[any]()
	third.AddCallback(returns(second))
	var thirdResult []any
	third.AddCallback(func(v any) (any, error) { thirdResult = append(thirdResult, v); return v, nil })

	second.Callback(nil)
	third.Callback(nil)
	assert.Empty(t, thirdResult)
	first.Callback("result")
	assert.Equal(t, []any{"result"}, thirdResult)
}

func TestNestedAsynchronousChainedDeferreds(t *testing.T) {
	// Twisted's test_nestedAsynchronousChainedDeferreds and
	// test_innerCallbacksPreserved: a callback returns a fired Deferred
	// whose own chain waits on a third one.
	var results []any
	var failures []error
	inner := deferred.New[any]()
	cb := func(v any) (any, error) {
		results = append(results, "start-of-cb:"+v.(string))
		d := deferred.Succeed[any]("inner")
		d.AddCallback(func(v any) (any, error) {
			results = append(results, "firstCallback:"+v.(string))
			return inner, nil
		})
		d.AddCallback(func(v any) (any, error) {
			results = append(results, "secondCallback:"+v.(string))
			return v.(string) + v.(string), nil
		})
		d.AddErrback(func(err error) (any, error) { failures = append(failures, err); return nil, nil })
		return d, nil
	}
	outer := deferred.Succeed[any]("outer").AddCallback(cb)
	outer.AddCallback(func(v any) (any, error) { results = append(results, v); return v, nil })
	assert.Equal(t, []any{"start-of-cb:outer", "firstCallback:inner"}, results)

	inner.Callback("orange")
	inner.AddErrback(func(err error) (any, error) { failures = append(failures, err); return nil, nil })
	outer.AddErrback(func(err error) (any, error) { failures = append(failures, err); return nil, nil })
	assert.Empty(t, failures)
	assert.Equal(t, []any{
		"start-of-cb:outer",
		"firstCallback:inner",
		"secondCallback:orange",
		"orangeorange",
	}, results)
}

func TestNestedAsynchronousChainedDeferredsWithExtraCallbacks(t *testing.T) {
	// Twisted's test_nestedAsynchronousChainedDeferredsWithExtraCallbacks:
	// a callback added to the inner Deferred before it is returned
	// transforms the result the chain receives.
	var results []any
	inner := deferred.New[any]()
	cb := func(v any) (any, error) {
		results = append(results, "start-of-cb:"+v.(string))
		d := deferred.Succeed[any]("inner")
		d.AddCallback(func(v any) (any, error) {
			results = append(results, "firstCallback:"+v.(string))
			return inner.AddCallback(func(v any) (any, error) { return []string{v.(string)}, nil }), nil
		})
		d.AddCallback(func(v any) (any, error) {
			results = append(results, v)
			l := v.([]string)
			return append(l, l...), nil
		})
		return d, nil
	}
	outer := deferred.Succeed[any]("outer")
	outer.AddCallback(cb)
	outer.AddCallback(func(v any) (any, error) { results = append(results, v); return v, nil })
	assert.Equal(t, []any{"start-of-cb:outer", "firstCallback:inner"}, results)

	inner.Callback("withers")
	assert.Equal(t, []any{
		"start-of-cb:outer",
		"firstCallback:inner",
		[]string{"withers"},
		[]string{"withers", "withers"},
	}, results)
}

func TestContinuationNeedNotBeTheFirstLink(t *testing.T) {
	// Twisted's test_continueCallbackNotFirst and
	// test_callbackOrderPreserved: the Deferred returned by cb has fired
	// and waits on a, behind a link added before it started waiting.
	var results []string
	a := deferred.New[any]()
	cb := func(v any) (any, error) {
		results = append(results, "cb:"+v.(string))
		d := deferred.New[any]()
		d.AddCallback(func(any) (any, error) {
			results = append(results, "firstCallback")
			// Like gatherResults([a]): a new Deferred that a fires.
			g := deferred.New[any]()
			a.AddCallback(func(v any) (any, error) { g.Callback([]any{v}); return v, nil })
			return g, nil
		})
		d.AddCallback(func(v any) (any, error) {
			results = append(results, "secondCallback:"+v.([]any)[0].(string))
			return nil, nil
		})
		d.Callback(nil)
		return d, nil
	}
	outer := deferred.New[any]()
	outer.AddCallback(cb)
	outer.AddCallback(func(any) (any, error) { results = append(results, "final"); return nil, nil })
	outer.Callback("outer")
	assert.Equal(t, []string{"cb:outer", "firstCallback"}, results)
	a.Callback("withers")
	assert.Equal(t, []string{"cb:outer", "firstCallback", "secondCallback:withers", "final"}, results)
}

func TestCallbacksAddedToTheMiddleOfALineRunWhenTheLastFires(t *testing.T) {
	// Twisted's test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled.
	first := deferred.New[any]()
	second := deferred.New[any]()
	third := deferred.New[any]()
	first.AddCallback(returns(second))
	second.AddCallback(returns(third))
	second.Callback(nil)
	first.Callback(nil)
	third.Callback(nil)
	var results []any
	second.AddCallback(func(v any) (any, error) { results = append(results, v); return v, nil })
	assert.Equal(t, []any{nil}, results)
}

func TestTwoChainsWaitingOnOneInnerShareItInOrder(t *testing.T) {
	// The first waiting chain takes the inner result; the second gets the
	// nil that is left, as in Twisted.
	inner := deferred.New[any]()
	a := deferred.New[any]().AddCallback(returns(inner))
	b := deferred.New[any]().AddCallback(returns(inner))
	a.Callback(nil)
	b.Callback(nil)
	inner.Callback("x")
	assert.Equal(t, "x", successOf(t, a))
	assert.Nil(t, successOf(t, b))
}

func TestCallbackReturningItsOwnDeferredFails(t *testing.T) {
	// Twisted warns and then waits forever; twine makes it an error in
	// the chain.
	d := deferred.New[any]()
	d.AddCallback(func(any) (any, error) { return d, nil })
	var ran bool
	d.AddCallback(func(v any) (any, error) { ran = true; return v, nil })
	d.Callback("foo")
	assert.False(t, ran)
	err := failureOf(t, d)
	assert.Contains(t, err.Error(), "returned the Deferred it was added to")
}

func TestInnerCancelledFailsTheOuterChain(t *testing.T) {
	inner := deferred.New[any]()
	outer := deferred.New[any]()
	outer.AddCallback(returns(inner))
	outer.Callback(nil)
	inner.Cancel()
	assert.ErrorIs(t, failureOf(t, outer), deferred.ErrCancelled)
	assert.Nil(t, successOf(t, inner), "the error moved to the outer chain")
}

func TestTypedDeferredOfPointerIsNotWaitedOn(t *testing.T) {
	// Only a Deferred[any] chain treats a returned *Deferred as a wait; a
	// typed chain of *Deferred values just passes them along.
	inner := deferred.New[int]()
	d := deferred.New[*deferred.Deferred[int]]()
	d.AddCallback(func(*deferred.Deferred[int]) (*deferred.Deferred[int], error) { return inner, nil })
	d.Callback(nil)
	assert.Same(t, inner, successOf(t, d))
}

func TestCallbackAddedToWaitedOnDeferredFromOuterChainRunsAtOnce(t *testing.T) {
	// While the inner Deferred hands its result to the chain waiting on it,
	// a callback of that chain adds one to the inner Deferred (which has a
	// result, and runs no callback of its own): in Twisted it runs at once,
	// before the outer chain goes on.
	var r recorder
	inner := deferred.New[any]()
	outer := deferred.New[any]()
	outer.AddCallback(returns(inner))
	outer.Callback(nil)
	inner.AddCallback(func(v any) (any, error) { r.add("inner-x"); return v, nil })
	outer.AddCallback(func(v any) (any, error) {
		r.add("outer-cb")
		inner.AddCallback(func(v any) (any, error) { r.add("inner-y"); return v, nil })
		r.add("outer-cb-end")
		return v, nil
	})
	outer.AddCallback(func(v any) (any, error) { r.add("outer-z"); return v, nil })
	inner.Callback(1)
	assert.Equal(t, []string{"outer-cb", "inner-x", "inner-y", "outer-cb-end", "outer-z"}, r.calls)
}

func TestReturningADeferredThatIsPassingItsResultOnTakesItsCurrentResult(t *testing.T) {
	// In Twisted, once the inner Deferred has handed its result to the
	// chain waiting on it, its result is nil; a callback of that chain that
	// returns the inner Deferred again takes that nil at once, and the
	// inner chain goes on afterwards with nil.
	inner := deferred.New[any]()
	outer := deferred.New[any]()
	outer.AddCallback(returns(inner))
	outer.Callback(nil)
	var innerSaw []any
	inner.AddCallback(func(v any) (any, error) { innerSaw = append(innerSaw, v); return "inner-later", nil })
	outer.AddCallback(returns(inner))
	inner.Callback("first")
	assert.Nil(t, successOf(t, outer))
	assert.Equal(t, []any{nil}, innerSaw)
	assert.Equal(t, "inner-later", successOf(t, inner))
}
