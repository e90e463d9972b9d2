package cooperate_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/scheduler"
)

// yieldingLoop is a ManualClock that says, as the reactor does, whether
// other work waits for it: waiting is raised by the test.
type yieldingLoop struct {
	*scheduler.ManualClock
	waiting bool
	asked   int
}

func (l *yieldingLoop) WorkWaiting() bool {
	l.asked++
	return l.waiting
}

var _ scheduler.Yielder = (*yieldingLoop)(nil)

// stepsInOneSlice runs one slice of a task whose steps take 100 µs each (of
// the bubble's clock) on loop, and returns how many steps it took.
func stepsInOneSlice(t *testing.T, loop *yieldingLoop, opts ...cooperate.Option) int {
	t.Helper()
	c := cooperate.New(loop, opts...)
	steps := 0
	task := c.Cooperate(func(yield func(any) bool) {
		for {
			time.Sleep(100 * time.Microsecond)
			steps++
			if !yield(nil) {
				return
			}
		}
	})
	loop.Advance(time.Nanosecond) // the first slice
	n := steps
	task.Stop()
	c.Stop()
	return n
}

func TestSliceEndsEarlyWhenTheLoopHasWorkWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idle := &yieldingLoop{ManualClock: scheduler.NewManualClock()}
		whole := stepsInOneSlice(t, idle, cooperate.WithSlice(10*time.Millisecond))
		assert.GreaterOrEqual(t, whole, 95, "with nothing waiting, the slice runs to its end")
		assert.Positive(t, idle.asked, "the loop was asked")

		busy := &yieldingLoop{ManualClock: scheduler.NewManualClock(), waiting: true}
		early := stepsInOneSlice(t, busy, cooperate.WithSlice(10*time.Millisecond))
		assert.GreaterOrEqual(t, early, 9, "the slice has its first millisecond")
		assert.LessOrEqual(t, early, 12, "then ends, other work waiting")

		strict := &yieldingLoop{ManualClock: scheduler.NewManualClock(), waiting: true}
		held := stepsInOneSlice(t, strict, cooperate.WithSlice(10*time.Millisecond), cooperate.WithStrictSlices())
		assert.GreaterOrEqual(t, held, 95, "WithStrictSlices keeps the whole slice")
		assert.Zero(t, strict.asked, "and never asks the loop")
	})
}

func TestShortSliceAsksTheLoopAtItsMiddle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := &yieldingLoop{ManualClock: scheduler.NewManualClock(), waiting: true}
		n := stepsInOneSlice(t, busy, cooperate.WithSlice(time.Millisecond))
		assert.GreaterOrEqual(t, n, 5)
		assert.LessOrEqual(t, n, 6, "a 1 ms slice yields at half its length")
	})
}

func TestTerminatorSlicesNeverAskTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := &yieldingLoop{ManualClock: scheduler.NewManualClock(), waiting: true}
		calls := 0
		n := stepsInOneSlice(t, busy, cooperate.WithTerminator(func() func() bool {
			return func() bool { calls++; return calls%20 == 0 }
		}))
		require.Equal(t, 20, n, "the predicate alone ends the slice, as in Twisted")
		assert.Zero(t, busy.asked)
	})
}
