package reactor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

const us = time.Microsecond

// chances counts how many of the next n chances to spin p takes.
func chances(p *spinPolicy, n int) int {
	k := 0
	for range n {
		if p.want() {
			k++
		}
	}
	return k
}

func TestSpinPolicySpinsOnlyAfterSoonAndSlowWakes(t *testing.T) {
	tests := []struct {
		name          string
		arrival, cost time.Duration
		want          bool
	}{
		{"work came soon, its wake was slow", 10 * us, 20 * us, true},
		{"the wake was cheap", 10 * us, 1 * us, false},
		{"work came later than a spin would last", 60 * us, 20 * us, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := spinPolicy{max: 50 * us}
			assert.False(t, p.want(), "a new reactor does not spin")
			p.woke(tt.arrival, tt.cost)
			assert.Equal(t, tt.want, p.want())
		})
	}
}

func TestSpinPolicyDoesNotSpinAfterASleepThatNoWorkEnded(t *testing.T) {
	p := spinPolicy{max: 50 * us}
	p.woke(10*us, 20*us)
	assert.True(t, p.want())
	p.idled() // a timer ended the sleep
	assert.False(t, p.want())
}

func TestSpinPolicyOffNeverSpins(t *testing.T) {
	p := spinPolicy{max: 0, forced: true}
	p.woke(0, 20*us)
	assert.False(t, p.want())
}

func TestSpinPolicyBacksOffAfterSpinsThatDoNotPay(t *testing.T) {
	p := spinPolicy{max: 50 * us}
	p.woke(10*us, 20*us)
	// Each spin that finds nothing lets twice as many chances go, up to 64.
	var skipped []int
	for range 8 {
		assert.True(t, p.want())
		p.missed()
		skipped = append(skipped, p.skip)
		assert.Zero(t, chances(&p, p.skip))
	}
	assert.Equal(t, []int{1, 2, 4, 8, 16, 32, 64, 64}, skipped)
	// A spin that pays ends the back-off.
	assert.True(t, p.want())
	p.found(5 * us)
	p.missed()
	assert.Equal(t, 1, p.skip)
}

func TestSpinPolicyCountsASpinSlowerThanSleepingAsNotPaying(t *testing.T) {
	p := spinPolicy{max: 50 * us}
	p.woke(10*us, 20*us) // sleeping got work after 30 µs
	assert.True(t, p.want())
	p.found(40 * us) // the spin took the producer's core
	assert.Equal(t, 1, p.skip)
	assert.Zero(t, chances(&p, 1))
	assert.True(t, p.want())
	p.found(10 * us)
	assert.Zero(t, p.skip)
	assert.True(t, p.want())
}

func TestSpinPolicySleepsNowAndThenToMeasureAWake(t *testing.T) {
	p := spinPolicy{max: 50 * us}
	p.woke(10*us, 20*us)
	for range spinResample {
		assert.True(t, p.want())
		p.found(5 * us)
	}
	assert.False(t, p.want(), "after a streak, one sleep to measure a wake")
	p.woke(10*us, 1*us) // now wakes are cheap
	assert.Zero(t, chances(&p, 10))
}
