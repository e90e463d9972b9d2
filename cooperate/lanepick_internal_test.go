package cooperate

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/scheduler"
)

func TestLanePickTakesTurnsOnATie(t *testing.T) {
	c := New(scheduler.NewManualClock(), WithLanes(3))
	defer c.Stop()
	p := c.lanes
	for _, l := range p.all {
		l.load.Store(1) // each still counts a task that has finished
	}
	var got []int
	for range 6 {
		got = append(got, p.pick().index)
	}
	assert.Equal(t, []int{0, 1, 2, 0, 1, 2}, got, "equal loads: the lanes take turns")

	p.all[0].load.Store(3)
	p.all[1].load.Store(0)
	p.all[2].load.Store(2)
	assert.Equal(t, 1, p.pick().index, "the least loaded lane wins")
	assert.Equal(t, 1, p.pick().index, "whatever the turn")
}
