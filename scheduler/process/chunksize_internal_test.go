package process

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestChunkSizerStartsWithOneElementThenAMillisecond(t *testing.T) {
	z := chunkSizer{window: 6}
	assert.Equal(t, 1, z.size(), "nothing is known of the elements yet")
	z.observe(1, 200*time.Microsecond)
	assert.Equal(t, 5, z.size(), "a millisecond of 200 µs elements")
}

func TestChunkSizerGrowsWithTheWorkDoneToTenMilliseconds(t *testing.T) {
	z := chunkSizer{window: 6}
	z.observe(1, 200*time.Microsecond)
	// An eighth of the work done, shared among six chunks in flight: 48 ms
	// of work done makes chunks of 1 ms, 96 ms chunks of 2 ms.
	for z.done < 96*time.Millisecond {
		z.observe(5, time.Millisecond)
	}
	assert.Equal(t, 10, z.size(), "2 ms of 200 µs elements")
	for z.done < time.Second {
		z.observe(50, 10*time.Millisecond)
	}
	assert.Equal(t, 50, z.size(), "at most 10 ms of work, however long the map")
}

func TestChunkSizerStaysSmallForAShortMap(t *testing.T) {
	z := chunkSizer{window: 6}
	for range 40 { // 40 ms of work: a map whose chunks must stay small
		z.observe(5, time.Millisecond)
	}
	assert.Equal(t, 5, z.size(), "a millisecond, as the work done is short")
}

func TestChunkSizerLimits(t *testing.T) {
	z := chunkSizer{window: 6}
	z.observe(1000, 10*time.Microsecond) // 10 ns each
	assert.Equal(t, maxAutoChunk, z.size(), "at most 4096 elements, however tiny")

	slow := chunkSizer{window: 6}
	slow.observe(1, time.Second)
	assert.Equal(t, 1, slow.size(), "one element, however slow")

	fixed := chunkSizer{fixed: 7, window: 6}
	fixed.observe(7, time.Second)
	assert.Equal(t, 7, fixed.size(), "WithChunkSize wins")
	assert.Zero(t, fixed.done, "a fixed size learns nothing")
}

// TestChunkTimeIsItsShareOfTheProcessors: two chunks side by side on one
// processor each count half the time they overlap, so that each reports
// its own work; on two processors, each counts the whole time.
func TestChunkTimeIsItsShareOfTheProcessors(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := t0
	c := &shareClock{now: func() time.Time { return at }, procs: 1}
	a := c.begin()
	at = t0.Add(10 * time.Millisecond)
	b := c.begin()
	at = t0.Add(30 * time.Millisecond)
	assert.Equal(t, 20*time.Millisecond, c.end(a), "10 ms alone, then half of 20 ms")
	at = t0.Add(40 * time.Millisecond)
	assert.Equal(t, 20*time.Millisecond, c.end(b), "half of 20 ms, then 10 ms alone")
	at = t0.Add(100 * time.Millisecond)
	d := c.begin()
	at = t0.Add(105 * time.Millisecond)
	assert.Equal(t, 5*time.Millisecond, c.end(d), "the time with nothing running counts for no chunk")

	c = &shareClock{now: func() time.Time { return at }, procs: 2}
	at = t0
	a = c.begin()
	b = c.begin()
	at = t0.Add(10 * time.Millisecond)
	assert.Equal(t, 10*time.Millisecond, c.end(a))
	assert.Equal(t, 10*time.Millisecond, c.end(b))
}
