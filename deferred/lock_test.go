package deferred_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// syncRecord appends what each step of a test saw; callbacks made by it
// pass their value on.
type syncRecord[T any] struct{ seen []string }

func (r *syncRecord[T]) note(label string) func(T) (T, error) {
	return func(v T) (T, error) {
		r.seen = append(r.seen, label)
		return v, nil
	}
}

func TestLockAcquireFiresAtOnceWhenFree(t *testing.T) {
	var l deferred.Lock
	require.False(t, l.Locked(), "the zero value is unlocked")

	d := l.Acquire()
	got, err := d.Result()
	require.NoError(t, err, "a free lock is acquired before Acquire returns")
	assert.Same(t, &l, got, "the Deferred fires with the lock itself")
	assert.True(t, l.Locked())
	assert.Zero(t, l.Waiting())
}

func TestLockReleaseHandsOverToWaiter(t *testing.T) {
	var l deferred.Lock
	count := 0
	incr := func(got *deferred.Lock) (*deferred.Lock, error) {
		assert.Same(t, &l, got)
		count++
		return got, nil
	}

	l.Acquire().AddCallback(incr)
	assert.True(t, l.Locked())
	assert.Equal(t, 1, count)

	l.Acquire().AddCallback(incr)
	assert.True(t, l.Locked())
	assert.Equal(t, 1, count, "the second Acquire waits")
	assert.Equal(t, 1, l.Waiting())

	l.Release()
	assert.True(t, l.Locked(), "the lock passed straight to the waiter")
	assert.Equal(t, 2, count, "the waiter ran before Release returned")
	assert.Zero(t, l.Waiting())

	l.Release()
	assert.False(t, l.Locked())
	assert.Equal(t, 2, count)
}

func TestLockServesWaitersInOrder(t *testing.T) {
	var l deferred.Lock
	var rec syncRecord[*deferred.Lock]
	l.Acquire()
	for i := range 5 {
		l.Acquire().AddCallback(rec.note(fmt.Sprint("w", i)))
	}
	require.Equal(t, 5, l.Waiting())
	for i := range 5 {
		l.Release()
		require.Len(t, rec.seen, i+1, "each Release serves exactly one waiter")
	}
	assert.Equal(t, []string{"w0", "w1", "w2", "w3", "w4"}, rec.seen)
	assert.True(t, l.Locked())
	l.Release()
	assert.False(t, l.Locked())
}

func TestLockReleaseUnlockedPanics(t *testing.T) {
	var l deferred.Lock
	assert.Equal(t, "deferred: Lock.Release: lock is not locked", misusePanic(t, "Lock.Release", l.Release).Error())

	l.Acquire()
	l.Release()
	assert.Contains(t, misusePanic(t, "Lock.Release", l.Release).Error(), "Lock.Release", "a second release is caught too")
	assert.False(t, l.Locked(), "the failed Release changed nothing")
}

func TestLockCancelAfterAcquiredDoesNothing(t *testing.T) {
	var l deferred.Lock
	d := l.Acquire()
	d.AddErrback(func(err error) (*deferred.Lock, error) {
		t.Errorf("unexpected errback: %v", err)
		return nil, err
	})
	d.Cancel()
	got, err := d.Result()
	require.NoError(t, err)
	assert.Same(t, &l, got)
	assert.True(t, l.Locked(), "the holder still holds the lock and must release it")
}

func TestLockCancelWaitingAcquire(t *testing.T) {
	var l deferred.Lock
	l.Acquire()
	cancelled := l.Acquire()
	var rec syncRecord[*deferred.Lock]
	next := l.Acquire().AddCallback(rec.note("next"))
	require.Equal(t, 2, l.Waiting())

	cancelled.Cancel()
	_, err := cancelled.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled, "the waiter fails at once")
	assert.Equal(t, 1, l.Waiting(), "and leaves the line")

	l.Release()
	assert.Equal(t, []string{"next"}, rec.seen, "the lock skips the cancelled waiter")
	got, err := next.Result()
	require.NoError(t, err)
	assert.Same(t, &l, got)
	l.Release()
	assert.False(t, l.Locked())
}

func TestLockCancelOnlyWaiterThenRelease(t *testing.T) {
	var l deferred.Lock
	l.Acquire()
	d := l.Acquire()
	var seen error
	d.AddBoth(func(_ *deferred.Lock, err error) (*deferred.Lock, error) {
		seen = err
		return nil, nil
	})
	d.Cancel()
	assert.ErrorIs(t, seen, deferred.ErrCancelled)
	l.Release()
	assert.False(t, l.Locked(), "nobody is left to hand the lock to")
}

// A waiter's Deferred fired by someone else while still in line (the same
// state as one cancelled just after a Release took it out) must not get the
// lock: Release passes it to the next waiter.
func TestLockSkipsWaiterFiredElsewhere(t *testing.T) {
	var l deferred.Lock
	l.Acquire()
	stray := l.Acquire()
	next := l.Acquire()
	boom := errors.New("boom")
	stray.Errback(boom)

	l.Release()
	_, err := stray.Result()
	assert.ErrorIs(t, err, boom, "the stray waiter keeps its own result")
	got, err := next.Result()
	require.NoError(t, err)
	assert.Same(t, &l, got)
	assert.Zero(t, l.Waiting())

	l.Release()
	assert.False(t, l.Locked())
}

func TestLockReleaseInsideWaiterCallbackNests(t *testing.T) {
	var l deferred.Lock
	var order []string
	l.Acquire()
	l.Acquire().AddCallback(func(held *deferred.Lock) (*deferred.Lock, error) {
		order = append(order, "A starts")
		held.Release()
		order = append(order, "A ends")
		return held, nil
	})
	l.Acquire().AddCallback(func(held *deferred.Lock) (*deferred.Lock, error) {
		order = append(order, "B")
		assert.True(t, held.Locked(), "state can be read from a callback")
		return held, nil
	})

	l.Release()
	assert.Equal(t, []string{"A starts", "B", "A ends"}, order,
		"as in Twisted, the next waiter runs inside the Release of the one before")
	assert.True(t, l.Locked(), "B holds the lock")
	l.Release()
	assert.False(t, l.Locked())
}

func TestLockAcquireInsideCallbackWaits(t *testing.T) {
	var l deferred.Lock
	var again *deferred.Deferred[*deferred.Lock]
	l.Acquire().AddCallback(func(held *deferred.Lock) (*deferred.Lock, error) {
		again = held.Acquire()
		return held, nil
	})
	require.NotNil(t, again)
	_, err := again.Result()
	assert.ErrorIs(t, err, deferred.ErrNotFired, "the lock is not reentrant")
	l.Release()
	_, err = again.Result()
	assert.NoError(t, err)
	l.Release()
	assert.False(t, l.Locked())
}

func TestLockRunWaitsForReturnedDeferred(t *testing.T) {
	var l deferred.Lock
	control := deferred.New[string]()
	called := false
	result := deferred.RunDeferred(&l, func() *deferred.Deferred[string] {
		called = true
		assert.True(t, l.Locked(), "f runs while the lock is held")
		return control
	})
	assert.True(t, called, "a free lock runs f at once")
	assert.True(t, l.Locked(), "and stays locked until f's Deferred fires")

	var order []string
	var got string
	result.AddCallback(func(s string) (string, error) {
		order = append(order, "result")
		got = s
		return s, nil
	})
	count := 0
	l.Acquire().AddCallback(func(held *deferred.Lock) (*deferred.Lock, error) {
		order = append(order, "waiter")
		count++
		return held, nil
	})
	assert.Zero(t, count)

	control.Callback("second")
	assert.Equal(t, "second", got)
	assert.Equal(t, []string{"waiter", "result"}, order,
		"the lock is released before the result passes on")
	assert.True(t, l.Locked(), "the waiter holds it now")
	assert.Equal(t, 1, count)

	var cancelErr error
	d := l.Acquire().AddBoth(func(_ *deferred.Lock, err error) (*deferred.Lock, error) {
		cancelErr = err
		return nil, nil
	})
	d.Cancel()
	assert.ErrorIs(t, cancelErr, deferred.ErrCancelled)

	l.Release()
	assert.False(t, l.Locked())
}

func TestLockRunOutcomes(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		f       func() (int, error)
		want    int
		wantErr error
	}{
		{name: "value", f: func() (int, error) { return 42, nil }, want: 42},
		{name: "error", f: func() (int, error) { return 0, boom }, wantErr: boom},
		{name: "panic", f: func() (int, error) { panic(boom) }, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l deferred.Lock
			v, err := deferred.Run(&l, tt.f).Result()
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, v)
			}
			assert.False(t, l.Locked(), "Run releases the lock whatever f does")
		})
	}
}

func TestLockRunPanicBecomesPanicError(t *testing.T) {
	var l deferred.Lock
	_, err := deferred.Run(&l, func() (int, error) { panic("oops") }).Result()
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "oops", pe.Value)
	assert.False(t, l.Locked())
}

func TestLockRunDeferredBadFunctions(t *testing.T) {
	var l deferred.Lock
	_, err := deferred.RunDeferred(&l, func() *deferred.Deferred[int] { panic("oops") }).Result()
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.False(t, l.Locked())

	_, err = deferred.RunDeferred(&l, func() *deferred.Deferred[int] { return nil }).Result()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RunDeferred")
	assert.False(t, l.Locked())

	boom := errors.New("boom")
	_, err = deferred.RunDeferred(&l, func() *deferred.Deferred[int] { return deferred.Fail[int](boom) }).Result()
	require.ErrorIs(t, err, boom)
	assert.False(t, l.Locked())
}

func TestLockRunAnyWaitsOnReturnedDeferred(t *testing.T) {
	var l deferred.Lock
	inner := deferred.New[any]()
	result := deferred.Run(&l, func() (any, error) { return inner, nil })
	assert.True(t, l.Locked(), "a *Deferred[any] from f holds the lock, as maybeDeferred would")
	inner.Callback("done")
	v, err := result.Result()
	require.NoError(t, err)
	assert.Equal(t, "done", v)
	assert.False(t, l.Locked())
}

func TestLockRunWaitsItsTurn(t *testing.T) {
	var l deferred.Lock
	l.Acquire()
	calls := 0
	result := deferred.Run(&l, func() (string, error) { calls++; return "ran", nil })
	assert.Zero(t, calls, "f waits for the lock")
	assert.Equal(t, 1, l.Waiting())

	l.Release()
	assert.Equal(t, 1, calls)
	v, err := result.Result()
	require.NoError(t, err)
	assert.Equal(t, "ran", v)
	assert.False(t, l.Locked())
}

func TestLockRunCancelBeforeAcquired(t *testing.T) {
	var l deferred.Lock
	l.Acquire()
	calls := 0
	result := deferred.Run(&l, func() (int, error) { calls++; return 1, nil })
	result.Cancel()
	_, err := result.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Zero(t, l.Waiting(), "the cancelled Run left the line")

	l.Release()
	assert.Zero(t, calls, "f of a cancelled Run never runs")
	assert.False(t, l.Locked())
}

func TestLockRunCancelWhileRunning(t *testing.T) {
	var l deferred.Lock
	innerCancelled := false
	inner := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { innerCancelled = true })
	result := deferred.RunDeferred(&l, func() *deferred.Deferred[int] { return inner })
	require.True(t, l.Locked())

	result.Cancel()
	assert.True(t, innerCancelled, "cancelling Run's Deferred cancels f's")
	_, err := result.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled)
	assert.False(t, l.Locked(), "and the lock is released")
}

func TestRunNilArgumentsPanic(t *testing.T) {
	var l deferred.Lock
	assert.Contains(t, misusePanic(t, "Run", func() { deferred.Run[int, *deferred.Lock](nil, func() (int, error) { return 0, nil }) }).Error(), "deferred: Run:")
	assert.Contains(t, misusePanic(t, "Run", func() { deferred.Run[int](&l, nil) }).Error(), "deferred: Run: nil function")
	assert.Contains(t, misusePanic(t, "RunDeferred", func() { deferred.RunDeferred[int](&l, nil) }).Error(), "deferred: RunDeferred: nil function")
	assert.False(t, l.Locked(), "a rejected Run takes no lock")
}

func TestLockMutualExclusionAcrossGoroutines(t *testing.T) {
	const workers, rounds = 8, 200
	var l deferred.Lock
	var holders atomic.Int32
	counter := 0 // guarded by l only: the race detector checks the hand-offs
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				if _, err := l.Acquire().Wait(context.Background()); !assert.NoError(t, err) {
					return
				}
				if n := holders.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				counter++
				holders.Add(-1)
				l.Release()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, workers*rounds, counter)
	assert.False(t, l.Locked())
	assert.Zero(t, l.Waiting())
}

func TestLockRunAcrossGoroutines(t *testing.T) {
	const workers, rounds = 4, 100
	var l deferred.Lock
	counter := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				_, err := deferred.Run(&l, func() (int, error) {
					counter++
					return counter, nil
				}).Wait(context.Background())
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, workers*rounds, counter)
	assert.False(t, l.Locked())
}

// A cancellation racing with the Release that pops the waiter ends one of
// two ways, and never with a cancelled holder or a lost lock.
func TestLockCancelRacesRelease(t *testing.T) {
	for range 300 {
		var l deferred.Lock
		l.Acquire()
		w := l.Acquire()
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; l.Release() })
		wg.Go(func() { <-start; w.Cancel() })
		close(start)
		wg.Wait()

		got, err := w.Result()
		if err != nil {
			require.ErrorIs(t, err, deferred.ErrCancelled)
			require.False(t, l.Locked(), "a cancelled waiter does not hold the lock")
		} else {
			require.Same(t, &l, got)
			require.True(t, l.Locked(), "the waiter won and holds the lock")
			l.Release()
		}
		require.Zero(t, l.Waiting())
		require.False(t, l.Locked())
	}
}

// A long line of waiters whose callbacks release at once nests like
// Twisted's only up to a bound; past it the hand-offs run one after another,
// still in order, so the stack stays small however long the line.
func TestLockLongLineOfQuickHoldersStaysShallow(t *testing.T) {
	const n = 10000
	var l deferred.Lock
	l.Acquire()
	open, deepest := 0, 0
	var served []int
	for i := range n {
		l.Acquire().AddCallback(func(held *deferred.Lock) (*deferred.Lock, error) {
			served = append(served, i)
			open++
			deepest = max(deepest, open)
			held.Release()
			open--
			return held, nil
		})
	}
	l.Release()
	require.Len(t, served, n)
	for i, v := range served {
		require.Equal(t, i, v, "waiters are served in order")
	}
	assert.Greater(t, deepest, 50, "short lines nest as in Twisted")
	assert.LessOrEqual(t, deepest, 100, "long lines do not recurse")
	assert.False(t, l.Locked())
}

func TestLockLongLineOfRuns(t *testing.T) {
	const n = 20000
	var l deferred.Lock
	l.Acquire()
	results := make([]*deferred.Deferred[int], n)
	for i := range results {
		results[i] = deferred.Run(&l, func() (int, error) { return i, nil })
	}
	l.Release()
	for i, d := range results {
		v, err := d.Result()
		require.NoError(t, err)
		require.Equal(t, i, v)
	}
	assert.False(t, l.Locked())
}

// A waiter that a deep Release has chosen but not fired yet, and that is
// cancelled in that gap, never gets the lock: it passes to the next waiter.
func TestLockRelayedWaiterCancelled(t *testing.T) {
	const deep = 150
	var l deferred.Lock
	l.Acquire()
	ds := make([]*deferred.Deferred[*deferred.Lock], deep)
	for i := range ds {
		ds[i] = l.Acquire()
	}
	victim, after := l.Acquire(), l.Acquire()
	for i, d := range ds {
		d.AddCallback(func(held *deferred.Lock) (*deferred.Lock, error) {
			held.Release()
			if i == deep-1 {
				victim.Cancel()
			}
			return held, nil
		})
	}

	l.Release()
	_, err := victim.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled)
	got, err := after.Result()
	require.NoError(t, err, "the lock went past the cancelled waiter")
	assert.Same(t, &l, got)
	assert.True(t, l.Locked())
	assert.Zero(t, l.Waiting())
	l.Release()
	assert.False(t, l.Locked())
}
