package reactor_test

import (
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

func TestOnStopRunsInOrderAsTheReactorStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var order []string
		_, ok := r.OnStop(func() {
			order = append(order, "first")
			assert.True(t, reactor.OnReactor(r))
			assert.False(t, r.Stopped(), "the reactor still takes work")
			assert.True(t, r.TryCallSoon(func() { order = append(order, "queued by a hook") }))
		})
		require.True(t, ok)
		cancel, ok := r.OnStop(func() { order = append(order, "cancelled") })
		require.True(t, ok)
		cancel()
		cancel() // twice: nothing more
		r.OnStop(func() { order = append(order, "second") })
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
			order = append(order, "after shutdown")
			return nil
		})
		r.CallWhenRunning(func() { _ = r.Stop() })
		require.NoError(t, runInBubble(r))
		assert.Equal(t, []string{"after shutdown", "first", "second", "queued by a hook"}, order)

		cancel, ok = r.OnStop(func() { order = append(order, "too late") })
		assert.False(t, ok, "a stopped reactor runs no more hooks")
		cancel()
		assert.Len(t, order, 4)
		assert.PanicsWithValue(t, "reactor: Reactor.OnStop: nil function", func() { r.OnStop(nil) })
		var _ scheduler.StopNotifier = r
	})
}

func TestOnStopHookThatCallsGoexitLeavesTheOthersToRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		ran := false
		r.OnStop(func() { runtime.Goexit() })
		r.OnStop(func() { ran = true })
		r.CallWhenRunning(func() { _ = r.Stop() })
		assert.ErrorIs(t, runInBubble(r), reactor.ErrGoexit)
		assert.True(t, ran)
	})
}
