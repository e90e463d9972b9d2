package cooperate_test

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

var errTest = errors.New("test failure")

// secs is a ManualClock time as seconds since its start, for readable
// expectations.
func secs(clock *scheduler.ManualClock) time.Duration {
	return clock.Now().Sub(time.Unix(0, 0))
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestLoopingCallCallbackTimeSkips(t *testing.T) {
	clock := scheduler.NewManualClock()
	var times []time.Duration
	var callDuration time.Duration
	lc := cooperate.NewLoopingCall(clock, func() error {
		times = append(times, secs(clock))
		clock.Advance(callDuration)
		return nil
	})
	callDuration = 2 * time.Second
	lc.Start(500*time.Millisecond, true)
	assert.Equal(t, []time.Duration{0}, times)
	assert.Equal(t, 2*time.Second, secs(clock))

	// The call due at 2 s is now, not the future: it is skipped.
	clock.Advance(0)
	assert.Equal(t, []time.Duration{0}, times)

	callDuration = time.Second
	clock.Advance(500 * time.Millisecond)
	assert.Equal(t, []time.Duration{0, 2500 * time.Millisecond}, times)
	assert.Equal(t, 3500*time.Millisecond, secs(clock))

	clock.Advance(0)
	assert.Equal(t, []time.Duration{0, 2500 * time.Millisecond}, times)

	callDuration = 0
	clock.Advance(500 * time.Millisecond)
	assert.Equal(t, []time.Duration{0, 2500 * time.Millisecond, 4 * time.Second}, times)
	assert.Equal(t, 4*time.Second, secs(clock))
	require.NoError(t, lc.Stop())
}

func TestLoopingCallReactorTimeSkips(t *testing.T) {
	clock := scheduler.NewManualClock()
	var times []time.Duration
	lc := cooperate.NewLoopingCall(clock, func() error {
		times = append(times, secs(clock))
		return nil
	})
	lc.Start(500*time.Millisecond, true)
	assert.Equal(t, []time.Duration{0}, times)
	clock.Advance(2 * time.Second)
	assert.Equal(t, []time.Duration{0, 2 * time.Second}, times)
	clock.Advance(time.Second)
	assert.Equal(t, []time.Duration{0, 2 * time.Second, 3 * time.Second}, times)
	clock.Advance(0)
	assert.Equal(t, []time.Duration{0, 2 * time.Second, 3 * time.Second}, times)
	require.NoError(t, lc.Stop())
}

type countAt struct {
	at    time.Duration
	count int
}

func TestLoopingCallReactorTimeCountSkips(t *testing.T) {
	clock := scheduler.NewManualClock()
	var times []countAt
	lc := cooperate.NewLoopingCallWithCount(clock, func(n int) error {
		times = append(times, countAt{secs(clock), n})
		return nil
	})
	const interval = 500 * time.Millisecond
	const delay = 10 * time.Millisecond
	lc.Start(interval, true)
	assert.Equal(t, []countAt{{0, 1}}, times)

	clock.Advance(interval + delay)
	assert.Equal(t, []countAt{{0, 1}, {interval + delay, 1}}, times)

	// Three intervals later, two calls were skipped.
	clock.Advance(3*interval + delay)
	want := []countAt{{0, 1}, {interval + delay, 1}, {4*interval + 2*delay, 3}}
	assert.Equal(t, want, times)

	clock.Advance(0)
	assert.Equal(t, want, times)
	require.NoError(t, lc.Stop())
}

func TestLoopingCallCountLengthyIntervalCounts(t *testing.T) {
	clock := scheduler.NewManualClock()
	var last countAt
	lc := cooperate.NewLoopingCallWithCount(clock, func(n int) error {
		last = countAt{secs(clock), n}
		return nil
	})
	const interval = 500 * time.Millisecond
	const delay = 10 * time.Millisecond
	lc.Start(interval, true)
	assert.Equal(t, countAt{0, 1}, last)

	clock.Advance(interval + delay)
	assert.Equal(t, countAt{interval + delay, 1}, last)

	// Late by most of an interval: still one interval since the last call.
	clock.Advance(interval * 7 / 4)
	assert.Equal(t, countAt{interval*11/4 + delay, 1}, last)

	clock.Advance(interval / 4)
	assert.Equal(t, countAt{3*interval + delay, 1}, last)
	require.NoError(t, lc.Stop())
}

func TestLoopingCallCountsSumToElapsedIntervals(t *testing.T) {
	// Twisted's floating-point boundary test: with durations in integer
	// nanoseconds, an interval that does not divide a second evenly must
	// still never give a count of 0, and the counts add up.
	clock := scheduler.NewManualClock()
	var counts []int
	lc := cooperate.NewLoopingCallWithCount(clock, func(n int) error {
		counts = append(counts, n)
		return nil
	})
	interval := time.Second / 3
	lc.Start(interval, false)
	for range 3 {
		clock.Advance(interval)
	}
	clock.Advance(time.Second - 3*interval)
	sum := 0
	for _, n := range counts {
		assert.Positive(t, n)
		sum += n
	}
	assert.Equal(t, 3, sum)
	require.NoError(t, lc.Stop())
}

func TestLoopingCallWithCountIntervalZero(t *testing.T) {
	clock := scheduler.NewManualClock()
	var counts []int
	var lc *cooperate.LoopingCall
	lc = cooperate.NewLoopingCallWithCount(clock, func(n int) error {
		counts = append(counts, n)
		if len(counts) > 4 {
			require.NoError(t, lc.Stop())
		}
		return nil
	})
	done := watch(lc.Start(0, false))
	clock.Advance(0)
	require.True(t, done.fired)
	assert.NoError(t, done.err)
	assert.Same(t, lc, done.value)
	assert.Equal(t, []int{1, 1, 1, 1, 1}, counts)
}

func TestLoopingCallWithCountIntervalZeroDelay(t *testing.T) {
	clock := scheduler.NewManualClock()
	wait := deferred.New[struct{}]()
	var counts []int
	var lc *cooperate.LoopingCall
	lc = cooperate.NewLoopingCallDeferred(clock, func(n int) *deferred.Deferred[struct{}] {
		counts = append(counts, n)
		if len(counts) == 2 {
			return wait
		}
		if len(counts) > 4 {
			require.NoError(t, lc.Stop())
		}
		return nil
	})
	lc.Start(0, false)
	clock.Advance(0)
	assert.Equal(t, []int{1, 1}, counts, "blocked on the second call's Deferred")
	clock.Advance(2 * time.Second)
	assert.Equal(t, []int{1, 1}, counts)

	wait.Callback(struct{}{})
	clock.Advance(0)
	assert.Equal(t, []int{1, 1, 1, 1, 1}, counts, "no delay seen in the count")
}

func TestLoopingCallWithCountIntervalZeroThenNonZero(t *testing.T) {
	clock := scheduler.NewManualClock()
	wait := deferred.New[struct{}]()
	var counts []int
	lc := cooperate.NewLoopingCallDeferred(clock, func(n int) *deferred.Deferred[struct{}] {
		counts = append(counts, n)
		if len(counts) == 2 {
			return wait
		}
		return nil
	})
	lc.Start(0, false)
	clock.Advance(10 * time.Second)
	assert.Equal(t, []int{1, 1}, counts)

	require.NoError(t, lc.SetInterval(2*time.Second))
	wait.Callback(struct{}{})
	clock.Advance(7 * time.Second)
	assert.Equal(t, []int{1, 1, 3}, counts, "skipped intervals since the last call count")
	clock.Advance(2 * time.Second)
	assert.Equal(t, []int{1, 1, 3, 1}, counts)
	clock.Advance(4 * time.Second)
	assert.Equal(t, []int{1, 1, 3, 1, 2}, counts)
	require.NoError(t, lc.Stop())
}

func TestLoopingCallBasic(t *testing.T) {
	clock := scheduler.NewManualClock()
	calls := 0
	lc := cooperate.NewLoopingCall(clock, func() error {
		calls++
		return nil
	})
	assert.False(t, lc.Running())
	done := watch(lc.Start(100*time.Millisecond, true))
	assert.True(t, lc.Running())
	assert.Equal(t, 100*time.Millisecond, lc.Interval())
	clock.Pump(ms(50), ms(100), ms(100))
	assert.Equal(t, 3, calls)

	assert.False(t, done.fired)
	require.NoError(t, lc.Stop())
	require.True(t, done.fired)
	assert.Same(t, lc, done.value)
	assert.False(t, lc.Running())
	assert.Empty(t, clock.Pending(), "nothing more is scheduled")
}

func TestLoopingCallDelayedStart(t *testing.T) {
	clock := scheduler.NewManualClock()
	calls := 0
	lc := cooperate.NewLoopingCall(clock, func() error {
		calls++
		return nil
	})
	done := watch(lc.Start(100*time.Millisecond, false))
	clock.Pump(ms(50), ms(100), ms(100))
	assert.Equal(t, 2, calls)
	require.NoError(t, lc.Stop())
	assert.Same(t, lc, done.value)
	assert.Empty(t, clock.Pending())
}

func TestLoopingCallNegativeInterval(t *testing.T) {
	clock := scheduler.NewManualClock()
	lc := cooperate.NewLoopingCall(clock, func() error { return nil })
	done := watch(lc.Start(-time.Second, true))
	requireFailedWith(t, done, cooperate.ErrNegativeInterval)
	assert.False(t, lc.Running())
	assert.Empty(t, clock.Pending())
	assert.ErrorIs(t, lc.SetInterval(-1), cooperate.ErrNegativeInterval)
	assert.ErrorIs(t, lc.Stop(), cooperate.ErrNotRunning)
}

func TestLoopingCallStopBeforeFirstCall(t *testing.T) {
	for _, interval := range []time.Duration{0, 10 * time.Second} {
		clock := scheduler.NewManualClock()
		ran := false
		lc := cooperate.NewLoopingCall(clock, func() error {
			ran = true
			return nil
		})
		done := watch(lc.Start(interval, false))
		require.NoError(t, lc.Stop())
		assert.True(t, done.fired)
		clock.Advance(interval)
		assert.False(t, ran, "interval %v", interval)
		assert.Empty(t, clock.Pending())
	}
}

func TestLoopingCallReset(t *testing.T) {
	clock := scheduler.NewManualClock()
	calls := 0
	lc := cooperate.NewLoopingCall(clock, func() error {
		calls++
		return nil
	})
	lc.Start(2*time.Second, false)
	clock.Advance(time.Second)
	require.NoError(t, lc.Reset())
	clock.Advance(time.Second)
	assert.Zero(t, calls)
	clock.Advance(time.Second)
	assert.Equal(t, 1, calls)
	require.NoError(t, lc.Stop())
	assert.ErrorIs(t, lc.Reset(), cooperate.ErrNotRunning)
}

func TestLoopingCallFailure(t *testing.T) {
	clock := scheduler.NewManualClock()
	lc := cooperate.NewLoopingCall(clock, func() error { return errTest })
	done := watch(lc.Start(100*time.Millisecond, true))
	requireFailedWith(t, done, errTest)
	assert.False(t, lc.Running())
	assert.Empty(t, clock.Pending())
	assert.ErrorIs(t, lc.Stop(), cooperate.ErrNotRunning)
}

func TestLoopingCallFailAndStop(t *testing.T) {
	clock := scheduler.NewManualClock()
	var lc *cooperate.LoopingCall
	lc = cooperate.NewLoopingCall(clock, func() error {
		require.NoError(t, lc.Stop())
		return errTest
	})
	done := watch(lc.Start(100*time.Millisecond, false))
	clock.Advance(100 * time.Millisecond)
	requireFailedWith(t, done, errTest)
}

func TestLoopingCallPanic(t *testing.T) {
	clock := scheduler.NewManualClock()
	lc := cooperate.NewLoopingCall(clock, func() error { panic("tick") })
	done := watch(lc.Start(time.Second, true))
	var pe *deferred.PanicError
	require.True(t, done.fired)
	require.ErrorAs(t, done.err, &pe)
	assert.Equal(t, "tick", pe.Value)
}

func TestLoopingCallEveryIteration(t *testing.T) {
	clock := scheduler.NewManualClock()
	calls := 0
	var lc *cooperate.LoopingCall
	lc = cooperate.NewLoopingCall(clock, func() error {
		calls++
		if calls > 5 {
			require.NoError(t, lc.Stop())
		}
		return nil
	})
	done := watch(lc.Start(0, true))
	clock.Advance(0)
	require.True(t, done.fired)
	assert.Equal(t, 6, calls)
}

func TestLoopingCallStopAtOnceLater(t *testing.T) {
	clock := scheduler.NewManualClock()
	ran := false
	lc := cooperate.NewLoopingCall(clock, func() error {
		ran = true
		return nil
	})
	lc.Start(time.Second, false)
	clock.CallLater(0, func() { require.NoError(t, lc.Stop()) })
	clock.Advance(2 * time.Second)
	assert.False(t, ran)
}

func TestLoopingCallWaitDeferred(t *testing.T) {
	clock := scheduler.NewManualClock()
	calls := 0
	var lc *cooperate.LoopingCall
	lc = cooperate.NewLoopingCallDeferred(clock, func(int) *deferred.Deferred[struct{}] {
		calls++
		d := deferred.New[struct{}]()
		d.AddCallback(func(v struct{}) (struct{}, error) {
			require.NoError(t, lc.Stop())
			return v, nil
		})
		clock.CallLater(time.Second, func() { d.Callback(struct{}{}) })
		return d
	})
	done := watch(lc.Start(200*time.Millisecond, true))
	clock.Pump(ms(200), ms(800))
	assert.Equal(t, 1, calls, "not called again while its Deferred is pending")
	require.True(t, done.fired)
	assert.NoError(t, done.err)
	assert.Empty(t, clock.Pending())
}

func TestLoopingCallFailurePropagation(t *testing.T) {
	clock := scheduler.NewManualClock()
	lc := cooperate.NewLoopingCallDeferred(clock, func(int) *deferred.Deferred[int] {
		d := deferred.New[int]()
		clock.CallLater(300*time.Millisecond, func() { d.Errback(errTest) })
		return d
	})
	done := watch(lc.Start(time.Second, true))
	clock.Pump(ms(300))
	requireFailedWith(t, done, errTest)
	assert.Empty(t, clock.Pending())
}

func TestLoopingCallDeferredWithCount(t *testing.T) {
	clock := scheduler.NewManualClock()
	first := deferred.New[struct{}]()
	var counts []int
	lc := cooperate.NewLoopingCallDeferred(clock, func(n int) *deferred.Deferred[struct{}] {
		counts = append(counts, n)
		if len(counts) == 1 {
			return first
		}
		return nil
	})
	lc.Start(200*time.Millisecond, false)
	assert.Empty(t, counts)
	clock.Pump(ms(200), ms(400))
	assert.Equal(t, []int{1}, counts)

	first.Callback(struct{}{})
	clock.Pump(ms(200))
	assert.Equal(t, []int{1, 3}, counts, "the calls due at 0.6 s and 0.8 s were missed")
	require.NoError(t, lc.Stop())
}

func TestLoopingCallDeferredFiredElsewhere(t *testing.T) {
	clock := scheduler.NewManualClock()
	var pending *deferred.Deferred[struct{}]
	calls := 0
	lc := cooperate.NewLoopingCallDeferred(clock, func(int) *deferred.Deferred[struct{}] {
		calls++
		pending = deferred.New[struct{}]()
		return pending
	})
	lc.Start(time.Second, true)
	var wg sync.WaitGroup
	wg.Go(func() { pending.Callback(struct{}{}) })
	wg.Wait()
	clock.Advance(time.Second)
	assert.Equal(t, 2, calls, "the loop went on where the clock runs calls")
	require.NoError(t, lc.Stop())
	pending.Callback(struct{}{})
	clock.Advance(0)
}

func TestLoopingCallStopWhileWaiting(t *testing.T) {
	clock := scheduler.NewManualClock()
	wait := deferred.New[struct{}]()
	lc := cooperate.NewLoopingCallDeferred(clock, func(int) *deferred.Deferred[struct{}] { return wait })
	done := watch(lc.Start(time.Second, true))
	require.NoError(t, lc.Stop())
	assert.False(t, done.fired, "fires once the call under way finishes")
	assert.PanicsWithValue(t, "cooperate: LoopingCall.Start: already running", func() {
		lc.Start(time.Second, true)
	})
	wait.Callback(struct{}{})
	clock.Advance(0)
	require.True(t, done.fired)
	assert.NoError(t, done.err)

	// Once its Deferred has fired, the loop can start again.
	again := watch(lc.Start(time.Second, false))
	require.NoError(t, lc.Stop())
	assert.True(t, again.fired)
}

func TestLoopingCallMisuse(t *testing.T) {
	clock := scheduler.NewManualClock()
	assert.PanicsWithValue(t, "cooperate: NewLoopingCall: nil function", func() { cooperate.NewLoopingCall(clock, nil) })
	assert.PanicsWithValue(t, "cooperate: NewLoopingCall: nil clock", func() {
		cooperate.NewLoopingCall(nil, func() error { return nil })
	})
	assert.PanicsWithValue(t, "cooperate: NewLoopingCallWithCount: nil function", func() {
		cooperate.NewLoopingCallWithCount(clock, nil)
	})
	assert.PanicsWithValue(t, "cooperate: NewLoopingCallDeferred: nil function", func() {
		cooperate.NewLoopingCallDeferred[int](clock, nil)
	})
	lc := cooperate.NewLoopingCall(clock, func() error { return nil })
	lc.Start(time.Second, false)
	assert.PanicsWithValue(t, "cooperate: LoopingCall.Start: already running", func() { lc.Start(time.Second, false) })
	require.NoError(t, lc.Stop())
}

func exitingTick() error {
	runtime.Goexit()
	return nil
}

func TestLoopingCallGoexit(t *testing.T) {
	// The function runs where the clock runs its calls, and ends that
	// goroutine; the loop stops first, its Deferred failing with an error
	// that names the function.
	clock := scheduler.NewManualClock()
	lc := cooperate.NewLoopingCall(clock, exitingTick)
	d := watch(lc.Start(time.Second, false))
	require.True(t, exits(func() { clock.Advance(time.Second) }))
	requireFailedWith(t, d, cooperate.ErrGoexit)
	assert.Regexp(t, `^cooperate: LoopingCall function cooperate_test\.exitingTick \(loopingcall_test\.go:\d+\) called runtime\.Goexit$`, d.err.Error())
	assert.False(t, lc.Running())
	assert.Empty(t, clock.Pending(), "nothing more is scheduled")
}
