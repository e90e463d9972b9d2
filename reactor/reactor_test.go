package reactor_test

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

func TestRunStopsWhenStoppedFromACallback(t *testing.T) {
	r, _ := newReactor()
	assert.ErrorIs(t, r.Stop(), reactor.ErrNotRunning, "a reactor that has not run cannot stop")
	assert.False(t, r.Running())
	var seen []bool
	r.CallWhenRunning(func() {
		seen = append(seen, r.Running())
		assert.NoError(t, r.Stop())
		assert.ErrorIs(t, r.Stop(), reactor.ErrNotRunning, "a stopping reactor cannot stop again")
	})
	require.NoError(t, r.Run())
	assert.Equal(t, []bool{true}, seen)
	assert.False(t, r.Running())
	assert.ErrorIs(t, r.Run(), reactor.ErrAlreadyRun, "a reactor runs once")
	assert.ErrorIs(t, r.Stop(), reactor.ErrNotRunning)
}

func TestRunTwiceAtOnceFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		stop := start(t, r)
		synctest.Wait()
		assert.ErrorIs(t, r.Run(), reactor.ErrAlreadyRun)
		stop()
	})
}

func TestStopFromAnotherGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		synctest.Wait()
		assert.True(t, r.Running())
		require.NoError(t, r.Stop())
		require.NoError(t, <-done)
		assert.False(t, r.Running())
	})
}

func TestIdleReactorSleeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		stop := start(t, r)
		synctest.Wait() // every goroutine of the bubble is blocked: nothing spins
		before := r.Stats()
		<-time.After(time.Hour) // fake time: the bubble's clock jumps
		after := r.Stats()
		assert.Equal(t, before.Wakeups, after.Wakeups, "an idle reactor never wakes up")
		assert.Equal(t, before.Callbacks, after.Callbacks)
		stop()
	})
}

func TestCallSoonKeepsEachGoroutinesOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		stop := start(t, r)
		const producers, each = 8, 1000
		got := make([][]int, producers)
		var wg sync.WaitGroup
		for p := range producers {
			wg.Go(func() {
				for i := range each {
					r.CallSoon(func() { got[p] = append(got[p], i) })
				}
			})
		}
		wg.Wait()
		stop()
		for p := range producers {
			require.Len(t, got[p], each)
			for i, v := range got[p] {
				require.Equal(t, i, v)
			}
		}
	})
}

func TestCallSoonBeforeRunRunsAfterStartup(t *testing.T) {
	r, _ := newReactor()
	var order []string
	r.CallSoon(func() {
		order = append(order, "soon")
		_ = r.Stop()
	})
	r.CallWhenRunning(func() { order = append(order, "when running") })
	require.NoError(t, r.Run())
	assert.Equal(t, []string{"when running", "soon"}, order)
}

func TestCallWhenRunningAfterStartupRunsSoon(t *testing.T) {
	r, _ := newReactor()
	var order []string
	r.CallWhenRunning(func() {
		r.CallWhenRunning(func() {
			order = append(order, "second")
			_ = r.Stop()
		})
		order = append(order, "first")
	})
	require.NoError(t, r.Run())
	assert.Equal(t, []string{"first", "second"}, order)
}

func TestCallLaterRunsInDueOrderAtDueTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		t0 := time.Now()
		type run struct {
			name string
			at   time.Duration
		}
		var runs []run
		add := func(d time.Duration, name string) scheduler.Call {
			return r.CallLater(d, func() { runs = append(runs, run{name, since(t0)}) })
		}
		add(3*time.Second, "c")
		add(time.Second, "a1")
		add(2*time.Second, "b")
		add(time.Second, "a2")
		add(-time.Second, "negative")
		add(0, "zero")
		r.CallLater(4*time.Second, func() { _ = r.Stop() })
		require.NoError(t, r.Run())
		assert.Equal(t, []run{
			{"negative", 0}, {"zero", 0},
			{"a1", time.Second}, {"a2", time.Second},
			{"b", 2 * time.Second}, {"c", 3 * time.Second},
		}, runs)
	})
}

func TestCallLaterCallControl(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		t0 := time.Now()
		var ran []string
		at := map[string]time.Duration{}
		record := func(name string) func() {
			return func() { ran = append(ran, name); at[name] = since(t0) }
		}
		cancelled := r.CallLater(time.Second, record("cancelled"))
		reset := r.CallLater(time.Second, record("reset"))
		delayed := r.CallLater(time.Second, record("delayed"))
		sooner := r.CallLater(10*time.Second, record("sooner"))
		require.NoError(t, cancelled.Cancel())
		require.NoError(t, reset.Reset(5*time.Second))
		require.NoError(t, delayed.Delay(2*time.Second))
		require.NoError(t, sooner.Reset(500*time.Millisecond))
		assert.Equal(t, t0.Add(5*time.Second), reset.When())
		assert.Equal(t, t0.Add(3*time.Second), delayed.When())
		r.CallLater(6*time.Second, func() { _ = r.Stop() })
		require.NoError(t, r.Run())

		assert.Equal(t, []string{"sooner", "delayed", "reset"}, ran)
		assert.Equal(t, map[string]time.Duration{
			"sooner": 500 * time.Millisecond, "delayed": 3 * time.Second, "reset": 5 * time.Second,
		}, at)
		assert.False(t, cancelled.Active())
		assert.ErrorIs(t, cancelled.Cancel(), scheduler.ErrAlreadyCancelled)
		assert.ErrorIs(t, reset.Cancel(), scheduler.ErrAlreadyCalled)
		assert.ErrorIs(t, reset.Reset(time.Second), scheduler.ErrAlreadyCalled)
		assert.ErrorIs(t, delayed.Delay(time.Second), scheduler.ErrAlreadyCalled)
	})
}

func TestCallLaterInsideCallIsNotActive(t *testing.T) {
	r, _ := newReactor()
	var call scheduler.Call
	var active bool
	var err error
	call = r.CallLater(0, func() {
		active, err = call.Active(), call.Cancel()
		_ = r.Stop()
	})
	require.NoError(t, r.Run())
	assert.False(t, active, "a call is not active while it runs, as in Twisted")
	assert.ErrorIs(t, err, scheduler.ErrAlreadyCalled)
}

func TestCallLaterFromAnotherGoroutineWakesTheReactor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		t0 := time.Now()
		r.CallLater(time.Hour, func() {})
		stop := start(t, r)
		synctest.Wait() // the reactor sleeps until the hour is up
		var at time.Duration
		done := make(chan struct{})
		r.CallLater(time.Second, func() { at = since(t0); close(done) })
		<-done
		assert.Equal(t, time.Second, at)
		stop()
	})
}

func TestCancellingTheEarliestCallFromAnotherGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		t0 := time.Now()
		ran := false
		early := r.CallLater(time.Second, func() { ran = true })
		var at time.Duration
		r.CallLater(2*time.Second, func() { at = since(t0); _ = r.Stop() })
		done := make(chan error)
		go func() { done <- r.Run() }()
		synctest.Wait()
		require.NoError(t, early.Cancel())
		require.NoError(t, <-done)
		assert.False(t, ran)
		assert.Equal(t, 2*time.Second, at)
	})
}

func TestCallThatReschedulesItselfDoesNotStarveTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		spins := 0
		var spin func()
		spin = func() {
			spins++
			r.CallLater(0, spin)
		}
		r.CallWhenRunning(func() {
			r.CallLater(0, spin)
			r.CallSoon(func() { r.CallSoon(func() { _ = r.Stop() }) })
		})
		require.NoError(t, r.Run())
		assert.Positive(t, spins)
		assert.Less(t, spins, 10, "calls scheduled during a pass run in the next one")
	})
}

func TestAfterShutdown(t *testing.T) {
	r, _ := newReactor()
	ran := false
	pending := r.CallLater(time.Hour, func() { ran = true })
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())

	assert.False(t, pending.Active(), "calls pending at shutdown are cancelled")
	assert.ErrorIs(t, pending.Cancel(), scheduler.ErrAlreadyCancelled)

	late := r.CallLater(0, func() { ran = true })
	assert.False(t, late.Active(), "CallLater after shutdown returns an inactive call")
	assert.ErrorIs(t, late.Cancel(), scheduler.ErrAlreadyCancelled)
	assert.ErrorIs(t, late.Reset(time.Second), scheduler.ErrAlreadyCancelled)
	r.CallSoon(func() { ran = true })
	r.CallWhenRunning(func() { ran = true })
	assert.Equal(t, 0, r.Stats().QueueLen, "CallSoon after shutdown drops the function")
	assert.Equal(t, 0, r.Stats().TimersPending)
	assert.False(t, ran)
}

func TestFunctionsQueuedDuringShutdownStillRun(t *testing.T) {
	r, _ := newReactor()
	var order []string
	r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
		r.CallSoon(func() { order = append(order, "queued by the last trigger") })
		order = append(order, "after shutdown")
		return nil
	})
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	assert.Equal(t, []string{"after shutdown", "queued by the last trigger"}, order)
}

func TestPanicInCallbackIsLoggedAndTheLoopGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		var order []string
		r.CallSoon(func() { panic("boom") })
		r.CallLater(0, func() { panic("timer boom") })
		r.CallSoon(func() { order = append(order, "after the panic") })
		r.CallLater(time.Millisecond, func() { order = append(order, "timer"); _ = r.Stop() })
		require.NoError(t, r.Run())
		assert.Equal(t, []string{"after the panic", "timer"}, order)
		assert.Equal(t, []string{"reactor: callback panicked", "reactor: callback panicked"}, rec.messages())
		attrs := rec.attrs(t, "reactor: callback panicked")
		assert.Contains(t, attrs["stack"].String(), "reactor_test.TestPanicInCallbackIsLoggedAndTheLoopGoesOn")
	})
}

func TestNowFollowsTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		assert.Equal(t, time.Now(), r.Now())
		<-time.After(time.Minute) // fake time: the bubble's clock jumps
		assert.Equal(t, time.Now(), r.Now())
	})
}

func TestMisusePanics(t *testing.T) {
	r, _ := newReactor()
	tests := []struct {
		name string
		want string
		call func()
	}{
		{"CallSoon", "reactor: Reactor.CallSoon: nil function", func() { r.CallSoon(nil) }},
		{"CallLater", "reactor: Reactor.CallLater: nil function", func() { r.CallLater(0, nil) }},
		{"CallWhenRunning", "reactor: Reactor.CallWhenRunning: nil function", func() { r.CallWhenRunning(nil) }},
		{"AddSystemEventTrigger", "reactor: Reactor.AddSystemEventTrigger: nil function",
			func() { r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, nil) }},
		{"AddSystemEventTrigger phase", "reactor: Reactor.AddSystemEventTrigger: invalid phase",
			func() { r.AddSystemEventTrigger(7, reactor.Shutdown, func() *deferredUnit { return nil }) }},
		{"AddSystemEventTrigger event", "reactor: Reactor.AddSystemEventTrigger: invalid event",
			func() { r.AddSystemEventTrigger(reactor.Before, 7, func() *deferredUnit { return nil }) }},
		{"DeferToGoroutine", "reactor: DeferToGoroutine: nil function",
			func() { reactor.DeferToGoroutine[int](r, nil) }},
		{"DeferToGoroutine reactor", "reactor: DeferToGoroutine: nil reactor",
			func() { reactor.DeferToGoroutine(nil, func() (int, error) { return 0, nil }) }},
		{"React", "reactor: React: nil function", func() { _ = reactor.React(nil) }},
		{"WithMaxGoroutines", "reactor: WithMaxGoroutines: n must be at least 1", func() { reactor.WithMaxGoroutines(0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.call)
		})
	}
}

func TestReactorIsALoop(t *testing.T) {
	var loop scheduler.Loop = reactor.New()
	ran := false
	loop.CallSoon(func() { ran = true; _ = loop.(*reactor.Reactor).Stop() })
	loop.(*reactor.Reactor).CallWhenRunning(func() {})
	require.NoError(t, loop.(*reactor.Reactor).Run())
	assert.True(t, ran)
}

func TestCallCancelledByAnEarlierCallOfTheSamePassDoesNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var second scheduler.Call
		ran := false
		r.CallLater(time.Second, func() { assert.NoError(t, second.Cancel()) })
		second = r.CallLater(time.Second, func() { ran = true })
		r.CallLater(2*time.Second, func() { _ = r.Stop() })
		require.NoError(t, r.Run())
		assert.False(t, ran)
	})
}

func TestPendingListsCallsInDueOrder(t *testing.T) {
	r, _ := newReactor()
	c3 := r.CallLater(3*time.Hour, func() {})
	c1 := r.CallLater(time.Hour, func() {})
	c2 := r.CallLater(2*time.Hour, func() {})
	assert.Equal(t, []scheduler.Call{c1, c2, c3}, r.Pending())
	require.NoError(t, c2.Cancel())
	assert.Equal(t, []scheduler.Call{c1, c3}, r.Pending())
}

func TestStoppedAndTryCallSoon(t *testing.T) {
	r, _ := newReactor()
	assert.False(t, r.Stopped(), "a reactor that has not run has not stopped")
	ran := 0
	assert.True(t, r.TryCallSoon(func() { ran++ }), "a reactor that has not run takes work for later")
	var stoppedDuringShutdown bool
	r.CallWhenRunning(func() {
		require.NoError(t, r.Stop())
		stoppedDuringShutdown = r.Stopped()
		assert.True(t, r.TryCallSoon(func() { ran++ }), "a stopping reactor still runs what it takes")
	})
	require.NoError(t, r.Run())
	assert.False(t, stoppedDuringShutdown)
	assert.Equal(t, 2, ran)
	assert.True(t, r.Stopped())
	assert.False(t, r.TryCallSoon(func() { ran++ }), "a stopped reactor refuses work")
	assert.Equal(t, 2, ran)
	assert.Panics(t, func() { r.TryCallSoon(nil) })
	var _ scheduler.StoppableLoop = r
}

func TestCallLaterCallString(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		call := r.CallLater(3*time.Second, func() {})
		<-time.After(time.Second) // fake time
		assert.Regexp(t, `^<Call 0x[0-9a-f]+ \[2s\] called=false cancelled=false reactor_test\.TestCallLaterCallString\.func1\.1 \(reactor_test\.go:\d+\)>$`,
			fmt.Sprint(call), "as Twisted's DelayedCall repr")
		require.NoError(t, call.Cancel())
		assert.Regexp(t, `^<Call 0x[0-9a-f]+ \[2s\] called=false cancelled=true>$`, fmt.Sprint(call))
	})
}

func TestFunctionsQueuedByTheLastFunctionsStillRun(t *testing.T) {
	// Run goes on running what CallSoon took after the loop has ended until
	// nothing is left, so that nothing accepted is dropped, and only then
	// reports Stopped.
	r, _ := newReactor()
	var order []string
	var stoppedInLast bool
	r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
		r.CallSoon(func() {
			order = append(order, "leftover")
			assert.True(t, r.TryCallSoon(func() {
				order = append(order, "queued by the leftover")
				stoppedInLast = r.Stopped()
			}))
		})
		return nil
	})
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	assert.Equal(t, []string{"leftover", "queued by the leftover"}, order)
	assert.False(t, stoppedInLast, "a reactor still running functions has not stopped")
	assert.True(t, r.Stopped())
}

func TestAFunctionThatKeepsQueueingItselfAfterTheLoopIsCutOff(t *testing.T) {
	r, _ := newReactor()
	runs, refused := 0, 0
	var again func()
	again = func() {
		runs++
		if !r.TryCallSoon(again) {
			refused++
		}
	}
	r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
		r.CallSoon(again)
		return nil
	})
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	assert.Equal(t, 1, refused, "told, not dropped without a word")
	assert.Greater(t, runs, 100)
}
