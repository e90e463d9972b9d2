package cooperate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
)

func TestWeightsShareSteps(t *testing.T) {
	// Seven steps per slice, so that slices end in the middle of turns.
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(7)))
	weights := []int{1, 2, 3}
	counts := make([]int, len(weights))
	for i, w := range weights {
		c.Cooperate(counter(&counts[i])).SetWeight(w)
	}
	for range 60 {
		tick(clock)
	}
	assert.Equal(t, []int{70, 140, 210}, counts, "420 steps shared 1:2:3")
}

func TestWeightChange(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(6)))
	var a, b int
	ta := c.Cooperate(counter(&a))
	c.Cooperate(counter(&b))
	for range 10 {
		tick(clock)
	}
	require.Equal(t, 30, a)
	require.Equal(t, 30, b)
	ta.SetWeight(5)
	assert.Equal(t, 5, ta.Weight())
	for range 10 {
		tick(clock)
	}
	assert.Equal(t, 30+50, a)
	assert.Equal(t, 30+10, b)
}

func TestWeightsUnderTimeSlices(t *testing.T) {
	// With a fixed turn, the order of steps does not depend on where the
	// slices end: four steps of a, eight of b, and again.
	c, clock := newCooperator(t, cooperate.WithTurnSteps(4), cooperate.WithSlice(time.Millisecond))
	var order strings.Builder
	record := func(name string, n int) *cooperate.Task {
		return cooperate.Each(c, func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}, func(int) error {
			order.WriteString(name)
			return nil
		})
	}
	a := watch(record("a", 400).Done())
	b := record("b", 800)
	b.SetWeight(2)
	bd := watch(b.Done())
	for i := 0; !a.fired || !bd.fired; i++ {
		require.Less(t, i, 10000)
		tick(clock)
	}
	assert.Equal(t, strings.Repeat("aaaabbbbbbbb", 100), order.String())
}
