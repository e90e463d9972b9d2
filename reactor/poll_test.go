package reactor_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPollerRunsAfterEachBusyPassOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(withoutWatchdog())
		var polls atomic.Int32
		var order []string
		remove := r.AddPoller(func() {
			polls.Add(1)
			order = append(order, "poll")
		})
		defer remove()
		stop := start(t, r)
		defer stop()
		synctest.Wait()
		startup := polls.Load()

		r.CallSoon(func() { order = append(order, "soon") })
		synctest.Wait()
		assert.Equal(t, startup+1, polls.Load(), "one poll after the pass that ran the function")
		assert.Equal(t, []string{"soon", "poll"}, order[len(order)-2:], "the poll comes after the pass's work")

		r.CallLater(time.Second, func() {})
		time.Sleep(2 * time.Second) // synctest's fake clock: the reactor idles, then runs the timer
		synctest.Wait()
		assert.Equal(t, startup+2, polls.Load(), "a poll after the pass that ran the timer, none while idle")
	})
}

func TestPollerPanicIsLoggedAndRemoveEndsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(withoutWatchdog())
		var polls atomic.Int32
		remove := r.AddPoller(func() {
			polls.Add(1)
			panic("poller broken")
		})
		stop := start(t, r)
		defer stop()
		r.CallSoon(func() {})
		synctest.Wait()
		require.Positive(t, polls.Load())
		assert.Contains(t, rec.messages(), "reactor: callback panicked")

		remove()
		remove() // a second call does nothing
		seen := polls.Load()
		ran := make(chan struct{})
		r.CallSoon(func() { close(ran) })
		<-ran
		synctest.Wait()
		assert.Equal(t, seen, polls.Load(), "a removed poller is not called")
	})
}

func TestAddPollerNilPanics(t *testing.T) {
	r, _ := newReactor()
	assert.PanicsWithValue(t, "reactor: Reactor.AddPoller: nil function", func() { r.AddPoller(nil) })
}
