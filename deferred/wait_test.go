package deferred_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

func TestWaitOnAFiredDeferredReturnsAndConsumesItsResult(t *testing.T) {
	d := deferred.Succeed(3)
	v, err := d.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	assert.Equal(t, 0, successOf(t, d), "Wait took the result, as an await does")

	f := deferred.Fail[int](errA)
	_, err = f.Wait(context.Background())
	assert.Same(t, errA, err)
	assert.Equal(t, 0, successOf(t, f), "the error was handed to the waiter")
}

func TestWaitBlocksUntilAnotherGoroutineFires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := deferred.New[string]()
		var fired sync.WaitGroup
		fired.Go(func() {
			synctest.Wait() // until the test goroutine is blocked in Wait
			d.Callback("from afar")
		})
		v, err := d.Wait(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "from afar", v)
		fired.Wait()
	})
}

func TestWaitReturnsWhenTheContextIsDoneAndLeavesTheResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		d := deferred.New[int]()
		var cancelled sync.WaitGroup
		cancelled.Go(func() {
			synctest.Wait()
			cancel()
		})
		_, err := d.Wait(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		cancelled.Wait()
		assert.False(t, d.Called(), "Wait does not cancel the Deferred")

		d.Callback(7)
		assert.Equal(t, 7, successOf(t, d), "the result passes the abandoned waiter untouched")
		var seen int
		d.AddCallback(func(n int) (int, error) { seen = n; return n, nil })
		assert.Equal(t, 7, seen)
	})
}

func TestWaitWithAContextAlreadyDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := deferred.New[int]()
	_, err := d.Wait(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	d.Errback(errA)
	assert.Same(t, errA, failureOf(t, d), "the error stays in the chain")
	d.AddErrback(func(error) (int, error) { return 0, nil })
}

func TestWaitRacingTheContextGivesOneConsistentOutcome(t *testing.T) {
	for range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		d := deferred.New[int]()
		var wg sync.WaitGroup
		wg.Go(func() { d.Callback(5) })
		wg.Go(cancel)
		v, err := d.Wait(ctx)
		wg.Wait()
		if err == nil {
			assert.Equal(t, 5, v)
			assert.Equal(t, 0, successOf(t, d), "the waiter took the result")
		} else {
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 5, successOf(t, d), "the result stayed in the chain")
		}
	}
}

func TestWithContextCancelsWhenTheContextIsDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var cancelled int
		d := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled++ })
		assert.Same(t, d, deferred.WithContext(ctx, d))
		cancel()
		synctest.Wait()
		assert.Equal(t, 1, cancelled)
		assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)
	})
}

func TestWithContextAlreadyDoneCancelsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		d := deferred.WithContext(ctx, deferred.New[int]())
		synctest.Wait()
		assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)
	})
}

func TestWithContextStopsWatchingOnceTheResultPasses(t *testing.T) {
	// After d's result has passed the WithContext step, the context no
	// longer cancels anything, not even a Deferred the chain waits on
	// later; and no goroutine is left behind (synctest.Test fails if one
	// is).
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		d := deferred.WithContext(ctx, deferred.New[any]())
		d.Callback(nil)
		var innerCancelled int
		inner := deferred.NewWithCanceller(func(*deferred.Deferred[any]) { innerCancelled++ })
		d.AddCallback(returns(inner))
		cancel()
		synctest.Wait()
		assert.Equal(t, 0, innerCancelled)
		requireNoResult(t, d)
		inner.Callback("done")
		assert.Equal(t, "done", successOf(t, d))
	})
}

func TestWithContextCancelReachesTheDeferredTheChainWaitsOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var innerCancelled int
		inner := deferred.NewWithCanceller(func(*deferred.Deferred[any]) { innerCancelled++ })
		d := deferred.New[any]()
		d.AddCallback(returns(inner))
		d.Callback(nil)
		deferred.WithContext(ctx, d)
		cancel()
		synctest.Wait()
		assert.Equal(t, 1, innerCancelled)
		assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)
	})
}
