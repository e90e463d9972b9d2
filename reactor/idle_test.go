package reactor_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// fakeIdler is a scheduler.Idler that, while take is set, waits in Idle
// for Wake or for the time it is given, and hands the reactor what it is
// told to.
type fakeIdler struct {
	take  atomic.Bool
	woken chan struct{} // capacity 1
	busy  atomic.Int32
	wakes atomic.Int32

	mu    sync.Mutex
	waits []time.Duration // the d of each Idle that took the time
	asked int             // Idle calls
	next  func()          // handed to the reactor by the next Idle that takes it
	panic bool            // the next Idle panics
}

func newFakeIdler(take bool) *fakeIdler {
	f := &fakeIdler{woken: make(chan struct{}, 1)}
	f.take.Store(take)
	return f
}

func (f *fakeIdler) Idle(d time.Duration) (func(), bool) {
	f.mu.Lock()
	f.asked++
	if f.panic {
		f.panic = false
		f.mu.Unlock()
		panic("idler broken")
	}
	if !f.take.Load() {
		f.mu.Unlock()
		return nil, false
	}
	f.waits = append(f.waits, d)
	run := f.next
	f.next = nil
	f.mu.Unlock()
	if run != nil {
		return run, true // an event was already there
	}
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-f.woken:
	case <-timeout:
	}
	return nil, true
}

func (f *fakeIdler) Wake() {
	f.wakes.Add(1)
	select {
	case f.woken <- struct{}{}:
	default:
	}
}

func (f *fakeIdler) Busy() { f.busy.Add(1) }

func (f *fakeIdler) waited() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

func (f *fakeIdler) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked
}

// runWithIdlers runs a reactor without a watchdog, offering its idle time
// to idlers, until the test ends.
func runWithIdlers(t *testing.T, idlers ...*fakeIdler) (*reactor.Reactor, *logRecorder) {
	t.Helper()
	r, rec := newReactor(withoutWatchdog())
	for _, i := range idlers {
		_, remove := r.AddIdler(i)
		t.Cleanup(remove)
	}
	t.Cleanup(start(t, r))
	return r, rec
}

func TestIdlerWaitsInPlaceOfTheSleepUntilTheNextTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idler := newFakeIdler(true)
		r, _ := runWithIdlers(t, idler)

		t0 := time.Now()
		fired := make(chan time.Duration, 1)
		r.CallSoon(func() {
			r.CallLater(5*time.Millisecond, func() { fired <- since(t0) })
		})
		synctest.Wait()
		waits := idler.waited()
		require.NotEmpty(t, waits, "the idle reactor did not offer its time")
		assert.Equal(t, 5*time.Millisecond, waits[len(waits)-1], "the idler may wait until the timer is due, and no longer")
		busyBefore := idler.busy.Load()

		assert.Equal(t, 5*time.Millisecond, <-fired, "the timer ran when due, after the idler's wait")
		synctest.Wait()
		assert.Greater(t, idler.busy.Load(), busyBefore, "the idler was not told that the loop had work")
		waits = idler.waited()
		assert.Negative(t, waits[len(waits)-1], "with no timer pending, the wait has no limit")
	})
}

func TestCallSoonWakesAWaitingIdler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idler := newFakeIdler(true)
		r, _ := runWithIdlers(t, idler)
		synctest.Wait() // the reactor waits in the idler, without limit

		t0 := time.Now()
		ran := make(chan time.Duration, 1)
		r.CallSoon(func() { ran <- since(t0) })
		assert.Zero(t, <-ran, "the function waited for something other than the wake-up")
		assert.Positive(t, idler.wakes.Load())
	})
}

func TestWhatTheIdlerHandsBackRunsOnTheReactor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(withoutWatchdog())
		idler := newFakeIdler(true)
		_, remove := r.AddIdler(idler)
		defer remove()

		// The idler hands back a function that makes it hand back another:
		// each runs on the reactor, between two of its Idle calls.
		var order []string
		var mu sync.Mutex
		note := func(s string) {
			mu.Lock()
			order = append(order, s)
			mu.Unlock()
		}
		var inner func()
		outer := func() {
			note("outer")
			r.CallSoon(func() { note("queued by outer") })
			idler.mu.Lock()
			idler.next = inner
			idler.mu.Unlock()
		}
		inner = func() { note("inner") }
		idler.mu.Lock()
		idler.next = outer
		idler.mu.Unlock()

		stop := start(t, r)
		synctest.Wait()
		stop()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"outer", "queued by outer", "inner"}, order,
			"the queue runs before the reactor is idle again, and the idler is asked again once it is")
	})
}

func TestIdlerThatDeclinesLetsTheReactorSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idler := newFakeIdler(false)
		r, _ := runWithIdlers(t, idler)
		synctest.Wait()
		asked := idler.calls()
		require.Positive(t, asked)

		ran := make(chan struct{})
		r.CallSoon(func() { close(ran) })
		<-ran
		synctest.Wait()
		assert.Equal(t, asked+1, idler.calls(), "the idler is asked once each time the reactor goes idle")
		assert.Empty(t, idler.waited())
	})
}

func TestLaterIdlersAreToldBusyWhenAnEarlierOneHasWaited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first, second := newFakeIdler(true), newFakeIdler(true)
		r, _ := runWithIdlers(t, first, second)
		synctest.Wait()
		assert.NotEmpty(t, first.waited())
		assert.Zero(t, second.calls(), "the second idler was asked while the first took the time")

		ran := make(chan struct{})
		r.CallSoon(func() { close(ran) })
		<-ran
		assert.Positive(t, second.busy.Load(), "the second idler was not told that the loop did not wait for it")

		first.take.Store(false)
		r.CallSoon(func() {})
		synctest.Wait()
		assert.NotEmpty(t, second.waited(), "once the first declines, the second has the time")
	})
}

func TestRemovedIdlerIsNotAskedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(withoutWatchdog())
		idler := newFakeIdler(false)
		_, remove := r.AddIdler(idler)
		stop := start(t, r)
		defer stop()
		synctest.Wait()
		remove()
		remove() // a second call does nothing
		asked := idler.calls()
		for range 3 {
			r.CallSoon(func() {})
			synctest.Wait()
		}
		assert.Equal(t, asked, idler.calls())
	})
}

func TestPokeWakesTheReactorAndReportsWhenItHasStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(withoutWatchdog())
		idler := newFakeIdler(false)
		poke, remove := r.AddIdler(idler)
		defer remove()
		stop := start(t, r)
		synctest.Wait() // asleep, the idler having declined
		asked := idler.calls()

		assert.True(t, poke())
		synctest.Wait()
		assert.Equal(t, asked+1, idler.calls(), "a poke makes the sleeping reactor ask its idlers again")

		busy := idler.busy.Load()
		stop()
		assert.Greater(t, idler.busy.Load(), busy, "the idler was not told when the reactor stopped")
		assert.False(t, poke(), "poke after the reactor has stopped")
	})
}

func TestIdlerPanicIsLoggedAndTheReactorSleeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idler := newFakeIdler(false)
		idler.panic = true
		r, rec := runWithIdlers(t, idler)
		synctest.Wait()
		assert.Contains(t, rec.messages(), "reactor: Idler.Idle panicked")
		assert.Positive(t, idler.busy.Load(), "the idlers were not told that the loop will not wait for them")

		ran := make(chan struct{})
		r.CallSoon(func() { close(ran) })
		<-ran
	})
}

func TestAddIdlerNilPanics(t *testing.T) {
	r, _ := newReactor()
	assert.PanicsWithValue(t, "reactor: Reactor.AddIdler: nil Idler", func() { r.AddIdler(nil) })
}

var _ scheduler.Idler = (*fakeIdler)(nil)
