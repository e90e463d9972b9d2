package deferred_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

func TestCallbackChainOrder(t *testing.T) {
	var calls []string
	d := deferred.New[int]()
	d.AddCallback(func(n int) (int, error) { calls = append(calls, "cb1"); return n + 1, nil })
	d.AddErrback(func(error) (int, error) { calls = append(calls, "eb-skipped"); return 0, nil })
	d.AddCallback(func(n int) (int, error) { calls = append(calls, "cb2"); return n * 10, nil })
	require.False(t, d.Called())
	d.Callback(1)
	v, err := d.Result()
	require.NoError(t, err)
	assert.Equal(t, 20, v)
	assert.Equal(t, []string{"cb1", "cb2"}, calls)
}

func TestErrorSwitchesPaths(t *testing.T) {
	boom := errors.New("boom")
	var seen []string
	d := deferred.New[int]()
	d.AddCallback(func(int) (int, error) { seen = append(seen, "cb"); return 0, boom })
	d.AddCallback(func(int) (int, error) { seen = append(seen, "skipped"); return 0, nil })
	d.AddErrback(func(err error) (int, error) {
		seen = append(seen, "eb")
		assert.ErrorIs(t, err, boom)
		return 7, nil
	})
	d.AddCallback(func(n int) (int, error) { seen = append(seen, "cb-after"); return n, nil })
	d.Callback(0)
	v, err := d.Result()
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	assert.Equal(t, []string{"cb", "eb", "cb-after"}, seen)
}

func TestFireTwicePanics(t *testing.T) {
	d := deferred.Succeed(1)
	defer func() {
		r := recover()
		err, ok := r.(error)
		require.True(t, ok)
		assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
		assert.Contains(t, err.Error(), "Deferred.Callback")
	}()
	d.Callback(2)
	t.Fatal("second Callback did not panic")
}

func TestReturnedDeferredPausesChain(t *testing.T) {
	inner := deferred.New[any]()
	outer := deferred.New[any]()
	outer.AddCallback(func(any) (any, error) { return inner, nil })
	var got any
	outer.AddCallback(func(v any) (any, error) { got = v; return v, nil })
	outer.Callback("first")
	assert.Nil(t, got)
	_, err := outer.Result()
	assert.ErrorIs(t, err, deferred.ErrNotFired)
	inner.Callback("second")
	assert.Equal(t, "second", got)
	iv, err := inner.Result()
	require.NoError(t, err)
	assert.Nil(t, iv, "the inner Deferred's result passes to the outer one")
}

func TestCancelReachesWaitedDeferred(t *testing.T) {
	innerCancelled := false
	inner := deferred.NewWithCanceller(func(*deferred.Deferred[any]) { innerCancelled = true })
	outer := deferred.New[any]()
	outer.AddCallback(func(any) (any, error) { return inner, nil })
	outer.Callback(nil)
	outer.Cancel()
	assert.True(t, innerCancelled)
	_, err := outer.Result()
	assert.ErrorIs(t, err, deferred.ErrCancelled)
}

func TestCancelWithoutCancellerIgnoresLateCallback(t *testing.T) {
	d := deferred.New[int]()
	d.Cancel()
	d.Callback(3) // ignored
	_, err := d.Result()
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Panics(t, func() { d.Callback(4) })
}

func TestPanicInCallbackBecomesPanicError(t *testing.T) {
	d := deferred.New[int]()
	d.AddCallback(func(int) (int, error) { panic("oops") })
	d.Callback(1)
	_, err := d.Result()
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "oops", pe.Value)
	assert.NotEmpty(t, pe.Stack)
}

func TestThenDeferredTypedChain(t *testing.T) {
	d := deferred.New[int]()
	inner := deferred.New[string]()
	s := deferred.ThenDeferred(d, func(n int) *deferred.Deferred[string] { return inner })
	d.Callback(1)
	_, err := s.Result()
	require.ErrorIs(t, err, deferred.ErrNotFired)
	inner.Callback("done")
	v, err := s.Result()
	require.NoError(t, err)
	assert.Equal(t, "done", v)
}
