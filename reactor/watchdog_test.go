package reactor_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
)

// slowCallback holds the loop for d of the bubble's fake time.
func slowCallback(d time.Duration) {
	<-time.After(d)
}

func TestWatchdogReportsACallbackHoldingTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(100 * time.Millisecond))
		var reportsWhileRunning int
		r.CallWhenRunning(func() {
			slowCallback(300 * time.Millisecond)
			reportsWhileRunning = len(rec.messages())
			_ = r.Stop()
		})
		require.NoError(t, r.Run())

		assert.Equal(t, 1, reportsWhileRunning, "reported while the callback still ran")
		assert.Equal(t, []string{
			"reactor: callback is holding the loop",
			"reactor: slow callback finished",
		}, rec.messages())
		report := rec.attrs(t, "reactor: callback is holding the loop")
		assert.GreaterOrEqual(t, report["held"].Duration(), 100*time.Millisecond)
		assert.Contains(t, report["stack"].String(), "reactor_test.slowCallback",
			"the report shows the reactor goroutine's stack")
		assert.Contains(t, report["stack"].String(), "TestWatchdogReportsACallbackHoldingTheLoop")
		held := rec.attrs(t, "reactor: slow callback finished")["held"].Duration()
		// Measured from the watchdog's first sight of the callback: within a
		// quarter of the threshold of the true 300 ms.
		assert.GreaterOrEqual(t, held, 275*time.Millisecond)
		assert.LessOrEqual(t, held, 300*time.Millisecond)
	})
}

func TestWatchdogIgnoresQuickCallbacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(100 * time.Millisecond))
		n := 0
		var tick func()
		tick = func() {
			slowCallback(60 * time.Millisecond)
			if n++; n == 10 {
				_ = r.Stop()
				return
			}
			r.CallSoon(tick)
		}
		r.CallWhenRunning(tick)
		require.NoError(t, r.Run())
		assert.Empty(t, rec.messages(), "ten 60 ms callbacks in a row: none held the loop 100 ms")
	})
}

func TestWatchdogOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(0))
		r.CallWhenRunning(func() {
			slowCallback(time.Second)
			_ = r.Stop()
		})
		require.NoError(t, r.Run())
		assert.Empty(t, rec.messages())
	})
}

func TestWatchdogSleepsWithTheReactor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(100 * time.Millisecond))
		stop := start(t, r)
		synctest.Wait()
		<-time.After(time.Hour) // fake time: an idle hour
		synctest.Wait()
		assert.Empty(t, rec.messages(), "a sleeping reactor holds nothing")
		// And it wakes again with the reactor.
		done := make(chan struct{})
		r.CallSoon(func() { slowCallback(200 * time.Millisecond); close(done) })
		<-done
		stop()
		assert.Equal(t, []string{
			"reactor: callback is holding the loop",
			"reactor: slow callback finished",
		}, rec.messages())
	})
}
