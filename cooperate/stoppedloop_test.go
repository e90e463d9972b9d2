package cooperate_test

import (
	"errors"
	"io"
	"iter"
	"log/slog"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// A reactor stops for good when its Run returns: nothing it runs any more
// can deliver a result. What a Cooperator or a LoopingCall hands out must
// then fail with an error for which errors.Is(err, scheduler.ErrLoopStopped)
// holds, never wait for ever. These tests run the reactor in a
// testing/synctest bubble.

// quietReactor returns a reactor whose log goes nowhere.
func quietReactor() *reactor.Reactor {
	return reactor.New(reactor.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
}

// stoppedReactor returns a reactor that has run and stopped.
func stoppedReactor(t *testing.T) *reactor.Reactor {
	r := quietReactor()
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	require.True(t, r.Stopped())
	return r
}

// firedWith reads what a Deferred fired with; fired is false if it has not.
func firedWith[T any](d *deferred.Deferred[T]) (fired bool, err error) {
	d.AddBoth(func(v T, e error) (T, error) {
		fired, err = true, e
		var zero T
		return zero, nil
	})
	return fired, err
}

// tenSteps ends each slice after ten steps.
func tenSteps() func() bool {
	n := 0
	return func() bool { n++; return n >= 10 }
}

// forever yields until it is released, and records that it was.
func forever(released *bool) iter.Seq[any] {
	return func(yield func(any) bool) {
		defer func() { *released = true }()
		for yield(nil) {
		}
	}
}

func TestCooperatorOnAStoppedReactorFailsItsTasksAtOnce(t *testing.T) {
	for _, opts := range [][]cooperate.Option{nil, {cooperate.WithLanes(2)}} {
		r := stoppedReactor(t)
		c := cooperate.New(r, opts...)
		assert.False(t, c.Running(), "a Cooperator on a stopped loop is stopped")
		released := false
		task := c.Cooperate(forever(&released))
		fired, err := firedWith(task.Done())
		require.True(t, fired, "failed at once, not left waiting")
		assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
		assert.ErrorIs(t, err, cooperate.ErrSchedulerStopped, "it is a stopped scheduler too")
		assert.ErrorIs(t, task.Stop(), scheduler.ErrLoopStopped)
		fired, err = firedWith(cooperate.Coiterate(c, forever(&released)))
		require.True(t, fired)
		assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
	}
}

func TestCooperatorTasksFailWhenTheReactorStops(t *testing.T) {
	for _, lanes := range []int{0, 2} {
		t.Run(map[int]string{0: "on the loop", 2: "on lanes"}[lanes], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := quietReactor()
				// In the bubble, time stands still while a goroutine runs:
				// slices are counted in steps rather than wall time.
				opts := []cooperate.Option{cooperate.WithTerminator(tenSteps)}
				if lanes > 0 {
					opts = append(opts, cooperate.WithLanes(lanes))
				}
				never := deferred.New[any]()
				var runnable, waiting, pausedBegan, paused bool
				var done [3]*deferred.Deferred[struct{}]
				var atDone [3]bool // whether the iterator was released as Done fired
				var c *cooperate.Cooperator
				// The reactor stops once the runnable task is well under
				// way and the waiting task is about to wait. On lanes the
				// two run on goroutines of their own, in no set order: a
				// task that has not taken its first step has no iterator
				// code to release (as the paused task shows), so stopping
				// on the runnable task alone would not test the wait.
				// On a lane, time stands still in the bubble as long as a
				// lane runs: the tasks stop the reactor themselves.
				arrived := 0 // on the loop
				arrive := func() {
					r.CallSoon(func() {
						if arrived++; arrived == 2 {
							_ = r.Stop()
						}
					})
				}
				r.CallWhenRunning(func() {
					c = cooperate.New(r, opts...)
					done[0] = c.Cooperate(func(yield func(any) bool) {
						defer func() { runnable = true }()
						for i := 0; yield(nil); i++ {
							if i == 20 {
								arrive()
							}
						}
					}).Done()
					done[1] = c.Cooperate(func(yield func(any) bool) {
						defer func() { waiting = true }()
						// The Cooperator stops between steps, so after
						// this one, which waits for a Deferred that never
						// fires.
						arrive()
						yield(never)
					}).Done()
					p := c.Cooperate(func(yield func(any) bool) {
						pausedBegan = true
						forever(&paused)(yield)
					})
					require.NoError(t, p.Pause())
					done[2] = p.Done()
					// Done fires once the iterator has been released:
					// its callbacks see what the iterator's deferred
					// calls did.
					for i, released := range []*bool{&runnable, &waiting, &paused} {
						done[i].AddBoth(func(v struct{}, err error) (struct{}, error) {
							atDone[i] = *released
							return v, err
						})
					}
				})
				require.NoError(t, r.Run())
				for i, d := range done {
					fired, err := firedWith(d)
					require.True(t, fired, "task %d: its Done fired when the reactor stopped", i)
					assert.ErrorIs(t, err, scheduler.ErrLoopStopped, "task %d", i)
				}
				assert.True(t, atDone[0], "the runnable task's iterator was released before its Done fired")
				assert.True(t, atDone[1], "the waiting task's iterator was released before its Done fired")
				assert.Equal(t, pausedBegan, atDone[2],
					"the paused task's iterator, if it began, was released before its Done fired")
				if lanes == 0 {
					assert.False(t, pausedBegan, "paused before its first slice, the task never started")
				}
				// On lanes the pause may reach the lane after it has begun
				// the task: Pause takes effect there after the step under way.
				assert.False(t, c.Running())
			})
		})
	}
}

func TestCooperatorStoppedBeforeTheReactorIsLeftAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := quietReactor()
		var done *deferred.Deferred[struct{}]
		r.CallWhenRunning(func() {
			c := cooperate.New(r)
			released := false
			done = c.Cooperate(forever(&released)).Done()
			c.Stop()
			_ = r.Stop()
		})
		require.NoError(t, r.Run())
		fired, err := firedWith(done)
		require.True(t, fired)
		assert.Equal(t, cooperate.ErrSchedulerStopped, err, "stopped by Stop, not by the loop")
	})
}

func TestLoopingCallOnAStoppedReactorFailsAtOnce(t *testing.T) {
	r := stoppedReactor(t)
	calls := 0
	lc := cooperate.NewLoopingCall(r, func() error { calls++; return nil })
	fired, err := firedWith(lc.Start(time.Second, true))
	require.True(t, fired, "failed at once, not left waiting")
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
	assert.Zero(t, calls, "the function is not called on a stopped loop")
	assert.False(t, lc.Running())
}

func TestLoopingCallFailsWhenTheReactorStops(t *testing.T) {
	for _, waitsOnDeferred := range []bool{false, true} {
		t.Run(map[bool]string{false: "between calls", true: "waiting on a Deferred"}[waitsOnDeferred], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := quietReactor()
				var d *deferred.Deferred[*cooperate.LoopingCall]
				var lc *cooperate.LoopingCall
				r.CallWhenRunning(func() {
					if waitsOnDeferred {
						lc = cooperate.NewLoopingCallDeferred(r, func(int) *deferred.Deferred[struct{}] {
							return deferred.New[struct{}]() // never fires
						})
					} else {
						lc = cooperate.NewLoopingCall(r, func() error { return nil })
					}
					d = lc.Start(time.Second, true)
					r.CallLater(1500*time.Millisecond, func() { _ = r.Stop() })
				})
				require.NoError(t, r.Run())
				fired, err := firedWith(d)
				require.True(t, fired, "its Deferred fired when the reactor stopped")
				assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
				assert.False(t, lc.Running())
				assert.ErrorIs(t, lc.Stop(), cooperate.ErrNotRunning)
			})
		})
	}
}

func TestLoopingCallStoppedBeforeTheReactorIsLeftAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := quietReactor()
		var d *deferred.Deferred[*cooperate.LoopingCall]
		r.CallWhenRunning(func() {
			lc := cooperate.NewLoopingCall(r, func() error { return nil })
			d = lc.Start(time.Second, false)
			r.CallLater(1500*time.Millisecond, func() {
				require.NoError(t, lc.Stop())
				// Started again, and failed by its function: nothing is
				// left for the reactor's stop either.
				boom := errors.New("boom")
				lc2 := cooperate.NewLoopingCall(r, func() error { return boom })
				fired, err := firedWith(lc2.Start(time.Second, true))
				assert.True(t, fired)
				assert.ErrorIs(t, err, boom)
				_ = r.Stop()
			})
		})
		require.NoError(t, r.Run())
		fired, err := firedWith(d)
		require.True(t, fired)
		assert.NoError(t, err, "stopped by Stop: it succeeded, once")
	})
}

func TestStepThatCallsGoexitStopsTheReactorAndReleasesTheOtherTasks(t *testing.T) {
	// A step that calls runtime.Goexit (t.FailNow in a step, say) fails its
	// task, and then ends the reactor goroutine, on which it ran: the
	// reactor shuts down and Run returns the error; the Cooperator's other
	// tasks fail and their iterators are released, leaving no goroutine
	// behind.
	synctest.Test(t, func(t *testing.T) {
		r := quietReactor()
		var released bool
		var exiting, other *deferred.Deferred[struct{}]
		r.CallWhenRunning(func() {
			c := cooperate.New(r, cooperate.WithTerminator(tenSteps))
			exiting = cooperate.Each(c, upTo(100), func(v int) error {
				if v == 5 {
					runtime.Goexit()
				}
				return nil
			}).Done()
			other = c.Cooperate(forever(&released)).Done()
		})
		err := r.Run()
		require.ErrorIs(t, err, reactor.ErrGoexit)
		fired, err := firedWith(exiting)
		require.True(t, fired)
		assert.ErrorIs(t, err, cooperate.ErrGoexit, "the task failed with the Goexit, not as the loop stopped")
		fired, err = firedWith(other)
		require.True(t, fired)
		assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
		assert.True(t, released)
	})
}

func TestDeferLaterOnAStoppedReactorFailsAtOnce(t *testing.T) {
	r := stoppedReactor(t)
	called := false
	d := cooperate.DeferLater(r, time.Second, func() (int, error) { called = true; return 1, nil })
	fired, err := firedWith(d)
	require.True(t, fired, "failed at once, not left waiting")
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
	assert.False(t, called)
}

func TestDeferLaterFailsWhenTheReactorStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := quietReactor()
		var pending, early, cancelled *deferred.Deferred[string]
		r.CallWhenRunning(func() {
			pending = cooperate.DeferLater(r, time.Hour, func() (string, error) { return "never", nil })
			early = cooperate.DeferLater(r, time.Second, func() (string, error) { return "early", nil })
			cancelled = cooperate.DeferLater(r, time.Hour, func() (string, error) { return "never", nil })
			cancelled.Cancel()
			r.CallLater(time.Minute, func() { _ = r.Stop() })
		})
		require.NoError(t, r.Run())
		fired, err := firedWith(pending)
		require.True(t, fired, "the pending call's Deferred fired when the reactor stopped")
		assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
		v, err := early.Result()
		require.NoError(t, err, "one that fired before the stop is left as it was")
		assert.Equal(t, "early", v)
		_, err = cancelled.Result()
		assert.ErrorIs(t, err, deferred.ErrCancelled, "one cancelled before the stop is left as it was")
	})
}

func TestDeferLaterFunctionThatCallsGoexitOnTheReactor(t *testing.T) {
	// The function runs on the reactor goroutine, which it ends: its
	// Deferred fails with the Goexit first, not as the reactor stops.
	synctest.Test(t, func(t *testing.T) {
		r := quietReactor()
		var d *deferred.Deferred[int]
		r.CallWhenRunning(func() {
			d = cooperate.DeferLater(r, time.Second, func() (int, error) { runtime.Goexit(); return 1, nil })
		})
		require.ErrorIs(t, r.Run(), reactor.ErrGoexit)
		_, err := d.Result()
		require.ErrorIs(t, err, cooperate.ErrGoexit)
		assert.NotErrorIs(t, err, scheduler.ErrLoopStopped)
	})
}

func TestLoopingCallFunctionThatCallsGoexitOnTheReactor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := quietReactor()
		var d *deferred.Deferred[*cooperate.LoopingCall]
		r.CallWhenRunning(func() {
			calls := 0
			lc := cooperate.NewLoopingCall(r, func() error {
				calls++
				if calls == 3 {
					runtime.Goexit()
				}
				return nil
			})
			d = lc.Start(time.Second, true)
		})
		require.ErrorIs(t, r.Run(), reactor.ErrGoexit)
		_, err := d.Result()
		require.ErrorIs(t, err, cooperate.ErrGoexit)
		assert.NotErrorIs(t, err, scheduler.ErrLoopStopped)
	})
}
