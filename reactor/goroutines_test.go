package reactor_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

func TestDeferToGoroutineFiresOnTheReactor(t *testing.T) {
	r, _ := newReactor()
	var inWorker, inCallback bool
	var got int
	r.CallWhenRunning(func() {
		d := reactor.DeferToGoroutine(r, func() (int, error) {
			inWorker = reactor.OnReactor(r)
			return 42, nil
		})
		d.AddCallback(func(v int) (int, error) {
			got, inCallback = v, reactor.OnReactor(r)
			_ = r.Stop()
			return v, nil
		})
	})
	require.NoError(t, r.Run())
	assert.Equal(t, 42, got)
	assert.False(t, inWorker, "f runs on another goroutine")
	assert.True(t, inCallback, "the result fires on the reactor goroutine")
}

func TestDeferToGoroutineErrorsAndPanics(t *testing.T) {
	r, _ := newReactor()
	boom := errors.New("boom")
	var failed, panicked error
	r.CallWhenRunning(func() {
		d1 := reactor.DeferToGoroutine(r, func() (int, error) { return 0, boom })
		d2 := reactor.DeferToGoroutine(r, func() (int, error) { panic(boom) })
		d1.AddErrback(func(err error) (int, error) { failed = err; return 0, nil })
		d2.AddErrback(func(err error) (int, error) {
			panicked = err
			_ = r.Stop()
			return 0, nil
		})
	})
	require.NoError(t, r.Run())
	assert.ErrorIs(t, failed, boom)
	var pe *deferred.PanicError
	require.ErrorAs(t, panicked, &pe)
	assert.Equal(t, boom, pe.Value)
	assert.ErrorIs(t, panicked, boom)
	assert.Contains(t, string(pe.Stack), "TestDeferToGoroutineErrorsAndPanics")
}

func TestDeferToGoroutineIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(reactor.WithMaxGoroutines(2))
		stop := start(t, r)
		release := make(chan struct{})
		var running, peak atomic.Int32
		var order []int
		done := make(chan struct{})
		for i := range 5 {
			reactor.DeferToGoroutine(r, func() (int, error) {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				running.Add(-1)
				return i, nil
			}).AddCallback(func(v int) (int, error) {
				order = append(order, v)
				if len(order) == 5 {
					close(done)
				}
				return v, nil
			})
		}
		synctest.Wait()
		s := r.Stats()
		assert.Equal(t, 2, s.GoroutinesRunning)
		assert.Equal(t, 3, s.GoroutinesWaiting)
		close(release)
		<-done
		assert.Equal(t, int32(2), peak.Load())
		assert.ElementsMatch(t, []int{0, 1, 2, 3, 4}, order)
		synctest.Wait()
		s = r.Stats()
		assert.Zero(t, s.GoroutinesRunning, "goroutines end when no function waits")
		assert.Zero(t, s.GoroutinesWaiting)
		stop()
	})
}

func TestDeferToGoroutineWaitingFunctionsStartInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(reactor.WithMaxGoroutines(1))
		stop := start(t, r)
		var started []int
		done := make(chan struct{})
		left := 10
		for i := range 10 {
			reactor.DeferToGoroutine(r, func() (int, error) {
				started = append(started, i) // one goroutine at a time: no race
				return i, nil
			}).AddCallback(func(v int) (int, error) {
				if left--; left == 0 {
					close(done)
				}
				return v, nil
			})
		}
		<-done
		assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, started)
		stop()
	})
}

func TestShutdownWaitsForRunningGoroutinesAndFailsWaitingOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(reactor.WithMaxGoroutines(1))
		t0 := time.Now()
		var results []string
		var finishedAt time.Duration
		r.CallWhenRunning(func() {
			reactor.DeferToGoroutine(r, func() (string, error) {
				<-time.After(5 * time.Second) // fake time: a long job
				return "ran", nil
			}).AddBoth(func(v string, err error) (string, error) {
				results = append(results, v)
				finishedAt = since(t0)
				return v, nil
			})
			reactor.DeferToGoroutine(r, func() (string, error) {
				return "must not run", nil
			}).AddErrback(func(err error) (string, error) {
				assert.ErrorIs(t, err, reactor.ErrStopped)
				results = append(results, "stopped")
				return "", nil
			})
			_ = r.Stop()
		})
		require.NoError(t, r.Run())
		assert.Equal(t, []string{"stopped", "ran"}, results)
		assert.Equal(t, 5*time.Second, finishedAt, "Run waited for the running function")

		late := reactor.DeferToGoroutine(r, func() (int, error) { return 1, nil })
		_, err := late.Result()
		assert.ErrorIs(t, err, reactor.ErrStopped)
	})
}

func TestDeferToGoroutineBeforeRun(t *testing.T) {
	r, _ := newReactor()
	var got int
	reactor.DeferToGoroutine(r, func() (int, error) { return 7, nil }).AddCallback(func(v int) (int, error) {
		got = v
		_ = r.Stop()
		return v, nil
	})
	require.NoError(t, r.Run())
	assert.Equal(t, 7, got)
}

func TestManyDeferToGoroutineCalls(t *testing.T) {
	r, _ := newReactor()
	const n = 2000
	sum := 0
	count := 0
	r.CallWhenRunning(func() {
		for i := range n {
			reactor.DeferToGoroutine(r, func() (int, error) { return i, nil }).AddCallback(func(v int) (int, error) {
				sum += v
				count++
				if count == n {
					_ = r.Stop()
				}
				return v, nil
			})
		}
	})
	require.NoError(t, r.Run())
	assert.Equal(t, n*(n-1)/2, sum)
}

func TestDeferToGoroutineOnAStoppedReactor(t *testing.T) {
	r, _ := newReactor()
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	ran := false
	d := reactor.DeferToGoroutine(r, func() (int, error) { ran = true; return 1, nil })
	_, err := d.Result()
	assert.ErrorIs(t, err, reactor.ErrStopped)
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped, "the loop-stopped error every loop user knows")
	assert.False(t, ran)
	assert.ErrorIs(t, r.CallInGoroutine(func() {}), scheduler.ErrLoopStopped)
}
