package reactor_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// runtime.Goexit ends the goroutine that calls it, deferred calls first: it
// is what t.FailNow, t.SkipNow and require's assertions call. A function the
// reactor runs that calls it ends the reactor's goroutine. These tests check
// that the reactor notices, reports the function, shuts down in order and
// makes Run return an error, whatever was running.

// runInBubble runs r on a goroutine of its own, as tests and programs often
// do, and returns what Run returned. On a reactor that hangs, the bubble
// reports the deadlock instead of the test hanging.
func runInBubble(r *reactor.Reactor) error {
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	return <-done
}

func exitingCallback() { runtime.Goexit() }

func TestGoexitInACallbackShutsDownAndRunReturnsAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		var order []string
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			order = append(order, "before shutdown")
			return nil
		})
		r.CallWhenRunning(func() {
			r.CallSoon(exitingCallback)
			// Queued in the same batch as the one that ends the goroutine:
			// it still runs, on the goroutine that takes over.
			r.CallSoon(func() { order = append(order, "queued after it") })
		})
		err := runInBubble(r)

		require.ErrorIs(t, err, reactor.ErrGoexit)
		var ge *reactor.GoexitError
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, "reactor_test.exitingCallback", ge.Func)
		assert.Regexp(t, `^goexit_test\.go:\d+$`, ge.Where)
		assert.Contains(t, string(ge.Stack), "runtime.Goexit")
		assert.Contains(t, err.Error(), "reactor_test.exitingCallback (goexit_test.go:")

		assert.Equal(t, []string{"queued after it", "before shutdown"}, order)
		assert.False(t, r.Running())
		assert.True(t, r.Stopped())
		assert.ErrorIs(t, r.Stop(), reactor.ErrNotRunning)

		assert.Equal(t, []string{"reactor: callback called runtime.Goexit; shutting down"}, rec.messages(),
			"reported once, and the watchdog blames nobody")
		attrs := rec.attrs(t, "reactor: callback called runtime.Goexit; shutting down")
		assert.Contains(t, attrs["callback"].String(), "reactor_test.exitingCallback (goexit_test.go:")
		assert.Contains(t, attrs["stack"].String(), "runtime.Goexit")
	})
}

func TestGoexitInACallLaterCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		ran := false
		r.CallLater(0, exitingCallback)
		r.CallLater(0, func() { ran = true })
		err := runInBubble(r)
		require.ErrorIs(t, err, reactor.ErrGoexit)
		assert.True(t, ran, "a call due with it still runs")
	})
}

func TestGoexitLikeFailNowInACallbackOnTheTestGoroutine(t *testing.T) {
	// t.FailNow in a callback ends the reactor's goroutine, not the test's:
	// Run returns, so the test goes on to report what it found.
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		r.CallWhenRunning(func() {
			runtime.Goexit() // as t.FailNow would
		})
		err := r.Run()
		assert.ErrorIs(t, err, reactor.ErrGoexit)
	})
}

func TestGoexitInTriggers(t *testing.T) {
	for _, tt := range []struct {
		phase reactor.Phase
		event reactor.Event
		want  []string
	}{
		// The event goes on with the triggers after the one that ended its
		// goroutine, and the reactor stops. A stop that comes during the
		// before-startup phase skips the rest of startup, as Stop does.
		{reactor.Before, reactor.Startup, []string{"before startup", "before shutdown", "during shutdown", "after shutdown"}},
		{reactor.During, reactor.Startup, []string{"before startup", "during startup", "after startup", "running",
			"before shutdown", "during shutdown", "after shutdown"}},
		{reactor.Before, reactor.Shutdown, []string{"before shutdown", "during shutdown", "after shutdown"}},
		{reactor.During, reactor.Shutdown, []string{"before shutdown", "during shutdown", "after shutdown"}},
		{reactor.After, reactor.Shutdown, []string{"before shutdown", "during shutdown", "after shutdown"}},
	} {
		name := tt.phase.String() + " " + tt.event.String()
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, rec := newReactor()
				var order []string
				r.AddSystemEventTrigger(tt.phase, tt.event, func() *deferredUnit {
					runtime.Goexit()
					return nil
				})
				for _, e := range []reactor.Event{reactor.Startup, reactor.Shutdown} {
					for _, p := range []reactor.Phase{reactor.Before, reactor.During, reactor.After} {
						r.AddSystemEventTrigger(p, e, func() *deferredUnit {
							order = append(order, p.String()+" "+e.String())
							return nil
						})
					}
				}
				r.CallWhenRunning(func() {
					order = append(order, "running")
					_ = r.Stop()
				})
				err := runInBubble(r)
				require.ErrorIs(t, err, reactor.ErrGoexit)
				assert.Contains(t, err.Error(), name+" trigger reactor_test.TestGoexitInTriggers")
				want := tt.want
				if tt.event == reactor.Shutdown {
					want = append([]string{"before startup", "during startup", "after startup", "running"}, want...)
				}
				assert.Equal(t, want, order)
				assert.False(t, r.Running())
				assert.Len(t, rec.messages(), 1)
			})
		})
	}
}

func TestGoexitInDeferToGoroutineFailsItsDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(reactor.WithMaxGoroutines(1))
		var first, second error
		var got int
		r.CallWhenRunning(func() {
			d1 := reactor.DeferToGoroutine(r, func() (int, error) { runtime.Goexit(); return 1, nil })
			// Waits for the only place, which the first function's goroutine
			// held when it ended.
			d2 := reactor.DeferToGoroutine(r, func() (int, error) { return 2, nil })
			d1.AddErrback(func(err error) (int, error) { first = err; return 0, nil })
			d2.AddBoth(func(v int, err error) (int, error) {
				got, second = v, err
				_ = r.Stop()
				return 0, nil
			})
		})
		require.NoError(t, runInBubble(r), "a function on the reactor's goroutine set is not a reactor callback")
		require.ErrorIs(t, first, reactor.ErrGoexit)
		assert.Contains(t, first.Error(), "DeferToGoroutine function reactor_test.TestGoexitInDeferToGoroutineFailsItsDeferred")
		assert.NoError(t, second)
		assert.Equal(t, 2, got)
	})
}

func TestGoexitInBlockingCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		_, err := reactor.BlockingCall(context.Background(), r, func() (int, error) {
			runtime.Goexit()
			return 0, nil
		})
		require.ErrorIs(t, err, reactor.ErrGoexit, "the caller hears of it instead of waiting for ever")
		assert.Contains(t, err.Error(), "BlockingCall function reactor_test.TestGoexitInBlockingCall")
		assert.ErrorIs(t, <-done, reactor.ErrGoexit)

		r2, _ := newReactor()
		go func() { done <- r2.Run() }()
		_, err = reactor.BlockingCallDeferred(context.Background(), r2, func() *deferred.Deferred[int] {
			runtime.Goexit()
			return nil
		})
		require.ErrorIs(t, err, reactor.ErrGoexit)
		assert.ErrorIs(t, <-done, reactor.ErrGoexit)
	})
}

func TestGoexitDuringShutdownLeftovers(t *testing.T) {
	// Functions queued during the last trigger run after the loop has ended;
	// one that ends its goroutine does not keep the others from running.
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var order []string
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
			r.CallSoon(exitingCallback)
			r.CallSoon(func() { order = append(order, "second leftover") })
			return nil
		})
		r.CallWhenRunning(func() { _ = r.Stop() })
		err := runInBubble(r)
		require.ErrorIs(t, err, reactor.ErrGoexit)
		assert.Equal(t, []string{"second leftover"}, order)
		assert.True(t, r.Stopped())
	})
}

func TestGoexitTwiceReportsTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		r.CallWhenRunning(exitingCallback)
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
			runtime.Goexit()
			return nil
		})
		err := runInBubble(r)
		var ge *reactor.GoexitError
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, "reactor_test.exitingCallback", ge.Func)
		assert.Len(t, rec.messages(), 2, "both are logged")
		assert.True(t, errors.Is(err, reactor.ErrGoexit))
	})
}

func TestReactReturnsAGoexitInMain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := reactor.React(func(*reactor.Reactor) *deferredUnit {
			runtime.Goexit()
			return nil
		}, reactor.WithLogger(newLogger()))
		assert.ErrorIs(t, err, reactor.ErrGoexit)
	})
}

func TestGoexitInTheErrbackOfAFunctionThatNeverStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(reactor.WithMaxGoroutines(1))
		release := make(chan struct{})
		var second error
		r.CallWhenRunning(func() {
			reactor.DeferToGoroutine(r, func() (int, error) { <-release; return 0, nil })
			d1 := reactor.DeferToGoroutine(r, func() (int, error) { return 1, nil })
			d2 := reactor.DeferToGoroutine(r, func() (int, error) { return 2, nil })
			d1.AddErrback(func(error) (int, error) { runtime.Goexit(); return 0, nil })
			d2.AddErrback(func(err error) (int, error) { second = err; return 0, nil })
			_ = r.Stop()
		})
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
			r.CallSoon(func() { close(release) })
			return nil
		})
		err := runInBubble(r)
		require.ErrorIs(t, err, reactor.ErrGoexit)
		assert.ErrorIs(t, second, reactor.ErrStopped, "the other function's Deferred still fails")
	})
}
