package deferred_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// TestSemaphoreHandsOutTokens follows Twisted's testSemaphore: a Run that
// holds a token until its Deferred fires, then the whole limit taken,
// a cancelled waiter, and a waiter served by a Release.
func TestSemaphoreHandsOutTokens(t *testing.T) {
	const n = 13
	sem := deferred.NewSemaphore(n)
	count := 0
	incr := func(s *deferred.Semaphore) (*deferred.Semaphore, error) {
		assert.Same(t, sem, s, "the Deferred fires with the semaphore itself")
		count++
		return s, nil
	}

	control := deferred.New[string]()
	arg := ""
	result := deferred.RunDeferred(sem, func() *deferred.Deferred[string] {
		arg = "called"
		return control
	})
	var results []string
	result.AddCallback(func(s string) (string, error) { results = append(results, s); return s, nil })
	assert.Equal(t, "called", arg)
	assert.Empty(t, results)
	assert.Equal(t, n-1, sem.Tokens(), "Run holds a token while f's Deferred is pending")
	control.Callback("done")
	assert.Equal(t, []string{"done"}, results)
	assert.Equal(t, n, sem.Tokens())

	for i := 1; i <= n; i++ {
		sem.Acquire().AddCallback(incr)
		assert.Equal(t, i, count, "a free token is taken before Acquire returns")
	}
	assert.Zero(t, sem.Tokens())

	var outcome []string
	d := sem.Acquire().AddCallbacks(
		func(s *deferred.Semaphore) (*deferred.Semaphore, error) {
			outcome = append(outcome, "callback")
			return s, nil
		},
		func(err error) (*deferred.Semaphore, error) {
			assert.ErrorIs(t, err, deferred.ErrCancelled)
			outcome = append(outcome, "errback")
			return nil, nil
		})
	d.Cancel()
	assert.Equal(t, []string{"errback"}, outcome)
	assert.Zero(t, sem.Waiting())

	sem.Acquire().AddCallback(incr)
	assert.Equal(t, n, count, "no token is free")
	sem.Release()
	assert.Equal(t, n+1, count, "the released token went to the waiter")
	assert.Zero(t, sem.Tokens())

	for i := 1; i <= n; i++ {
		sem.Release()
		assert.Equal(t, n+1, count)
		assert.Equal(t, i, sem.Tokens())
	}
	assert.Equal(t, sem.Limit(), sem.Tokens())
}

func TestNewSemaphoreRejectsTooFewTokens(t *testing.T) {
	for _, tokens := range []int{0, -1} {
		t.Run(fmt.Sprint(tokens), func(t *testing.T) {
			assert.Equal(t, "deferred: NewSemaphore: tokens must be at least 1",
				misusePanic(t, "NewSemaphore", func() { deferred.NewSemaphore(tokens) }).Error())
		})
	}
}

func TestSemaphoreZeroValuePanics(t *testing.T) {
	var s deferred.Semaphore
	assert.Contains(t, misusePanic(t, "Semaphore.Acquire", func() { s.Acquire() }).Error(), "deferred: Semaphore.Acquire: Semaphore not made by NewSemaphore")
	assert.Contains(t, misusePanic(t, "Semaphore.Release", s.Release).Error(), "deferred: Semaphore.Release: Semaphore not made by NewSemaphore")
}

func TestSemaphoreReleaseTooOftenPanics(t *testing.T) {
	sem := deferred.NewSemaphore(2)
	assert.Equal(t, "deferred: Semaphore.Release: released more often than acquired", misusePanic(t, "Semaphore.Release", sem.Release).Error())
	sem.Acquire()
	sem.Release()
	assert.Contains(t, misusePanic(t, "Semaphore.Release", sem.Release).Error(), "Semaphore.Release")
	assert.Equal(t, 2, sem.Tokens(), "the failed Release changed nothing")
}

func TestSemaphoreCancelAfterAcquiredDoesNothing(t *testing.T) {
	sem := deferred.NewSemaphore(1)
	d := sem.Acquire()
	d.AddErrback(func(err error) (*deferred.Semaphore, error) {
		t.Errorf("unexpected errback: %v", err)
		return nil, err
	})
	d.Cancel()
	got, err := d.Result()
	require.NoError(t, err)
	assert.Same(t, sem, got)
	assert.Zero(t, sem.Tokens(), "the holder keeps its token")
}

func TestSemaphoreCancelWaitingAcquire(t *testing.T) {
	sem := deferred.NewSemaphore(1)
	sem.Acquire()
	d := sem.Acquire()
	require.Equal(t, 1, sem.Waiting())
	d.Cancel()
	_, err := d.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled, "the waiter fails at once")
	assert.Zero(t, sem.Waiting())
	sem.Release()
	assert.Equal(t, 1, sem.Tokens(), "the token is not given to the cancelled waiter")
}

func TestSemaphoreServesWaitersInOrder(t *testing.T) {
	sem := deferred.NewSemaphore(2)
	sem.Acquire()
	sem.Acquire()
	var rec syncRecord[*deferred.Semaphore]
	for i := range 4 {
		sem.Acquire().AddCallback(rec.note(fmt.Sprint("w", i)))
	}
	assert.Equal(t, 4, sem.Waiting())
	assert.Zero(t, sem.Tokens())

	for i := range 4 {
		sem.Release()
		require.Len(t, rec.seen, i+1, "each Release serves exactly one waiter")
		assert.Equal(t, 3-i, sem.Waiting())
		assert.Zero(t, sem.Tokens(), "a token passed on is never free")
	}
	assert.Equal(t, []string{"w0", "w1", "w2", "w3"}, rec.seen)
	sem.Release()
	sem.Release()
	assert.Equal(t, 2, sem.Tokens())
}

// A waiter fired by someone else while in line is passed over, as one
// cancelled just after a Release took it out of the line would be.
func TestSemaphoreSkipsWaiterFiredElsewhere(t *testing.T) {
	sem := deferred.NewSemaphore(1)
	sem.Acquire()
	stray := sem.Acquire()
	next := sem.Acquire()
	stray.Callback(nil)

	sem.Release()
	got, err := stray.Result()
	require.NoError(t, err)
	assert.Nil(t, got, "the stray waiter keeps its own result")
	got, err = next.Result()
	require.NoError(t, err)
	assert.Same(t, sem, got)
	assert.Zero(t, sem.Tokens())
	sem.Release()
	assert.Equal(t, 1, sem.Tokens())
}

func TestSemaphoreRunBoundsConcurrency(t *testing.T) {
	const limit, jobs = 3, 10
	sem := deferred.NewSemaphore(limit)
	pending := make([]*deferred.Deferred[int], jobs)
	var started []int
	results := make([]*deferred.Deferred[int], jobs)
	for i := range jobs {
		pending[i] = deferred.New[int]()
		results[i] = deferred.RunDeferred(sem, func() *deferred.Deferred[int] {
			started = append(started, i)
			return pending[i]
		})
	}
	assert.Equal(t, []int{0, 1, 2}, started, "only limit jobs start")
	assert.Equal(t, jobs-limit, sem.Waiting())

	for i := range jobs {
		pending[i].Callback(i * i)
		v, err := results[i].Result()
		require.NoError(t, err)
		assert.Equal(t, i*i, v)
		assert.Len(t, started, min(jobs, i+1+limit), "each finished job lets the next start")
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, started)
	assert.Equal(t, limit, sem.Tokens())
}

func TestSemaphoreRunCancelBeforeAcquired(t *testing.T) {
	sem := deferred.NewSemaphore(1)
	sem.Acquire()
	calls := 0
	result := deferred.Run(sem, func() (int, error) { calls++; return 0, nil })
	result.Cancel()
	_, err := result.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled)
	sem.Release()
	assert.Zero(t, calls)
	assert.Equal(t, 1, sem.Tokens())
}

func TestSemaphoreBoundsHoldersAcrossGoroutines(t *testing.T) {
	const limit, workers, rounds = 3, 8, 200
	sem := deferred.NewSemaphore(limit)
	var active, peak atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				if _, err := sem.Acquire().Wait(context.Background()); !assert.NoError(t, err) {
					return
				}
				n := active.Add(1)
				if n > limit {
					t.Errorf("%d holders at once, limit %d", n, limit)
				}
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				active.Add(-1)
				sem.Release()
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int32(limit))
	assert.Equal(t, limit, sem.Tokens())
	assert.Zero(t, sem.Waiting())
}

func TestSemaphoreCancelRacesRelease(t *testing.T) {
	for range 300 {
		sem := deferred.NewSemaphore(1)
		sem.Acquire()
		w := sem.Acquire()
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; sem.Release() })
		wg.Go(func() { <-start; w.Cancel() })
		close(start)
		wg.Wait()

		if _, err := w.Result(); err != nil {
			require.ErrorIs(t, err, deferred.ErrCancelled)
			require.Equal(t, 1, sem.Tokens(), "a cancelled waiter holds no token")
		} else {
			require.Zero(t, sem.Tokens(), "the waiter won and holds the token")
			sem.Release()
		}
		require.Equal(t, 1, sem.Tokens())
		require.Zero(t, sem.Waiting())
	}
}

func TestSemaphoreLongLineOfQuickHoldersStaysShallow(t *testing.T) {
	const n = 10000
	sem := deferred.NewSemaphore(2)
	sem.Acquire()
	sem.Acquire()
	open, deepest, served := 0, 0, 0
	for range n {
		sem.Acquire().AddCallback(func(s *deferred.Semaphore) (*deferred.Semaphore, error) {
			served++
			open++
			deepest = max(deepest, open)
			s.Release()
			open--
			return s, nil
		})
	}
	sem.Release()
	assert.Equal(t, n, served)
	assert.LessOrEqual(t, deepest, 100, "long lines do not recurse")
	assert.Equal(t, 1, sem.Tokens(), "one token is still held")
	sem.Release()
	assert.Equal(t, 2, sem.Tokens())
}

func TestSemaphoreRelayedWaiterCancelled(t *testing.T) {
	const deep = 150
	sem := deferred.NewSemaphore(1)
	sem.Acquire()
	ds := make([]*deferred.Deferred[*deferred.Semaphore], deep)
	for i := range ds {
		ds[i] = sem.Acquire()
	}
	victim := sem.Acquire()
	for i, d := range ds {
		d.AddCallback(func(s *deferred.Semaphore) (*deferred.Semaphore, error) {
			s.Release()
			if i == deep-1 {
				victim.Cancel()
			}
			return s, nil
		})
	}
	sem.Release()
	_, err := victim.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Equal(t, 1, sem.Tokens(), "the token came back instead of going to the cancelled waiter")
	assert.Zero(t, sem.Waiting())
}
