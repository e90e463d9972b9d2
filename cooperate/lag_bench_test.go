//go:build unix

package cooperate_test

import (
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/reactor"
)

// The lag benchmark: 4 tasks whose steps compute for 20 µs run on a real
// reactor for lagDuration, beside a 1 ms CallLater probe that re-arms
// itself; the probe's lateness is the loop's lag. bench/twisted/cooperate_lag.py
// measures the same with Twisted's reactor and Cooperator.

const (
	lagTasks = 4
	lagStep  = 20 * time.Microsecond
	lagProbe = time.Millisecond
)

// lagDuration is how long the tasks run: 3 s, or $COOPERATE_LAG_DURATION.
func lagDuration(b *testing.B) time.Duration {
	if s := os.Getenv("COOPERATE_LAG_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("COOPERATE_LAG_DURATION=%q: want a positive duration", s)
		}
		return d
	}
	return 3 * time.Second
}

// calibrate returns how many rounds of busy take about d.
func calibrate(d time.Duration) int {
	const probe = 1 << 20
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		busy(probe)
		best = min(best, time.Since(start))
	}
	return max(1, int(int64(probe)*int64(d)/int64(best)))
}

type lagRun struct {
	lags  []time.Duration
	steps int
	cpu   time.Duration // processor time the process used
}

// cpuTime returns the processor time the process has used so far, in user
// and system mode, all threads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// blockingCPU returns the processor time a step takes in one blocking loop
// run for d.
func blockingCPU(b *testing.B, rounds int, d time.Duration) time.Duration {
	start, cpu0 := time.Now(), cpuTime(b)
	n := 0
	for time.Since(start) < d {
		for range 100 {
			busy(rounds)
		}
		n += 100
	}
	return (cpuTime(b) - cpu0) / time.Duration(n)
}

// runLag runs the tasks and the probe on a new reactor for d.
func runLag(b *testing.B, rounds int, d time.Duration, opts ...cooperate.Option) lagRun {
	r := reactor.New(reactor.WithWatchdog(0))
	var run lagRun
	var cpu0 time.Duration
	r.CallWhenRunning(func() {
		c := cooperate.New(r, opts...)
		cpu0 = cpuTime(b)
		for range lagTasks {
			cooperate.Each(c, func(yield func(int) bool) {
				for i := 0; yield(i); i++ {
				}
			}, func(int) error {
				busy(rounds)
				run.steps++
				return nil
			})
		}
		var arm func()
		arm = func() {
			due := time.Now().Add(lagProbe)
			r.CallLater(lagProbe, func() {
				run.lags = append(run.lags, time.Since(due))
				arm()
			})
		}
		arm()
		r.CallLater(d, func() {
			run.cpu = cpuTime(b) - cpu0
			c.Stop()
			if err := r.Stop(); err != nil {
				b.Error(err)
			}
		})
	})
	if err := r.Run(); err != nil {
		b.Fatal(err)
	}
	return run
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}

// benchLag reports the probe's lag (p50, p99, max) and the throughput: the
// tasks' steps per second against one blocking loop running the same steps,
// both counted in processor time, so that the figure holds on a loaded
// machine, where the process loses the processor now and then. The blocking
// loop's cost per step is measured just before and just after.
func benchLag(b *testing.B, opts ...cooperate.Option) {
	d := lagDuration(b)
	rounds := calibrate(lagStep)
	var lags []time.Duration
	var used, needed time.Duration
	b.ReportAllocs()
	for b.Loop() {
		before := blockingCPU(b, rounds, d/6)
		run := runLag(b, rounds, d, opts...)
		after := blockingCPU(b, rounds, d/6)
		lags = append(lags, run.lags...)
		used += run.cpu
		needed += time.Duration(run.steps) * (before + after) / 2
	}
	slices.Sort(lags)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lags, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(lags, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(lags, 100)), "max-ms")
	b.ReportMetric(100*float64(needed)/float64(used), "throughput-%")
}

// BenchmarkLagDefault measures the lag and throughput with the default
// 10 ms slices; BenchmarkLagAdaptive1ms with slices sized for a 1 ms lag.
func BenchmarkLagDefault(b *testing.B)     { benchLag(b) }
func BenchmarkLagAdaptive1ms(b *testing.B) { benchLag(b, cooperate.WithAdaptive(time.Millisecond)) }
