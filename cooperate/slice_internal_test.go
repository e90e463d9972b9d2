package cooperate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/scheduler"
)

func TestSliceBudget(t *testing.T) {
	us := time.Microsecond
	cases := []struct {
		name           string
		opt            Option
		lag, overshoot time.Duration
		want           time.Duration
	}{
		{"fixed, no overrun", WithSlice(10 * time.Millisecond), 0, 0, 10 * time.Millisecond},
		{"fixed, overruns", WithSlice(10 * time.Millisecond), 0, 300 * us, 9700 * us},
		{"fixed, never below half", WithSlice(10 * time.Millisecond), 0, 8 * time.Millisecond, 5 * time.Millisecond},
		{"fixed ignores lag", WithSlice(10 * time.Millisecond), 3 * time.Millisecond, 0, 10 * time.Millisecond},
		{"adaptive, idle loop", WithAdaptive(time.Millisecond), 0, 0, time.Millisecond},
		{"adaptive, busy loop", WithAdaptive(time.Millisecond), 200 * us, 50 * us, 750 * us},
		{"adaptive, never below a sixteenth", WithAdaptive(time.Millisecond), 900 * us, 300 * us, time.Millisecond / 16},
	}
	for _, tc := range cases {
		c := New(scheduler.NewManualClock(), tc.opt)
		c.lag.add(tc.lag)
		c.overshoot.add(tc.overshoot)
		assert.Equal(t, tc.want, c.sliceBudget(), tc.name)
	}
}

func TestEWMA(t *testing.T) {
	var e ewma
	assert.Zero(t, e.value())
	e.add(800)
	assert.Equal(t, time.Duration(800), e.value(), "the first sample is taken as it is")
	e.add(0)
	assert.Equal(t, time.Duration(700), e.value(), "later ones weigh an eighth")
}

func TestTurnsAdaptToStepCost(t *testing.T) {
	// Turns are sized so that one lasts a given time: fast steps make long
	// turns, slow ones short turns, and a turn has at least one step.
	c := New(scheduler.NewManualClock())
	c.budget = 10 * time.Millisecond
	c.start = time.Now().Add(-time.Millisecond)
	c.steps = 1_000_000 // 1 ns a step: growth is bounded per slice
	c.cfg.mode = modeTerminator
	c.endSlice() // a terminator slice learns nothing
	assert.Equal(t, 1, c.quantum)

	c.cfg.mode = modeFixed
	c.endSlice()
	assert.Equal(t, 16, c.quantum, "at most sixteen times more per slice")

	c.start = time.Now().Add(-time.Millisecond)
	c.steps = 1 // 1 ms a step: longer than a turn
	c.endSlice()
	assert.Equal(t, 1, c.quantum)
}
