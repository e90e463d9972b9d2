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

// busyOp computes for n microseconds and says it made 3 units per
// operation; stall, when set, is called before.
func busyOp(rounds *[]int, stall func(round int)) opFunc {
	return func(n int) (int, error) {
		*rounds = append(*rounds, n)
		if stall != nil {
			stall(len(*rounds))
		}
		start := time.Now()
		for time.Since(start) < time.Duration(n)*time.Microsecond {
		}
		return 3 * n, nil
	}
}

func TestMeterCalibratesOnceThenRunsTheSameCount(t *testing.T) {
	var rounds []int
	target := 2 * time.Millisecond
	m := newMeter(target)
	op := busyOp(&rounds, nil)
	first, err := m.time(op)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rounds), 3, "the first round calibrates: %v", rounds)
	assert.Equal(t, 1, rounds[0], "calibration starts from one operation")
	for i := 1; i < len(rounds)-1; i++ {
		assert.Greater(t, rounds[i], rounds[i-1], "calibration rounds grow")
	}
	calibrated := rounds[len(rounds)-2]
	assert.Equal(t, calibrated, rounds[len(rounds)-1], "the measured round runs the calibrated count")
	assert.Equal(t, calibrated, first.ops)
	assert.Equal(t, 3*first.ops, first.units)

	rounds = nil
	for range 3 {
		got, err := m.time(op)
		require.NoError(t, err)
		assert.Equal(t, calibrated, got.ops)
		s := got.perUnit()
		assert.InDelta(t, float64(got.elapsed.Nanoseconds())/float64(got.units), s.values["time"], 1e-9)
	}
	assert.Equal(t, []int{calibrated, calibrated, calibrated}, rounds, "later rounds do not calibrate again")
}

// A stall in a short calibration round (the process losing the processor,
// a worker waking late) made that round the measurement: a pool's
// throughput was reported as the time of one call, or of 100, one of them
// stalled, thousands of percent away from the other rounds. The
// calibration must see that the round's operations ran far slower than
// the rate the rounds before it had shown, and go on.
func TestCalibrateIsNotEndedByAStall(t *testing.T) {
	const target = 5 * time.Millisecond
	// Operations of exactly 1 µs, and a stall as long as the whole target in
	// one round: calibration must end on a count that fills half the target
	// at 1 µs, whichever round stalled.
	for stalled := 1; stalled <= 4; stalled++ {
		var rounds []int
		n, err := calibrateRounds(target, func(n int) (time.Duration, error) {
			rounds = append(rounds, n)
			d := time.Duration(n) * time.Microsecond
			if len(rounds) == stalled {
				d += target
			}
			return d, nil
		})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, n, 2500, "stall in round %d: rounds %v", stalled, rounds)
	}
}

// An operation that takes longer than the target on its own is kept at
// two: the first round only warms up.
func TestCalibrateSlowOperation(t *testing.T) {
	var rounds []int
	n, err := calibrateRounds(time.Millisecond, func(n int) (time.Duration, error) {
		rounds = append(rounds, n)
		return time.Duration(n) * 3 * time.Millisecond, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []int{1, 2}, rounds)
}

func TestMeterStopsAtAnError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := newMeter(time.Hour).time(func(int) (int, error) {
		calls++
		return 0, boom
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 1, calls)
}

func TestSeparated(t *testing.T) {
	tests := []struct {
		name string
		a, b []float64
		want bool
	}{
		{"every round of one below every round of the other", []float64{10, 12, 11}, []float64{13, 20, 15}, true},
		{"the other way round", []float64{30, 31, 40}, []float64{10, 12, 11}, true},
		{"overlapping by one round", []float64{10, 14, 11}, []float64{13, 20, 15}, false},
		{"touching", []float64{10, 13, 11}, []float64{13, 20, 15}, false},
		{"one wild round", []float64{70, 71, 260}, []float64{69, 70, 72}, false},
		{"too few rounds to rank", []float64{1, 2}, []float64{10, 20}, false},
		{"one side without rounds", []float64{1, 2, 3}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, separated(tt.a, tt.b))
		})
	}
}

func TestCompare(t *testing.T) {
	twine := newRuns([]float64{70, 71, 260})
	channel := newRuns([]float64{69, 70, 72})
	v := compare(twine, channel, false)
	require.NotNil(t, v)
	assert.InDelta(t, 70.0/71, v.Ratio, 1e-9)
	assert.True(t, v.TooNoisy, "a round that stalled makes the two sides overlap")

	twisted := newRuns([]float64{1400, 1200, 1700})
	v = compare(twine, twisted, false)
	require.NotNil(t, v)
	assert.InDelta(t, 1400.0/71, v.Ratio, 1e-9)
	assert.False(t, v.TooNoisy, "even the stalled round was faster than every Twisted round")

	assert.Nil(t, compare(newRuns([]float64{0}), twisted, false))
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
