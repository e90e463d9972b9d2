package cooperate_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/twinego/twine/cooperate"
)

// The CPU-bound benchmarks: cpuTasks tasks of cpuSteps steps, each step
// cpuRounds rounds of xorshift (about 10 µs), some 40 ms of work in all.
const (
	cpuTasks  = 8
	cpuSteps  = 500
	cpuRounds = 6_000
)

// runCPU runs the CPU-bound tasks on c and waits on loop for them all.
func runCPU(b *testing.B, c *cooperate.Cooperator, loop *chanLoop) {
	results := make([]uint64, cpuTasks)
	left := cpuTasks
	for i := range cpuTasks {
		cooperate.Each(c, upTo(cpuSteps), func(v int) error {
			results[i] = crunch(results[i]+uint64(v), cpuRounds)
			return nil
		}).Done().AddCallback(func(v struct{}) (struct{}, error) {
			left--
			return v, nil
		})
	}
	loop.runUntil(b, func() bool { return left == 0 })
	for _, r := range results {
		sink += int(r & 1)
	}
}

// BenchmarkLanesCPU runs the CPU-bound tasks on 1, 2 and 4 lanes; ms/run is
// the time to run them all.
func BenchmarkLanesCPU(b *testing.B) {
	for _, lanes := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("lanes=%d", lanes), func(b *testing.B) {
			loop := newChanLoop()
			c := cooperate.New(loop, cooperate.WithLanes(lanes))
			defer c.Stop()
			b.ReportAllocs()
			for b.Loop() {
				runCPU(b, c, loop)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/run")
		})
	}
}

// BenchmarkLanesSpeedup runs the CPU-bound tasks on 1 lane and then on 2 in
// every operation, and reports the time of each and the speedup, so that
// both see the machine alike.
func BenchmarkLanesSpeedup(b *testing.B) {
	loop := newChanLoop()
	one := cooperate.New(loop, cooperate.WithLanes(1))
	defer one.Stop()
	two := cooperate.New(loop, cooperate.WithLanes(2))
	defer two.Stop()
	var t1, t2 time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		runCPU(b, one, loop)
		mid := time.Now()
		runCPU(b, two, loop)
		t1 += mid.Sub(start)
		t2 += time.Since(mid)
	}
	b.ReportMetric(float64(t1.Microseconds())/1000/float64(b.N), "1lane-ms")
	b.ReportMetric(float64(t2.Microseconds())/1000/float64(b.N), "2lanes-ms")
	b.ReportMetric(float64(t1)/float64(t2), "speedup")
}

// The head-of-line benchmarks: longTasks tasks of longSteps steps, then one
// of shortSteps steps, each step longRounds rounds of xorshift (about 50
// µs): a long task is about 20 ms of work, the short one 0.2 ms.
const (
	longTasks  = 16
	longSteps  = 400
	shortSteps = 4
	longRounds = 30_000
)

// shortOnLanes submits the long tasks, then the short one, to c, and
// returns how long the short one took from the first submission to its
// Done; it then stops the long ones and waits for them.
func shortOnLanes(b *testing.B, c *cooperate.Cooperator, loop *chanLoop) time.Duration {
	start := time.Now()
	longs := make([]*cooperate.Task, longTasks)
	for i := range longs {
		x := uint64(i)
		longs[i] = cooperate.Each(c, upTo(longSteps), func(int) error {
			x = crunch(x, longRounds)
			return nil
		})
	}
	x := uint64(99)
	var took time.Duration
	cooperate.Each(c, upTo(shortSteps), func(int) error {
		x = crunch(x, longRounds)
		return nil
	}).Done().AddCallback(func(v struct{}) (struct{}, error) {
		took = time.Since(start)
		return v, nil
	})
	loop.runUntil(b, func() bool { return took > 0 })
	left := 0
	for _, t := range longs {
		if t.Stop() == nil {
			left++
			t.Done().AddBoth(func(v struct{}, _ error) (struct{}, error) {
				left--
				return v, nil
			})
		}
	}
	loop.runUntil(b, func() bool { return left == 0 })
	sink += int(x & 1)
	return took
}

// shortOnFIFO does the same with a first-in first-out pool of two
// goroutines, an errgroup with SetLimit(2): tasks start in the order they
// were given, each running to its end. Once the short task is done the long
// ones still queued or running are cancelled.
func shortOnFIFO() time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	g.SetLimit(2)
	done := make(chan time.Duration, 1)
	start := time.Now()
	// Go blocks while two tasks run: submit from a goroutine of its own,
	// which the group waits for too.
	var submit errgroup.Group
	submit.Go(func() error {
		for i := range longTasks {
			x := uint64(i)
			g.Go(func() error {
				for range longSteps {
					if ctx.Err() != nil {
						return nil
					}
					x = crunch(x, longRounds)
				}
				sinkFIFO(x)
				return nil
			})
		}
		g.Go(func() error {
			x := uint64(99)
			for range shortSteps {
				x = crunch(x, longRounds)
			}
			sinkFIFO(x)
			done <- time.Since(start)
			return nil
		})
		return nil
	})
	took := <-done
	cancel()
	_ = submit.Wait()
	_ = g.Wait()
	return took
}

// fifoSink keeps the FIFO pool's results alive; the pool's goroutines write
// it, so it is an atomic counter rather than sink.
var fifoSink atomic.Uint64

func sinkFIFO(x uint64) { fifoSink.Add(x & 1) }

// BenchmarkHeadOfLine reports, as short-ms, how long a short task submitted
// behind 16 long ones takes to finish on 2 lanes and on the FIFO pool.
func BenchmarkHeadOfLine(b *testing.B) {
	b.Run("lanes=2", func(b *testing.B) {
		loop := newChanLoop()
		c := cooperate.New(loop, cooperate.WithLanes(2))
		defer c.Stop()
		var took time.Duration
		b.ReportAllocs()
		for b.Loop() {
			took += shortOnLanes(b, c, loop)
		}
		b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "short-ms")
	})
	b.Run("fifo=2", func(b *testing.B) {
		var took time.Duration
		b.ReportAllocs()
		for b.Loop() {
			took += shortOnFIFO()
		}
		b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "short-ms")
	})
}

// BenchmarkHeadOfLineVsFIFO runs both in every operation and reports how
// many times sooner the short task finishes on lanes.
func BenchmarkHeadOfLineVsFIFO(b *testing.B) {
	loop := newChanLoop()
	c := cooperate.New(loop, cooperate.WithLanes(2))
	defer c.Stop()
	var lanes, fifo time.Duration
	b.ReportAllocs()
	for b.Loop() {
		lanes += shortOnLanes(b, c, loop)
		fifo += shortOnFIFO()
	}
	b.ReportMetric(float64(lanes.Microseconds())/1000/float64(b.N), "lanes-short-ms")
	b.ReportMetric(float64(fifo.Microseconds())/1000/float64(b.N), "fifo-short-ms")
	b.ReportMetric(float64(fifo)/float64(lanes), "sooner")
}
