//go:build linux

package process

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSpinPausesAfterSlowYieldsInARow: slow yields (the processor shared
// with other busy threads) pause the spinning after spinStrikes of them in
// a row; a spin that found its message without one starts the count again;
// the pause ends after spinPause.
func TestSpinPausesAfterSlowYieldsInARow(t *testing.T) {
	defer func() {
		strikes.Store(0)
		spinPausedUntil.Store(0)
	}()
	was := spinning
	spinning = true
	defer func() { spinning = was }()
	strikes.Store(0)
	spinPausedUntil.Store(0)

	slow := int64(2 * spinWait)
	now := int64(time.Hour) // well after any pause
	assert.False(t, noteYield(now, now+int64(time.Microsecond)), "a quick yield is no strike")
	for range spinStrikes - 1 {
		assert.True(t, noteYield(now, now+slow))
	}
	spunClean()
	assert.True(t, noteYield(now, now+slow), "after a clean spin the strikes start again")
	assert.True(t, spinPausedUntil.Load() <= now, "paused after fewer strikes than spinStrikes in a row")

	for range spinStrikes - 1 {
		noteYield(now, now+slow)
	}
	assert.Equal(t, now+slow+int64(spinPause), spinPausedUntil.Load(), "not paused after spinStrikes strikes in a row")

	start := spinClock()
	spinPausedUntil.Store(start + int64(time.Hour))
	assert.False(t, maySpin(start), "spinning while paused")
	spinPausedUntil.Store(0)
	assert.True(t, maySpin(spinClock()))
	assert.False(t, maySpin(spinClock()-int64(2*spinWait)), "spinning longer than spinWait")
	spinning = false
	assert.False(t, maySpin(spinClock()), "spinning on one processor")
}
