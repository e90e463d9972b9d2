package cooperate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/scheduler"
)

// benchN is the length of the slice the Each benchmarks walk per operation.
const benchN = 1 << 20

var sink int

// trivial is the loop body of the trivial-body benchmarks.
//
//go:noinline
func trivial(v int) error {
	sink += v
	return nil
}

// spin is a body that computes for about a microsecond.
//
//go:noinline
func spin(v int) error {
	x := uint64(v) | 1
	for range spinRounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	sink += int(x & 1)
	return nil
}

var spinRounds = 550

// runAll advances clock until done has fired.
func runAll(clock *scheduler.ManualClock, fired *bool) {
	for !*fired {
		clock.Advance(time.Millisecond)
	}
}

func benchPlain(b *testing.B, n int, f func(int) error) {
	seq := slices.Values(make([]int, n))
	b.ReportAllocs()
	for b.Loop() {
		for v := range seq {
			_ = f(v)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/step")
}

func benchEach(b *testing.B, n int, f func(int) error) {
	seq := slices.Values(make([]int, n))
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()
	b.ReportAllocs()
	for b.Loop() {
		fired := false
		cooperate.Each(c, seq, f).Done().AddBoth(func(v struct{}, err error) (struct{}, error) {
			fired = true
			return v, err
		})
		runAll(clock, &fired)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/step")
}

// BenchmarkEachTrivial and BenchmarkPlainTrivial compare Each with the plain
// loop it wraps, on a body that does almost nothing: the per-step overhead.
func BenchmarkPlainTrivial(b *testing.B) { benchPlain(b, benchN, trivial) }
func BenchmarkEachTrivial(b *testing.B)  { benchEach(b, benchN, trivial) }

// BenchmarkEach1us and BenchmarkPlain1us do the same with a body of about a
// microsecond.
func BenchmarkPlain1us(b *testing.B) { benchPlain(b, benchN/32, spin) }
func BenchmarkEach1us(b *testing.B)  { benchEach(b, benchN/32, spin) }

// benchPaired runs the plain loop and Each over the same values in turn,
// in every operation, and reports the time per step of each and their ratio:
// drift in the machine's speed hits both alike.
func benchPaired(b *testing.B, n int, f func(int) error) {
	seq := slices.Values(make([]int, n))
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()
	var plain, each time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for v := range seq {
			_ = f(v)
		}
		t1 := time.Now()
		fired := false
		cooperate.Each(c, seq, f).Done().AddBoth(func(v struct{}, err error) (struct{}, error) {
			fired = true
			return v, err
		})
		runAll(clock, &fired)
		each += time.Since(t1)
		plain += t1.Sub(t0)
	}
	steps := float64(b.N) * float64(n)
	b.ReportMetric(float64(plain.Nanoseconds())/steps, "plain-ns/step")
	b.ReportMetric(float64(each.Nanoseconds())/steps, "each-ns/step")
	b.ReportMetric(float64(each)/float64(plain), "each/plain")
}

// BenchmarkEachVsPlainTrivial and BenchmarkEachVsPlain1us measure Each's
// overhead against the plain loop side by side. An operation takes a few
// milliseconds, so that both halves of it see the machine alike.
func BenchmarkEachVsPlainTrivial(b *testing.B) { benchPaired(b, benchN, trivial) }
func BenchmarkEachVsPlain1us(b *testing.B)     { benchPaired(b, benchN/256, spin) }

// benchCooperate reports the cost of a step of Cooperate over tasks that
// yield nil: each operation is one slice of the default 10 ms.
func benchCooperate(b *testing.B, tasks int) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()
	var steps int
	for range tasks {
		c.Cooperate(func(yield func(any) bool) {
			for yield(nil) {
				steps++
			}
		})
	}
	clock.Advance(time.Millisecond) // warm up: turns are sized by then
	clock.Advance(time.Millisecond)
	steps = 0
	b.ReportAllocs()
	for b.Loop() {
		clock.Advance(time.Millisecond)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
}

// BenchmarkCooperate1 and BenchmarkCooperate100 measure a step of Cooperate
// with one task and with 100 taking turns; bench/twisted/cooperate_bench.py
// measures Twisted's Cooperator the same way.
func BenchmarkCooperate1(b *testing.B)   { benchCooperate(b, 1) }
func BenchmarkCooperate100(b *testing.B) { benchCooperate(b, 100) }

// BenchmarkCooperateStrictTurns measures a step of two tasks that take
// turns step by step (WithTurnSteps(1), Twisted's alternation): each step
// is a turn, and resumes its task's coroutine.
func BenchmarkCooperateStrictTurns(b *testing.B) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock, cooperate.WithTurnSteps(1))
	defer c.Stop()
	var steps int
	for range 2 {
		c.Cooperate(func(yield func(any) bool) {
			for yield(nil) {
				steps++
			}
		})
	}
	clock.Advance(time.Millisecond)
	steps = 0
	b.ReportAllocs()
	for b.Loop() {
		clock.Advance(time.Millisecond)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
}
