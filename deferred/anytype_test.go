package deferred_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// A Deferred of any element type is a Deferred: a callback of a
// Deferred[any] that returns a *Deferred[U], whatever U, pauses the chain
// until that one fires, and the chain goes on with its result as an any,
// as a returned *Deferred[any] does and as Twisted does for any Deferred.
// These re-express test_defer.py's tests of Deferreds returned from
// callbacks with an inner Deferred of another type than the outer one.

// Twisted's testReturnDeferred.
func TestReturnTypedDeferredFromCallback(t *testing.T) {
	d1 := deferred.New[any]()
	d2 := deferred.New[int]()
	d2.Pause()
	d1.AddCallback(func(any) (any, error) { return d2, nil })
	var got []any
	d1.AddCallback(func(v any) (any, error) { got = append(got, v); return v, nil })
	d1.Callback(1)
	assert.Empty(t, got, "should not have been called yet")
	d2.Callback(2)
	assert.Empty(t, got, "still should not have been called yet")
	d2.Unpause()
	assert.Equal(t, []any{2}, got, "the result is the second Deferred's, as an any")
}

// Twisted's test_chainedPausedDeferredWithResult.
func TestChainedPausedTypedDeferredWithResult(t *testing.T) {
	paused := deferred.Succeed("expected")
	paused.Pause()
	chained := deferred.New[any]()
	chained.AddCallback(func(any) (any, error) { return paused, nil })
	chained.Callback(nil)
	var got []any
	chained.AddCallback(func(v any) (any, error) { got = append(got, v); return v, nil })
	assert.Empty(t, got)
	paused.Unpause()
	assert.Equal(t, []any{"expected"}, got)
}

// Twisted's test_pausedDeferredChained.
func TestPausedDeferredChainedToATypedOne(t *testing.T) {
	first := deferred.New[any]()
	second := deferred.New[struct{}]()
	first.AddCallback(func(any) (any, error) { return second, nil })
	first.Callback(nil)
	first.Pause()
	second.Callback(struct{}{})
	var got []struct{}
	second.AddCallback(func(v struct{}) (struct{}, error) { got = append(got, v); return v, nil })
	assert.Equal(t, []struct{}{{}}, got, "a paused waiter does not hold the waited-on chain back")
	first.Unpause()
	assert.Equal(t, struct{}{}, successOf(t, first), "first waited on second and took its result")
}

// Twisted's test_synchronousImplicitChain and
// test_asynchronousImplicitChain: the waiting chain takes the result, and
// the waited-on Deferred is left with the zero value.
func TestImplicitChainToATypedDeferred(t *testing.T) {
	t.Run("synchronous", func(t *testing.T) {
		first := deferred.Succeed("result")
		second := deferred.New[any]()
		second.AddCallback(func(any) (any, error) { return first, nil })
		second.Callback(nil)
		assert.Equal(t, "", successOf(t, first))
		assert.Equal(t, "result", successOf(t, second))
	})
	t.Run("asynchronous", func(t *testing.T) {
		first := deferred.New[string]()
		second := deferred.New[any]()
		second.AddCallback(func(any) (any, error) { return first, nil })
		second.Callback(nil)
		var firstResult, secondResult []any
		first.AddCallback(func(s string) (string, error) { firstResult = append(firstResult, s); return s, nil })
		second.AddCallback(func(v any) (any, error) { secondResult = append(secondResult, v); return v, nil })
		assert.Empty(t, firstResult)
		assert.Empty(t, secondResult)
		first.Callback("result")
		assert.Equal(t, []any{""}, firstResult)
		assert.Equal(t, []any{"result"}, secondResult)
	})
}

// Twisted's test_synchronousImplicitErrorChain and
// test_asynchronousImplicitErrorChain: the error moves to the waiting
// chain, and the waited-on Deferred holds no error afterwards.
func TestImplicitErrorChainToATypedDeferred(t *testing.T) {
	t.Run("synchronous", func(t *testing.T) {
		first := deferred.Fail[int](errA)
		second := deferred.New[any]()
		second.AddCallback(func(any) (any, error) { return first, nil })
		second.Callback(nil)
		assert.Equal(t, 0, successOf(t, first))
		assert.ErrorIs(t, failureOf(t, second), errA)
	})
	t.Run("asynchronous", func(t *testing.T) {
		first := deferred.New[int]()
		second := deferred.New[any]()
		second.AddCallback(func(any) (any, error) { return first, nil })
		second.Callback(nil)
		var secondError error
		second.AddErrback(func(err error) (any, error) { secondError = err; return nil, nil })
		requireNoResult(t, second)
		first.Errback(errA)
		assert.ErrorIs(t, secondError, errA)
		assert.Equal(t, 0, successOf(t, first))
	})
}

// Twisted's test_doubleAsynchronousImplicitChaining, with Deferreds of
// three types: waiting is transitive.
func TestDoubleAsynchronousImplicitChainingAcrossTypes(t *testing.T) {
	first := deferred.New[[]byte]()
	second := deferred.New[any]()
	second.AddCallback(func(any) (any, error) { return first, nil })
	third := deferred.New[any]()
	third.AddCallback(func(any) (any, error) { return second, nil })
	var thirdResult []any
	third.AddCallback(func(v any) (any, error) { thirdResult = append(thirdResult, v); return v, nil })
	second.Callback(nil)
	third.Callback(nil)
	assert.Empty(t, thirdResult)
	first.Callback([]byte("result"))
	assert.Equal(t, []any{[]byte("result")}, thirdResult)
}

// Twisted's test_nestedAsynchronousChainedDeferreds, with the inner
// Deferreds typed: the outer chain goes on when the innermost fires.
func TestNestedAsynchronousChainedTypedDeferreds(t *testing.T) {
	var results []any
	inner := deferred.New[string]()
	cb := func(v any) (any, error) {
		results = append(results, "start-of-cb "+v.(string))
		d := deferred.ThenDeferred(deferred.Succeed("inner"), func(s string) *deferred.Deferred[string] {
			results = append(results, "firstCallback "+s)
			return inner
		})
		d.AddCallback(func(s string) (string, error) {
			results = append(results, "secondCallback "+s)
			return s + s, nil
		})
		return d, nil
	}
	outer := deferred.Succeed[any]("outer")
	outer.AddCallback(cb)
	outer.AddCallback(func(v any) (any, error) { results = append(results, v); return v, nil })
	assert.Equal(t, []any{"start-of-cb outer", "firstCallback inner"}, results)

	inner.Callback("orange")
	assert.Equal(t, []any{"start-of-cb outer", "firstCallback inner", "secondCallback orange", "orangeorange"}, results)
	assert.Equal(t, "orangeorange", successOf(t, outer))
}

// Twisted's test_cancelNestedDeferred: cancelling the waiting chain
// cancels the typed Deferred it waits on.
func TestCancelReachesAWaitedOnTypedDeferred(t *testing.T) {
	cancelled := false
	inner := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled = true })
	outer := deferred.New[any]()
	outer.AddCallback(func(any) (any, error) { return inner, nil })
	outer.Callback(nil)
	outer.Cancel()
	assert.True(t, cancelled)
	assert.ErrorIs(t, failureOf(t, outer), deferred.ErrCancelled)
}

func TestThenMaybeAndAsyncWaitOnTypedDeferreds(t *testing.T) {
	inner := deferred.New[string]()
	then := deferred.Then(deferred.Succeed(1), func(int) (any, error) { return inner, nil })
	maybe := deferred.Maybe(func() (any, error) { return deferred.Succeed(3.5), nil })
	async := deferred.Async(func(*deferred.Awaiter) (any, error) { return deferred.Succeed(uint8(7)), nil })
	requireNoResult(t, then)
	inner.Callback("late")
	assert.Equal(t, "late", successOf(t, then))
	assert.Equal(t, 3.5, successOf(t, maybe))
	assert.Equal(t, uint8(7), successOf(t, async))
}

// What cannot work fails where the mistake is: a nil Deferred returned
// from a callback fails the chain, and firing a Deferred[any] with a
// Deferred of any type panics, as Twisted refuses a Deferred as a result.
func TestMisusedTypedDeferredsFailLoudly(t *testing.T) {
	for name, v := range map[string]any{
		"nil *Deferred[string]": (*deferred.Deferred[string])(nil),
		"nil *Deferred[any]":    (*deferred.Deferred[any])(nil),
	} {
		t.Run(name, func(t *testing.T) {
			d := deferred.New[any]()
			var after []string
			d.AddCallback(func(any) (any, error) { return v, nil })
			d.AddErrback(func(err error) (any, error) { after = append(after, "errback"); return nil, err })
			d.Callback(nil)
			assert.ErrorContains(t, failureOf(t, d), "nil Deferred")
			assert.Equal(t, []string{"errback"}, after)

			then := deferred.Then(deferred.Succeed(1), func(int) (any, error) { return v, nil })
			assert.ErrorContains(t, failureOf(t, then), "deferred: Then: nil Deferred")
			maybe := deferred.Maybe(func() (any, error) { return v, nil })
			require.NotNil(t, maybe)
			assert.ErrorContains(t, failureOf(t, maybe), "deferred: Maybe: nil Deferred")
		})
	}
	misusePanic(t, "Deferred.Callback", func() { deferred.New[any]().Callback(deferred.New[string]()) })
	misusePanic(t, "Succeed", func() { deferred.Succeed[any](deferred.New[int]()) })
}

func TestOnCompleteConsumesTheResult(t *testing.T) {
	var got []error
	ok := deferred.New[int]()
	ok.OnComplete(func(err error) { got = append(got, err) })
	ok.Callback(5)
	failed := deferred.Fail[string](errA)
	failed.OnComplete(func(err error) { got = append(got, err) })
	assert.Equal(t, []error{nil, errA}, got)
	assert.Equal(t, 0, successOf(t, ok))
	assert.Equal(t, "", successOf(t, failed), "the error was handed to done, and counts as handled")
	misusePanic(t, "Deferred.OnComplete", func() { ok.OnComplete(nil) })
	misusePanic(t, "Deferred.OnComplete", func() { (*deferred.Deferred[int])(nil).OnComplete(func(error) {}) })
}
