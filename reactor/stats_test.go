package reactor_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatsCounts(t *testing.T) {
	r, _ := newReactor()
	for range 3 {
		r.CallSoon(func() {})
	}
	r.CallLater(time.Hour, func() {})
	r.CallLater(time.Hour, func() {})
	s := r.Stats()
	assert.Equal(t, 3, s.QueueLen)
	assert.Equal(t, 2, s.TimersPending)
	assert.Zero(t, s.Callbacks)
	assert.Zero(t, s.LagSamples)

	var inside int
	r.CallSoon(func() {
		inside = r.Stats().TimersPending
		_ = r.Stop()
	})
	require.NoError(t, r.Run())
	s = r.Stats()
	assert.Equal(t, 2, inside)
	// The startup event, four queued functions, the shutdown event.
	assert.Equal(t, uint64(6), s.Callbacks)
	assert.Zero(t, s.QueueLen)
	assert.Zero(t, s.TimersPending)
}

func TestStatsLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor(withoutWatchdog())
		for range 10 {
			r.CallLater(time.Second, func() {})
		}
		// The reactor is on time for 10 timers, then a callback holds it for
		// 50 ms past a timer's due time: the loop measures that lag itself.
		r.CallLater(2*time.Second, func() { slowCallback(50 * time.Millisecond) })
		r.CallLater(2*time.Second+10*time.Millisecond, func() {})
		r.CallLater(3*time.Second, func() { _ = r.Stop() })
		require.NoError(t, r.Run())
		s := r.Stats()
		assert.Equal(t, 40*time.Millisecond, s.LagMax)
		assert.Zero(t, s.LagP50)
		assert.Positive(t, s.LagSamples)
		assert.GreaterOrEqual(t, s.LagMax, s.LagP99)
	})
}
