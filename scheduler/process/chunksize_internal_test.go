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
