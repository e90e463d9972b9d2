package main

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"one", []float64{3}, 3},
		{"odd", []float64{5, 1, 3}, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"repeated", []float64{2, 2, 9, 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.in...)
			assert.Equal(t, tt.want, median(in))
			assert.Equal(t, tt.in, in, "median must not reorder its input")
		})
	}
	assert.True(t, math.IsNaN(median(nil)), "the median of nothing is NaN")
}

func TestPercentile(t *testing.T) {
	sorted := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	assert.Equal(t, time.Duration(5), percentile(sorted, 50))
	assert.Equal(t, time.Duration(9), percentile(sorted, 99))
	assert.Equal(t, time.Duration(10), percentile(sorted, 100))
	assert.Equal(t, time.Duration(1), percentile(sorted, 0))
	assert.Zero(t, percentile(nil, 50))
}

func TestNextOps(t *testing.T) {
	// Aims 20% past the target at the fastest rate seen.
	assert.Equal(t, 120, nextOps(10, float64(100*time.Microsecond), 10*time.Millisecond))
	// Grows at most a hundredfold, also when no rate is known yet.
	assert.Equal(t, 100, nextOps(1, 1, time.Second))
	assert.Equal(t, 100, nextOps(1, math.Inf(1), time.Second))
	// Always by at least one.
	assert.Equal(t, 11, nextOps(10, float64(time.Second), time.Millisecond))
	assert.Equal(t, maxOps, nextOps(maxOps/2, 1, time.Hour))
}

// A stall in a short round (the process losing the processor, a worker
// waking late) made that round the measurement: a pool's throughput was
// reported as the time of one call, or of 100, one of them stalled,
// thousands of percent away from the other runs. The growth must see
// that the round's operations ran far slower than the rate the rounds
// before it had shown, and go on.
func TestGrowRoundsIsNotEndedByAStall(t *testing.T) {
	const target = 5 * time.Millisecond
	// Operations of exactly 1 µs, and a stall as long as the whole target in
	// one round: the round kept must fill half the target at 1 µs, whichever
	// round stalled.
	for stalled := 1; stalled <= 4; stalled++ {
		var rounds []int
		got, err := growRounds(target, func(n int) (timing, error) {
			rounds = append(rounds, n)
			d := time.Duration(n) * time.Microsecond
			if len(rounds) == stalled {
				d += target
			}
			return timing{ops: n, units: n, elapsed: d}, nil
		})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, got.ops, 2500, "stall in round %d: rounds %v", stalled, rounds)
	}
}

// An operation that takes longer than the target on its own is kept at
// two: the first round only warms up.
func TestGrowRoundsSlowOperation(t *testing.T) {
	var rounds []int
	got, err := growRounds(time.Millisecond, func(n int) (timing, error) {
		rounds = append(rounds, n)
		return timing{ops: n, elapsed: time.Duration(n) * 3 * time.Millisecond}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, got.ops)
	assert.Equal(t, []int{1, 2}, rounds)
}

func TestTimeOpsGrowsUntilTheTarget(t *testing.T) {
	var rounds []int
	target := 2 * time.Millisecond
	got, err := timeOps(target, func(n int) (int, error) {
		rounds = append(rounds, n)
		start := time.Now()
		for time.Since(start) < time.Duration(n)*time.Microsecond {
		}
		return 3 * n, nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, rounds)
	assert.Equal(t, 1, rounds[0], "the first round is one operation")
	assert.Greater(t, len(rounds), 1, "and is never the one kept")
	for i := 1; i < len(rounds); i++ {
		assert.Greater(t, rounds[i], rounds[i-1], "rounds grow")
	}
	assert.Equal(t, rounds[len(rounds)-1], got.ops, "the last round is the one reported")
	assert.Equal(t, 3*got.ops, got.units)
	assert.GreaterOrEqual(t, got.elapsed, target)

	s := got.perUnit()
	assert.InDelta(t, float64(got.elapsed.Nanoseconds())/float64(got.units), s.values["time"], 1e-9)
}

func TestTimeOpsStopsAtAnError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := timeOps(time.Hour, func(int) (int, error) {
		calls++
		return 0, boom
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 1, calls)
}

func TestRatio(t *testing.T) {
	r := ratio(10, 30, false)
	require.NotNil(t, r)
	assert.Equal(t, 3.0, *r, "a cost: the other's over twine's")
	r = ratio(90, 45, true)
	require.NotNil(t, r)
	assert.Equal(t, 2.0, *r, "a throughput: twine's over the other's")
	assert.Nil(t, ratio(0, 5, false))
	assert.Nil(t, ratio(5, 0, false))
	assert.Nil(t, ratio(math.NaN(), 5, false))
	assert.Nil(t, ratio(5, math.Inf(1), false))
}

func TestHistogram(t *testing.T) {
	edges := []float64{1, 10, 100}
	h := newHistogram(edges, []float64{0.5, 1, 9.9, 10, 50, 100, 5000})
	assert.Equal(t, edges, h.EdgesMs)
	// Below the first edge counts in the first bin, above the last in the
	// last one.
	assert.Equal(t, []int{3, 4}, h.Counts)

	lag := lagEdges()
	require.Len(t, lag, 36)
	assert.InDelta(t, 0.001, lag[0], 1e-12)
	assert.InDelta(t, 10000, lag[len(lag)-1], 1e-6)
	assert.InDelta(t, 1, lag[15], 1e-9, "five bins per decade: the 16th edge is 1 ms")
}

func TestDownsample(t *testing.T) {
	var pts [][2]float64
	for i := range 1000 {
		pts = append(pts, [2]float64{float64(i), float64(i % 7)})
	}
	pts[500][1] = 99 // a spike
	got := downsample(pts, 100)
	assert.LessOrEqual(t, len(got), 102)
	assert.GreaterOrEqual(t, len(got), 50)
	spike := false
	for i, p := range got {
		if p[1] == 99 {
			spike = true
		}
		if i > 0 {
			assert.Greater(t, p[0], got[i-1][0], "points stay in order")
		}
	}
	assert.True(t, spike, "the spike survives")
	assert.Equal(t, pts[:10], downsample(pts[:10], 100), "short series are kept whole")
}
