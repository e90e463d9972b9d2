package cooperate_test

import (
	"os"
	"slices"
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
	work  time.Duration // time spent inside steps
	took  time.Duration
}

// runLag runs the tasks and the probe on a new reactor for d.
func runLag(b *testing.B, rounds int, d time.Duration, opts ...cooperate.Option) lagRun {
	r := reactor.New(reactor.WithWatchdog(0))
	var run lagRun
	var start time.Time
	r.CallWhenRunning(func() {
		c := cooperate.New(r, opts...)
		start = time.Now()
		for range lagTasks {
			cooperate.Each(c, func(yield func(int) bool) {
				for i := 0; yield(i); i++ {
				}
			}, func(int) error {
				t0 := time.Now()
				busy(rounds)
				run.work += time.Since(t0)
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
			run.took = time.Since(start)
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
// share of wall time the loop spent inside the tasks' steps, which is their
// steps per second against one blocking loop running the same steps back to
// back. Measured within the run, it holds on a loaded machine, where the
// process loses the processor now and then: that costs the blocking loop as
// much as the tasks.
func benchLag(b *testing.B, opts ...cooperate.Option) {
	d := lagDuration(b)
	rounds := calibrate(lagStep)
	var lags []time.Duration
	var work, took time.Duration
	steps := 0
	b.ReportAllocs()
	for b.Loop() {
		run := runLag(b, rounds, d, opts...)
		lags = append(lags, run.lags...)
		work += run.work
		took += run.took
		steps += run.steps
	}
	slices.Sort(lags)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lags, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(lags, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(lags, 100)), "max-ms")
	b.ReportMetric(100*float64(work)/float64(took), "throughput-%")
	b.ReportMetric(float64(work.Microseconds())/float64(steps), "µs/step")
}

// BenchmarkLagDefault measures the lag and throughput with the default
// 10 ms slices; BenchmarkLagAdaptive1ms with slices sized for a 1 ms lag.
func BenchmarkLagDefault(b *testing.B)     { benchLag(b) }
func BenchmarkLagAdaptive1ms(b *testing.B) { benchLag(b, cooperate.WithAdaptive(time.Millisecond)) }
