package scheduler_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/scheduler"
)

func TestManualClockStartsAtUnixZero(t *testing.T) {
	c := scheduler.NewManualClock()
	assert.True(t, c.Now().Equal(time.Unix(0, 0)))
	assert.Empty(t, c.Pending())
}

func TestManualClockCallLater(t *testing.T) {
	c := scheduler.NewManualClock()
	ran := 0
	call := c.CallLater(time.Second, func() { ran++ })
	assert.True(t, call.Active())
	assert.True(t, call.When().Equal(time.Unix(1, 0)))

	c.Advance(999 * time.Millisecond)
	assert.Equal(t, 0, ran)
	assert.True(t, call.Active())

	c.Advance(time.Millisecond)
	assert.Equal(t, 1, ran)
	assert.False(t, call.Active())
	assert.True(t, c.Now().Equal(time.Unix(1, 0)))

	c.Advance(time.Hour)
	assert.Equal(t, 1, ran, "a call runs once")
}

func TestManualClockNowInsideCallIsAdvancedTime(t *testing.T) {
	c := scheduler.NewManualClock()
	var seen []time.Time
	c.CallLater(2*time.Second, func() { seen = append(seen, c.Now()) })
	c.CallLater(3*time.Second, func() { seen = append(seen, c.Now()) })
	c.Advance(5 * time.Second)
	// Twisted's Clock moves the time first, then runs the calls.
	assert.Equal(t, []time.Time{time.Unix(5, 0), time.Unix(5, 0)}, seen)
}

func TestManualClockCancel(t *testing.T) {
	c := scheduler.NewManualClock()
	ran := false
	call := c.CallLater(time.Second, func() { ran = true })
	require.NoError(t, call.Cancel())
	assert.False(t, call.Active())
	assert.Empty(t, c.Pending())
	c.Advance(2 * time.Second)
	assert.False(t, ran)

	assert.ErrorIs(t, call.Cancel(), scheduler.ErrAlreadyCancelled)
	assert.ErrorIs(t, call.Reset(time.Second), scheduler.ErrAlreadyCancelled)
	assert.ErrorIs(t, call.Delay(time.Second), scheduler.ErrAlreadyCancelled)
}

func TestManualClockCalledCallRefusesChanges(t *testing.T) {
	c := scheduler.NewManualClock()
	var call scheduler.Call
	var inside []error
	call = c.CallLater(time.Second, func() {
		// Twisted marks a DelayedCall called before running it.
		inside = append(inside, call.Cancel())
		assert.False(t, call.Active())
	})
	c.Advance(time.Second)
	assert.Equal(t, []error{scheduler.ErrAlreadyCalled}, inside)
	assert.ErrorIs(t, call.Cancel(), scheduler.ErrAlreadyCalled)
	assert.ErrorIs(t, call.Reset(time.Second), scheduler.ErrAlreadyCalled)
	assert.ErrorIs(t, call.Delay(time.Second), scheduler.ErrAlreadyCalled)
}

func TestManualClockSameTimeRunsInSchedulingOrder(t *testing.T) {
	c := scheduler.NewManualClock()
	var order []int
	for i := range 20 {
		c.CallLater(time.Second, func() { order = append(order, i) })
	}
	c.Advance(time.Second)
	want := make([]int, 20)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, order)
}

func TestManualClockRunsInDueOrder(t *testing.T) {
	c := scheduler.NewManualClock()
	var order []string
	c.CallLater(3*time.Second, func() { order = append(order, "c") })
	c.CallLater(1*time.Second, func() { order = append(order, "a") })
	c.CallLater(2*time.Second, func() { order = append(order, "b") })
	c.Advance(10 * time.Second)
	assert.Equal(t, []string{"a", "b", "c"}, order)
}

func TestManualClockReset(t *testing.T) {
	tests := []struct {
		name  string
		reset time.Duration
		want  time.Time
	}{
		{"later", 3 * time.Second, time.Unix(4, 0)},
		{"sooner", 500 * time.Millisecond, time.Unix(1, 500_000_000)},
		{"negative counts as zero", -time.Second, time.Unix(1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := scheduler.NewManualClock()
			var ranAt time.Time
			call := c.CallLater(2*time.Second, func() { ranAt = c.Now() })
			c.Advance(time.Second)
			require.NoError(t, call.Reset(tt.reset))
			assert.True(t, call.When().Equal(tt.want))
			c.Advance(tt.want.Sub(c.Now()))
			assert.True(t, ranAt.Equal(tt.want), "ran at %v", ranAt)
		})
	}
}

func TestManualClockDelay(t *testing.T) {
	c := scheduler.NewManualClock()
	ran := false
	call := c.CallLater(time.Second, func() { ran = true })
	require.NoError(t, call.Delay(2*time.Second))
	assert.True(t, call.When().Equal(time.Unix(3, 0)))
	c.Advance(2 * time.Second)
	assert.False(t, ran)
	require.NoError(t, call.Delay(-500*time.Millisecond))
	assert.True(t, call.When().Equal(time.Unix(2, 500_000_000)))
	c.Advance(500 * time.Millisecond)
	assert.True(t, ran)
}

func TestManualClockResetReordersPending(t *testing.T) {
	// Twisted's Clock keeps its calls sorted after a reset, whether the
	// reset comes before or after the other call is scheduled.
	for _, resetFirst := range []bool{true, false} {
		c := scheduler.NewManualClock()
		var order []string
		a := c.CallLater(time.Second, func() { order = append(order, "a") })
		if resetFirst {
			require.NoError(t, a.Reset(3*time.Second))
		}
		b := c.CallLater(2*time.Second, func() { order = append(order, "b") })
		if !resetFirst {
			require.NoError(t, a.Reset(3*time.Second))
		}
		assert.Equal(t, []scheduler.Call{b, a}, c.Pending())
		c.Pump(time.Second, time.Second, time.Second)
		assert.Equal(t, []string{"b", "a"}, order)
	}
}

func TestManualClockResetToSameTimeGoesLast(t *testing.T) {
	c := scheduler.NewManualClock()
	var order []string
	a := c.CallLater(time.Second, func() { order = append(order, "a") })
	c.CallLater(time.Second, func() { order = append(order, "b") })
	require.NoError(t, a.Reset(time.Second))
	c.Advance(time.Second)
	assert.Equal(t, []string{"b", "a"}, order)
}

func TestManualClockCallsScheduledByCallsRunInSameAdvance(t *testing.T) {
	c := scheduler.NewManualClock()
	var order []string
	c.CallLater(time.Second, func() {
		order = append(order, "first")
		c.CallSoon(func() { order = append(order, "soon") })
		c.CallLater(0, func() { order = append(order, "zero") })
		c.CallLater(-time.Second, func() { order = append(order, "negative") })
		c.CallLater(time.Second, func() { order = append(order, "later") })
	})
	c.Advance(1500 * time.Millisecond)
	assert.Equal(t, []string{"first", "soon", "zero", "negative"}, order)
	assert.Len(t, c.Pending(), 1)
	c.Advance(999 * time.Millisecond)
	assert.Len(t, order, 4, "later is due a second after the call that scheduled it ran")
	c.Advance(time.Millisecond)
	assert.Equal(t, []string{"first", "soon", "zero", "negative", "later"}, order)
}

func TestManualClockCallSoonRunsOnAdvanceZero(t *testing.T) {
	c := scheduler.NewManualClock()
	ran := false
	c.CallSoon(func() { ran = true })
	assert.False(t, ran, "CallSoon never runs f before Advance")
	c.Advance(0)
	assert.True(t, ran)
}

func TestManualClockCallCancelledByEarlierCallDoesNotRun(t *testing.T) {
	c := scheduler.NewManualClock()
	var second scheduler.Call
	ran := false
	c.CallLater(time.Second, func() { require.NoError(t, second.Cancel()) })
	second = c.CallLater(time.Second, func() { ran = true })
	c.Advance(time.Second)
	assert.False(t, ran)
}

func TestManualClockPendingSortedByDueTime(t *testing.T) {
	c := scheduler.NewManualClock()
	c3 := c.CallLater(3*time.Second, func() {})
	c1 := c.CallLater(1*time.Second, func() {})
	c2 := c.CallLater(2*time.Second, func() {})
	c1b := c.CallLater(1*time.Second, func() {})
	assert.Equal(t, []scheduler.Call{c1, c1b, c2, c3}, c.Pending())
	c.Advance(time.Second)
	assert.Equal(t, []scheduler.Call{c2, c3}, c.Pending())
}

func TestManualClockPump(t *testing.T) {
	c := scheduler.NewManualClock()
	var at []time.Duration
	for _, d := range []time.Duration{1, 2, 4} {
		c.CallLater(d*time.Second, func() { at = append(at, c.Now().Sub(time.Unix(0, 0))) })
	}
	c.Pump(time.Second, time.Second, time.Second, time.Second)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, at)
}

func TestManualClockPanicsOnMisuse(t *testing.T) {
	c := scheduler.NewManualClock()
	assert.PanicsWithValue(t, "scheduler: ManualClock.CallLater: nil function", func() { c.CallLater(time.Second, nil) })
	assert.PanicsWithValue(t, "scheduler: ManualClock.CallSoon: nil function", func() { c.CallSoon(nil) })
	assert.PanicsWithValue(t, "scheduler: ManualClock.Advance: negative duration", func() { c.Advance(-1) })
}

func TestManualClockPanicInCallPropagatesAndLeavesTheRestPending(t *testing.T) {
	c := scheduler.NewManualClock()
	ran := false
	c.CallLater(time.Second, func() { panic("boom") })
	c.CallLater(time.Second, func() { ran = true })
	assert.PanicsWithValue(t, "boom", func() { c.Advance(time.Second) })
	assert.False(t, ran)
	c.Advance(0)
	assert.True(t, ran)
}

func TestManualClockIsSafeFromSeveralGoroutines(t *testing.T) {
	c := scheduler.NewManualClock()
	var mu sync.Mutex
	ran := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				call := c.CallLater(time.Duration(i)*time.Millisecond, func() {
					mu.Lock()
					ran++
					mu.Unlock()
				})
				if i%2 == 0 {
					assert.NoError(t, call.Cancel())
				}
				c.CallSoon(func() {
					mu.Lock()
					ran++
					mu.Unlock()
				})
				_ = c.Now()
				_ = c.Pending()
			}
		})
	}
	wg.Wait()
	c.Advance(time.Second)
	assert.Equal(t, 8*(50+100), ran)
}

func TestManualClockImplementsLoop(t *testing.T) {
	var loop scheduler.Loop = scheduler.NewManualClock()
	ran := false
	loop.CallSoon(func() { ran = true })
	loop.(*scheduler.ManualClock).Advance(0)
	assert.True(t, ran)
}
