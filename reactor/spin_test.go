package reactor_test

import (
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
)

// spinForever is a spin so long that only work, a timer or Stop ends it.
const spinForever = time.Hour

// patience bounds the wait for something that a spin must not hold back;
// without the bound, a spin that held it back would hang the test.
const patience = 10 * time.Second

// spinningReactor starts a reactor that spins before every sleep for up to
// an hour, on at least two threads (one spins, one produces).
func spinningReactor(t *testing.T) (*reactor.Reactor, func()) {
	t.Helper()
	prev := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	r, _ := newReactor(withoutWatchdog(), reactor.WithSpin(spinForever))
	reactor.ForceSpin(r)
	return r, start(t, r)
}

// waitFor waits for ch to be closed, failing the test after patience.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		require.FailNow(t, "a spinning reactor held back "+what)
	}
}

func TestSpinningReactorIsNotWokenByProducers(t *testing.T) {
	r, stop := spinningReactor(t)
	defer stop()
	ran := make(chan struct{}, 1)
	ping := func() { ran <- struct{}{} }
	r.CallSoon(ping)
	<-ran
	before := r.Stats()
	const calls = 100
	for range calls {
		r.CallSoon(ping)
		<-ran
	}
	after := r.Stats()
	// The reactor spun between the calls instead of sleeping, so no
	// producer had to wake it; sleeping, it is woken about once a call.
	assert.Equal(t, before.Wakeups, after.Wakeups, "producers woke a spinning reactor")
	assert.Positive(t, after.Spins-before.Spins)
	assert.Equal(t, before.Callbacks+calls, after.Callbacks)
}

func TestSpinEndsAtOnceOnStop(t *testing.T) {
	r, _ := newReactor(withoutWatchdog(), reactor.WithSpin(spinForever))
	reactor.ForceSpin(r)
	prev := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(prev)
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	for r.Stats().Spins == 0 {
		runtime.Gosched() // until the reactor spins
	}
	require.NoError(t, r.Stop())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(patience):
		require.FailNow(t, "a spinning reactor held back Stop")
	}
}

func TestSpinEndsAtTheNextDueTimer(t *testing.T) {
	r, stop := spinningReactor(t)
	defer stop()
	fired := make(chan struct{})
	// Scheduled on the reactor before it spins: the spin stops at its due
	// time.
	r.CallSoon(func() { r.CallLater(time.Millisecond, func() { close(fired) }) })
	waitFor(t, fired, "a timer due before the spin's end")
	assert.Less(t, r.Stats().LagMax, patience)
}

func TestSpinEndsWhenAnotherGoroutineSchedulesATimer(t *testing.T) {
	r, stop := spinningReactor(t)
	defer stop()
	for r.Stats().Spins == 0 {
		runtime.Gosched() // until the reactor spins
	}
	fired := make(chan struct{})
	// Scheduled from this goroutine while the reactor spins: the spin
	// learns of it although the reactor is awake and nobody wakes it.
	r.CallLater(time.Millisecond, func() { close(fired) })
	waitFor(t, fired, "a timer scheduled during the spin")
}

func TestSpinEndsWhenTheClockStandsStill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// In a bubble the clock moves only when every goroutine waits, so
		// a spin that waited for it to pass its end would never end.
		prev := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
		defer runtime.GOMAXPROCS(prev)
		r, _ := newReactor(withoutWatchdog(), reactor.WithSpin(time.Millisecond))
		reactor.ForceSpin(r)
		t0 := time.Now()
		var at time.Duration
		r.CallLater(time.Second, func() { at = since(t0); _ = r.Stop() })
		require.NoError(t, r.Run())
		assert.Equal(t, time.Second, at)
		assert.Positive(t, r.Stats().Spins)
	})
}

func TestReactorDrivenByTimersNeverSpins(t *testing.T) {
	// Real time: in a bubble every wake is free, so nothing would spin
	// anyway.
	r, _ := newReactor(withoutWatchdog())
	n := 0
	var tick func()
	tick = func() {
		if n++; n == 50 {
			_ = r.Stop()
			return
		}
		r.CallLater(100*time.Microsecond, tick)
	}
	r.CallWhenRunning(tick)
	require.NoError(t, r.Run())
	s := r.Stats()
	assert.Zero(t, s.Spins, "timers end its sleeps: spinning would not pay")
	assert.Positive(t, s.Wakeups)
}

func TestSpinOffNeverSpins(t *testing.T) {
	r, _ := newReactor(withoutWatchdog(), reactor.WithSpin(0))
	reactor.ForceSpin(r) // even when it would spin at every chance
	stop := start(t, r)
	ran := make(chan struct{}, 1)
	for range 100 {
		r.CallSoon(func() { ran <- struct{}{} })
		<-ran
	}
	stop()
	assert.Zero(t, r.Stats().Spins)
}
