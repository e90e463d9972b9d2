package main

import (
	"math"
	"runtime"
	"slices"
	"time"
)

// An opFunc does n operations of a scenario and returns how many units of
// work (calls, steps) they made, or an error if they went wrong.
type opFunc func(n int) (units int, err error)

// A timing is one measured round of a [meter].
type timing struct {
	ops     int
	units   int
	elapsed time.Duration
	cpu     time.Duration // processor time of the whole process
	allocs  uint64
	bytes   uint64
}

// maxOps bounds the operations of one round.
const maxOps = 1_000_000_000

// A meter times the rounds of one side of a scenario. Its first round
// calibrates: it runs the operation with a growing count, as testing.B
// does, until a round lasts the target, and keeps that count; that round
// also warms the side up. Every later round runs exactly that count, so
// that all the rounds of a side measure the same work, and a stall (the
// process losing the processor, a collection, a worker waking late) adds
// to one round no more than its own length over the target.
type meter struct {
	target time.Duration
	ops    int // the calibrated count; 0 until the first round
}

func newMeter(target time.Duration) *meter { return &meter{target: target} }

// time makes one round of op and returns it. Allocations are the whole
// process's, so those of the goroutines an operation hands work to count.
func (m *meter) time(op opFunc) (timing, error) {
	if m.ops == 0 {
		n, err := calibrate(m.target, op)
		if err != nil {
			return timing{}, err
		}
		m.ops = n
	}
	return timeRound(m.ops, op)
}

// timeRound runs op(n) once, after a collection, and measures it.
func timeRound(n int, op opFunc) (timing, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	start := time.Now()
	units, err := op(n)
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	if err != nil {
		return timing{}, err
	}
	return timing{
		ops:     n,
		units:   units,
		elapsed: elapsed,
		cpu:     cpu,
		allocs:  after.Mallocs - before.Mallocs,
		bytes:   after.TotalAlloc - before.TotalAlloc,
	}, nil
}

// calibrate runs op with a growing count until a round lasts at least
// target, and returns that count.
func calibrate(target time.Duration, op opFunc) (int, error) {
	return calibrateRounds(target, func(n int) (time.Duration, error) {
		t, err := timeRound(n, op)
		return t.elapsed, err
	})
}

// calibrateRounds finds the count for calibrate, given a round that
// returns how long n operations took.
//
// The first round, of one operation, only warms up: it is never the one
// kept. A round that reaches the target only because it stalled does not
// end the search either: its count must be enough to fill half the target
// at the fastest rate any round has shown. Without these checks a stall
// of a few milliseconds in a round of one or a hundred operations made
// that round the measurement: a pool's throughput, a pipelined figure, was
// reported as the latency of a single stalled call, hundreds of times too
// slow.
func calibrateRounds(target time.Duration, round func(n int) (time.Duration, error)) (int, error) {
	n := 1
	best := math.Inf(1) // the fastest nanoseconds per operation seen
	for first := true; ; first = false {
		elapsed, err := round(n)
		if err != nil {
			return 0, err
		}
		if elapsed > 0 {
			best = min(best, float64(elapsed)/float64(n))
		}
		if n >= maxOps || !first && elapsed >= target && float64(n)*best >= float64(target)/2 {
			return n, nil
		}
		n = nextOps(n, best, target)
	}
}

// nextOps predicts the operations a round needs to last target at best
// nanoseconds per operation, aiming 20% over, growing at most a hundredfold
// and at least by one.
func nextOps(n int, best float64, target time.Duration) int {
	next := 100 * n
	if best > 0 && !math.IsInf(best, 1) {
		next = int(min(float64(next), 1.2*float64(target)/best))
	}
	return min(max(next, n+1), maxOps)
}

// perUnit returns a sample whose "time" is nanoseconds per unit of work,
// with the allocations per unit.
func (t timing) perUnit() sample {
	u := float64(max(t.units, 1))
	return sample{
		values: map[string]float64{"time": float64(t.elapsed.Nanoseconds()) / u},
		allocs: float64(t.allocs) / u,
		bytes:  float64(t.bytes) / u,
	}
}

// micro makes a side that times op for the configured target and reports
// nanoseconds per unit of work.
func micro(op opFunc) starter {
	return func(cfg *config) (*side, error) {
		m := newMeter(cfg.target)
		return &side{round: func() (sample, error) {
			t, err := m.time(op)
			if err != nil {
				return sample{}, err
			}
			return t.perUnit(), nil
		}}, nil
	}
}

// perOp makes an opFunc of a function that does one operation of units
// units of work.
func perOp(units int, f func() error) opFunc {
	return func(n int) (int, error) {
		for range n {
			if err := f(); err != nil {
				return 0, err
			}
		}
		return n * units, nil
	}
}

// median returns the median of xs (the mean of the two middle values for
// an even count), or NaN for none. It does not change xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// percentile returns the p-th percentile (0 to 100) of sorted values, by
// the nearest rank below, as the Twisted scripts compute it; zero for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}
