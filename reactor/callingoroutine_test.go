package reactor_test

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
)

func TestCallInGoroutineRunsOffTheReactor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		var onReactor atomic.Bool
		done := make(chan struct{})
		r.CallWhenRunning(func() {
			require.NoError(t, r.CallInGoroutine(func() {
				onReactor.Store(reactor.OnReactor(r))
				close(done)
			}))
		})
		stop := start(t, r)
		<-done
		stop()
		assert.False(t, onReactor.Load(), "f runs on a goroutine of the reactor's set")
		assert.Empty(t, rec.messages())
	})
}

func TestCallInGoroutineIsBoundedWithDeferToGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(reactor.WithMaxGoroutines(1))
		release := make(chan struct{})
		var order []string
		done := make(chan struct{})
		r.CallWhenRunning(func() {
			d := reactor.DeferToGoroutine(r, func() (int, error) { <-release; return 1, nil })
			require.NoError(t, r.CallInGoroutine(func() { close(done) }))
			d.AddCallback(func(v int) (int, error) { order = append(order, "deferred"); return v, nil })
			assert.Equal(t, 1, r.Stats().GoroutinesWaiting, "it waits for the only place")
		})
		stop := start(t, r)
		synctest.Wait()
		close(release)
		<-done
		stop()
		assert.Equal(t, []string{"deferred"}, order)
	})
}

func panickingInGoroutine() { panic(errors.New("lost in a goroutine")) }

func TestCallInGoroutinePanicIsLoggedNeverLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithMaxGoroutines(1))
		after := make(chan struct{})
		r.CallWhenRunning(func() {
			require.NoError(t, r.CallInGoroutine(panickingInGoroutine))
			require.NoError(t, r.CallInGoroutine(func() { close(after) }))
		})
		stop := start(t, r)
		<-after // the goroutine set goes on
		stop()
		attrs := rec.attrs(t, "reactor: CallInGoroutine function panicked")
		assert.Contains(t, attrs["err"].String(), "lost in a goroutine")
		assert.Regexp(t, `^reactor_test\.panickingInGoroutine \(callingoroutine_test\.go:\d+\)$`, attrs["func"].String())
		assert.Contains(t, attrs["stack"].String(), "reactor_test.panickingInGoroutine")
	})
}

func TestCallInGoroutineGoexitIsLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithMaxGoroutines(1))
		after := make(chan struct{})
		r.CallWhenRunning(func() {
			require.NoError(t, r.CallInGoroutine(func() { runtime.Goexit() }))
			require.NoError(t, r.CallInGoroutine(func() { close(after) }))
		})
		stop := start(t, r)
		<-after // another goroutine took the place of the one that ended
		stop()
		attrs := rec.attrs(t, "reactor: CallInGoroutine function called runtime.Goexit")
		assert.Contains(t, attrs["func"].String(), "reactor_test.TestCallInGoroutineGoexitIsLogged")
		assert.Contains(t, attrs["stack"].String(), "runtime.Goexit")
	})
}

func TestCallInGoroutineAfterShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithMaxGoroutines(1))
		release := make(chan struct{})
		ran := false
		r.CallWhenRunning(func() {
			reactor.DeferToGoroutine(r, func() (int, error) { <-release; return 0, nil })
			// Waits for the place until shutdown: it never runs, and the
			// log says so.
			require.NoError(t, r.CallInGoroutine(func() { ran = true }))
			_ = r.Stop()
		})
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
			// Once the shutdown event has fired: functions still waiting
			// then never start.
			r.CallSoon(func() { close(release) })
			return nil
		})
		require.NoError(t, runInBubble(r))
		assert.False(t, ran)
		assert.Contains(t, rec.attrs(t, "reactor: CallInGoroutine function dropped at shutdown")["func"].String(),
			"reactor_test.TestCallInGoroutineAfterShutdown")

		err := r.CallInGoroutine(func() { ran = true })
		assert.ErrorIs(t, err, reactor.ErrStopped)
		assert.False(t, ran)
		assert.PanicsWithValue(t, "reactor: Reactor.CallInGoroutine: nil function", func() { _ = r.CallInGoroutine(nil) })
	})
}
