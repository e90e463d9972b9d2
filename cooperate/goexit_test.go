package cooperate_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
)

// runtime.Goexit ends the goroutine that calls it, running its deferred
// calls; nothing can make it return. t.FailNow and the testing helpers that
// stop a test call it. A task's iterator runs as a coroutine of its own
// (iter.Pull), which Go ends when a step calls runtime.Goexit; the task
// fails with an error wrapping cooperate.ErrGoexit, and the goroutine that
// ran the step does not die with it.

func TestLanesStepThatCallsGoexitFailsOnlyItsTask(t *testing.T) {
	// As a panic does (TestLanesPanicFailsOnlyItsTask): the task fails, its
	// iterator's deferred calls run, and the lane goes on with the other
	// tasks; the Cooperator then stops without waiting for ever.
	c, loop := newLanes(t, 2)
	var released atomic.Bool
	exiting := watch(cooperate.Each(c, func(yield func(int) bool) {
		defer released.Store(true)
		endless(yield)
	}, func(v int) error {
		if v == 5 {
			runtime.Goexit()
		}
		return nil
	}).Done())
	sums := make([]int, 6)
	others := make([]*outcome[struct{}], len(sums))
	for i := range sums {
		others[i] = watch(cooperate.Each(c, upTo(1000), func(v int) error {
			sums[i] += v
			return nil
		}).Done())
	}
	loop.runUntil(t, func() bool {
		for _, o := range others {
			if !o.fired {
				return false
			}
		}
		return exiting.fired
	})
	require.ErrorIs(t, exiting.err, cooperate.ErrGoexit)
	assert.EqualError(t, exiting.err, "cooperate: task step called runtime.Goexit")
	assert.True(t, released.Load(), "the exiting task's deferred calls ran")
	for i, o := range others {
		require.NoError(t, o.err)
		assert.Equal(t, 999*1000/2, sums[i])
	}
	// Both lanes still run: a task given to each of them finishes.
	after := []*outcome[struct{}]{watch(cooperate.Each(c, upTo(10), func(int) error { return nil }).Done()),
		watch(cooperate.Each(c, upTo(10), func(int) error { return nil }).Done())}
	loop.runUntil(t, func() bool { return after[0].fired && after[1].fired })
	require.NoError(t, after[0].err)
	require.NoError(t, after[1].err)
}

// exits runs f on a goroutine of its own, waits for it to end, and reports
// whether f ended it with runtime.Goexit instead of returning.
func exits(f func()) bool {
	returned := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
		returned = true
	}()
	<-done
	return !returned
}

func TestStepThatCallsGoexitOnTheLoopFailsItsTaskThenEndsTheGoroutine(t *testing.T) {
	// On the loop, a step runs on the loop's goroutine: the task fails
	// first, the Cooperator winds the slice up, and the goroutine ends as
	// the step asked. The Cooperator goes on in the next slice.
	c, clock := newCooperator(t, cooperate.WithTerminator(tenSteps))
	var released bool
	exiting := watch(cooperate.Each(c, func(yield func(int) bool) {
		defer func() { released = true }()
		endless(yield)
	}, func(v int) error {
		if v == 3 {
			runtime.Goexit()
		}
		return nil
	}).Done())
	steps := 0
	other := watch(cooperate.Each(c, upTo(100), func(int) error { steps++; return nil }).Done())
	require.True(t, exits(func() { tick(clock) }), "the loop's goroutine ended")
	require.True(t, exiting.fired, "the task failed before the goroutine ended")
	require.ErrorIs(t, exiting.err, cooperate.ErrGoexit)
	assert.EqualError(t, exiting.err, "cooperate: task step called runtime.Goexit")
	assert.True(t, released)
	before := steps
	for range 20 {
		tick(clock)
	}
	assert.Greater(t, steps, before, "the other task goes on in the next slices")
	require.True(t, other.fired)
	require.NoError(t, other.err)
}

func TestStepThatCallsGoexitOnALaneLeavesTheReactorRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := quietReactor()
		var exiting, after *outcome[struct{}]
		r.CallWhenRunning(func() {
			c := cooperate.New(r, cooperate.WithLanes(2), cooperate.WithTerminator(tenSteps))
			exiting = watch(cooperate.Each(c, upTo(100), func(v int) error {
				if v == 5 {
					runtime.Goexit()
				}
				return nil
			}).Done().AddBoth(func(v struct{}, err error) (struct{}, error) {
				// The reactor goes on: a task given now runs to its end.
				after = watch(cooperate.Each(c, upTo(100), func(int) error { return nil }).Done().
					AddBoth(func(v struct{}, err error) (struct{}, error) {
						_ = r.Stop()
						return v, err
					}))
				return v, err
			}))
		})
		require.NoError(t, r.Run(), "the reactor did not see the Goexit")
		require.True(t, exiting.fired)
		require.ErrorIs(t, exiting.err, cooperate.ErrGoexit)
		require.True(t, after.fired)
		require.NoError(t, after.err)
	})
}

func TestIteratorThatCallsGoexitWhileReleased(t *testing.T) {
	// The deferred calls of a task's iterator run when the task is
	// released; one that calls runtime.Goexit is logged, as a panic there
	// is, and whatever released the task goes on: the goroutine does not
	// end, the other tasks are failed and released.
	for _, lanes := range []int{0, 2} {
		t.Run(map[int]string{0: "on the loop", 2: "on lanes"}[lanes], func(t *testing.T) {
			logger, logs := testLogger()
			loop := newChanLoop()
			// Slices of ten steps: both tasks start in the first.
			opts := []cooperate.Option{cooperate.WithLogger(logger), cooperate.WithTerminator(tenSteps)}
			if lanes > 0 {
				opts = append(opts, cooperate.WithLanes(lanes))
			}
			c := cooperate.New(loop, opts...)
			var started atomic.Int32
			var releasedFirst, releasedOther atomic.Bool
			first := watch(c.Cooperate(func(yield func(any) bool) {
				defer runtime.Goexit()
				defer releasedFirst.Store(true)
				started.Add(1)
				loop.CallSoon(func() {}) // wakes runUntil
				for yield(nil) {
				}
			}).Done())
			other := watch(c.Cooperate(func(yield func(any) bool) {
				defer releasedOther.Store(true)
				started.Add(1)
				loop.CallSoon(func() {})
				for yield(nil) {
				}
			}).Done())
			if lanes == 0 {
				tick(loop.ManualClock)
			} else {
				loop.runUntil(t, func() bool { return started.Load() == 2 })
			}
			require.Equal(t, int32(2), started.Load())
			require.False(t, exits(c.Stop), "Stop returned")
			requireFailedWith(t, first, cooperate.ErrSchedulerStopped)
			requireFailedWith(t, other, cooperate.ErrSchedulerStopped)
			assert.True(t, releasedFirst.Load())
			assert.True(t, releasedOther.Load())
			assert.Contains(t, logs.String(), "cooperate: iterator called runtime.Goexit while being released")
		})
	}
}

func TestDoneCallbackThatCallsGoexit(t *testing.T) {
	// A Done callback runs on the loop's goroutine, and ends it: the
	// Deferreds after its own, and the tasks a stopping Cooperator fails
	// after its task, still fire before it ends; a slice cut short is
	// wound up, and the Cooperator goes on.
	t.Run("in a slice", func(t *testing.T) {
		c, clock := newCooperator(t, cooperate.WithTerminator(tenSteps))
		task := cooperate.Each(c, upTo(3), func(int) error { return nil })
		task.Done().AddCallback(func(struct{}) (struct{}, error) {
			runtime.Goexit()
			return struct{}{}, nil
		})
		second := watch(task.Done())
		require.True(t, exits(func() { tick(clock) }))
		require.True(t, second.fired, "the next Done Deferred fired")
		require.NoError(t, second.err)
		steps := 0
		next := watch(cooperate.Each(c, upTo(3), func(int) error { steps++; return nil }).Done())
		tick(clock)
		require.True(t, next.fired, "the Cooperator goes on")
		assert.Equal(t, 3, steps)
	})
	t.Run("as the Cooperator stops", func(t *testing.T) {
		for _, lanes := range []int{0, 2} {
			loop := newChanLoop()
			var opts []cooperate.Option
			if lanes > 0 {
				opts = append(opts, cooperate.WithLanes(lanes))
			}
			c := cooperate.New(loop, opts...)
			never := func(yield func(any) bool) { yield(deferred.New[any]()) }
			first := c.Cooperate(never)
			first.Done().AddBoth(func(struct{}, error) (struct{}, error) {
				runtime.Goexit()
				return struct{}{}, nil
			})
			second := watch(first.Done())
			third := watch(c.Cooperate(never).Done())
			require.True(t, exits(c.Stop), "lanes: %d", lanes)
			requireFailedWith(t, second, cooperate.ErrSchedulerStopped)
			requireFailedWith(t, third, cooperate.ErrSchedulerStopped)
			assert.False(t, c.Running())
		}
	})
}

// exitOnce is a terminator factory that calls runtime.Goexit the first
// time it is called, and otherwise ends each slice after ten steps.
type exitOnce struct{ calls atomic.Int32 }

func (e *exitOnce) factory() func() bool {
	if e.calls.Add(1) == 1 {
		runtime.Goexit()
	}
	return tenSteps()
}

func TestTerminatorThatCallsGoexit(t *testing.T) {
	// The factory runs on the loop's goroutine, or on a lane's: the slice
	// is wound up, a lane gets a new goroutine, and the tasks go on.
	t.Run("on the loop", func(t *testing.T) {
		logger, logs := testLogger()
		var e exitOnce
		c, clock := newCooperator(t, cooperate.WithTerminator(e.factory), cooperate.WithLogger(logger))
		done := watch(cooperate.Each(c, upTo(30), func(int) error { return nil }).Done())
		require.True(t, exits(func() { tick(clock) }))
		assert.Contains(t, logs.String(), "cooperate: terminator factory called runtime.Goexit")
		pump(clock)
		require.True(t, done.fired)
		require.NoError(t, done.err)
	})
	t.Run("on lanes", func(t *testing.T) {
		logger, logs := testLogger()
		var e exitOnce
		c, loop := newLanes(t, 2, cooperate.WithTerminator(e.factory), cooperate.WithLogger(logger))
		dones := make([]*outcome[struct{}], 4)
		for i := range dones {
			dones[i] = watch(cooperate.Each(c, upTo(100), func(int) error { return nil }).Done())
		}
		loop.runUntil(t, func() bool {
			for _, d := range dones {
				if !d.fired {
					return false
				}
			}
			return true
		})
		for _, d := range dones {
			require.NoError(t, d.err)
		}
		assert.Contains(t, logs.String(), "cooperate: terminator factory called runtime.Goexit")
	})
}

// exitingWaitable calls runtime.Goexit when a task waits on it.
type exitingWaitable struct{}

func (exitingWaitable) OnComplete(func(error)) { runtime.Goexit() }

func TestWaitableWhoseOnCompleteCallsGoexit(t *testing.T) {
	// OnComplete runs where the task's steps do, outside its iterator: the
	// task fails, since the value will never complete.
	check := func(t *testing.T, o *outcome[struct{}]) {
		t.Helper()
		require.True(t, o.fired)
		require.ErrorIs(t, o.err, cooperate.ErrGoexit)
		assert.EqualError(t, o.err, "cooperate: OnComplete of cooperate_test.exitingWaitable called runtime.Goexit")
	}
	t.Run("on the loop", func(t *testing.T) {
		c, clock := newCooperator(t)
		var released bool
		done := watch(c.Cooperate(func(yield func(any) bool) {
			defer func() { released = true }()
			yield(exitingWaitable{})
		}).Done())
		require.True(t, exits(func() { tick(clock) }))
		check(t, done)
		assert.True(t, released)
	})
	t.Run("on lanes", func(t *testing.T) {
		c, loop := newLanes(t, 2)
		done := watch(c.Cooperate(func(yield func(any) bool) { yield(exitingWaitable{}) }).Done())
		others := make([]*outcome[struct{}], 3)
		for i := range others {
			others[i] = watch(cooperate.Each(c, upTo(100), func(int) error { return nil }).Done())
		}
		loop.runUntil(t, func() bool { return done.fired && others[0].fired && others[1].fired && others[2].fired })
		check(t, done)
		for _, o := range others {
			require.NoError(t, o.err)
		}
	})
}
