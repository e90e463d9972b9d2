package reactor_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

func TestBlockingCallRunsOnTheReactor(t *testing.T) {
	r, _ := newReactor()
	stop := start(t, r)
	state := 0 // owned by the reactor goroutine
	for range 3 {
		v, err := reactor.BlockingCall(t.Context(), r, func() (int, error) {
			require.True(t, reactor.OnReactor(r))
			state++
			return state, nil
		})
		require.NoError(t, err)
		assert.Positive(t, v)
	}
	v, err := reactor.BlockingCall(t.Context(), r, func() (int, error) { return state, nil })
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	stop()
}

func TestBlockingCallErrorsAndPanics(t *testing.T) {
	r, _ := newReactor()
	stop := start(t, r)
	boom := errors.New("boom")
	_, err := reactor.BlockingCall(t.Context(), r, func() (int, error) { return 0, boom })
	assert.ErrorIs(t, err, boom)
	_, err = reactor.BlockingCall(t.Context(), r, func() (int, error) { panic("kaboom") })
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "kaboom", pe.Value)
	_, err = reactor.BlockingCallDeferred(t.Context(), r, func() *deferred.Deferred[int] { return nil })
	require.ErrorAs(t, err, &pe)
	stop()
}

func TestBlockingCallDeferredWaitsForTheDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		stop := start(t, r)
		t0 := time.Now()
		v, err := reactor.BlockingCallDeferred(t.Context(), r, func() *deferred.Deferred[string] {
			d := deferred.New[string]()
			r.CallLater(2*time.Second, func() { d.Callback("later") })
			return d
		})
		require.NoError(t, err)
		assert.Equal(t, "later", v)
		assert.Equal(t, 2*time.Second, since(t0))

		_, err = reactor.BlockingCallDeferred(t.Context(), r, func() *deferred.Deferred[string] {
			return deferred.Fail[string](errors.New("failed later"))
		})
		assert.EqualError(t, err, "failed later")
		stop()
	})
}

func TestBlockingCallOnTheReactorReturnsAnError(t *testing.T) {
	r, _ := newReactor()
	var err error
	ran := false
	r.CallWhenRunning(func() {
		_, err = reactor.BlockingCall(context.Background(), r, func() (int, error) { ran = true; return 1, nil })
		_ = r.Stop()
	})
	require.NoError(t, r.Run())
	assert.ErrorIs(t, err, reactor.ErrOnReactor)
	assert.False(t, ran)
}

func TestBlockingCallAfterShutdown(t *testing.T) {
	r, _ := newReactor()
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	_, err := reactor.BlockingCall(t.Context(), r, func() (int, error) { return 1, nil })
	assert.ErrorIs(t, err, reactor.ErrNotRunning)
}

func TestBlockingCallGivesUpWhenTheContextIsDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		stop := start(t, r)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := reactor.BlockingCallDeferred(ctx, r, func() *deferred.Deferred[int] {
			return deferred.New[int]() // never fires
		})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		stop()
	})
}

func TestBlockingCallMisuse(t *testing.T) {
	r := reactor.New()
	f := func() (int, error) { return 0, nil }
	//lint:ignore SA1012 a nil context is the misuse under test
	assert.PanicsWithValue(t, "reactor: BlockingCall: nil context", func() { _, _ = reactor.BlockingCall(nil, r, f) })
	assert.PanicsWithValue(t, "reactor: BlockingCall: nil reactor", func() { _, _ = reactor.BlockingCall(t.Context(), nil, f) })
	assert.PanicsWithValue(t, "reactor: BlockingCall: nil function", func() { _, _ = reactor.BlockingCall[int](t.Context(), r, nil) })
	assert.PanicsWithValue(t, "reactor: BlockingCallDeferred: nil function", func() {
		_, _ = reactor.BlockingCallDeferred[int](t.Context(), r, nil)
	})
}
