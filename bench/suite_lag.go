package main

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/twinego/twine/cooperate"
)

// The lag suite: how late the reactor runs a timer while long loops share
// it, as in bench/twisted/cooperate_lag.py. Four tasks whose steps compute
// for 20 µs run on a reactor beside a probe, a 1 ms CallLater that re-arms
// itself; how late the probe runs is the reactor's lag.
const (
	lagTasks = 4
	lagStep  = 20 * time.Microsecond
	lagProbe = time.Millisecond
)

// The lag modes.
const (
	lagBlocking  = iota // each task is one plain loop run in one callback
	lagCooperate        // each task runs under cooperate.Each
)

func lagSuite() suite {
	twisted := &script{
		comparison: "twisted",
		file:       "twisted/cooperate_lag.py",
		args: func(cfg *config) []string {
			return []string{"--duration", formatSeconds(cfg.lagDuration)}
		},
	}
	lagMetrics := func(prefix string) []metric {
		tw := func(name string) string {
			if prefix == "" {
				return ""
			}
			return prefix + "_lag_" + name
		}
		return []metric{
			{key: "p99", label: "p99 lag", kind: kindTime, other: tw("p99")},
			{key: "p50", label: "p50 lag", kind: kindTime, other: tw("p50")},
			{key: "max", label: "max lag", kind: kindTime, other: tw("max")},
			{key: "throughput", label: "throughput", kind: kindPercent, higherBetter: true, other: tw("throughput")},
		}
	}
	return suite{
		name: "lag",
		doc:  "Reactor lag under cooperative load: 4 tasks of 20 µs steps beside a 1 ms timer probe",
		scenarios: []scenario{
			{
				name:    "blocking",
				doc:     "without cooperation: each task is one plain loop that holds the reactor for a quarter of the run",
				metrics: lagMetrics("blocking"),
				twine:   lagRun(lagBlocking),
				other:   twisted.round("blocking"),
				lag:     true,
			},
			{
				name:    "cooperate",
				doc:     "cooperate.Each with the default 10 ms slices",
				metrics: lagMetrics("cooperate"),
				twine:   lagRun(lagCooperate),
				other:   twisted.round("cooperate"),
				lag:     true,
			},
			{
				name:    "adaptive",
				doc:     "cooperate.Each with WithAdaptive(1 ms): slices sized for a 1 ms lag",
				metrics: lagMetrics(""),
				twine:   lagRun(lagCooperate, cooperate.WithAdaptive(time.Millisecond)),
				lag:     true,
			},
		},
	}
}

// busySink keeps the work of busy and of the loop bodies from being
// optimised away.
var busySink uint64

// busy computes for a while: rounds of xorshift.
func busy(rounds int) {
	x := busySink | 1
	for range rounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	busySink = x
}

// stepRounds returns the rounds of busy that take about lagStep, measured
// once per process.
var stepRounds = sync.OnceValue(func() int {
	const probe = 1 << 20
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		busy(probe)
		best = min(best, time.Since(start))
	}
	return max(1, int(int64(probe)*int64(lagStep)/int64(best)))
})

// blockingCPU returns the processor time a step takes in one blocking loop
// run for d.
func blockingCPU(rounds int, d time.Duration) time.Duration {
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	for time.Since(start) < d {
		for range 100 {
			busy(rounds)
		}
		n += 100
	}
	return (cpuTime() - cpu0) / time.Duration(n)
}

// A lagResult is what one run of the tasks and the probe saw.
type lagResult struct {
	lags  []lagPoint
	steps int
	cpu   time.Duration // processor time the process used
}

var errNoProbe = errors.New("lag: the probe never ran")

// lagRun makes the side of a lag scenario: each round is a run of the
// tasks and the probe on a new reactor, for cfg.lagDuration.
// Its throughput is the tasks' steps per second against one blocking loop
// running the same steps, both counted in processor time, so that the
// figure holds on a loaded machine where the process loses the processor
// now and then; the blocking loop's cost per step is measured just before
// and just after the run.
func lagRun(mode int, opts ...cooperate.Option) starter {
	return func(cfg *config) (*side, error) {
		return &side{round: func() (sample, error) { return lagRound(cfg, mode, opts) }}, nil
	}
}

// lagRound makes one round of a lag scenario.
func lagRound(cfg *config, mode int, opts []cooperate.Option) (sample, error) {
	rounds := stepRounds()
	before := blockingCPU(rounds, cfg.lagDuration/6)
	run, err := runLagOnce(rounds, cfg.lagDuration, mode, opts)
	after := blockingCPU(rounds, cfg.lagDuration/6)
	if err != nil {
		return sample{}, err
	}
	if len(run.lags) == 0 {
		return sample{}, errNoProbe
	}
	lags := make([]time.Duration, len(run.lags))
	for i, p := range run.lags {
		lags[i] = p.Lag
	}
	slices.Sort(lags)
	needed := time.Duration(run.steps) * (before + after) / 2
	return sample{
		values: map[string]float64{
			"p50":        float64(percentile(lags, 50)),
			"p99":        float64(percentile(lags, 99)),
			"max":        float64(percentile(lags, 100)),
			"throughput": 100 * float64(needed) / float64(max(run.cpu, 1)),
		},
		allocs: -1,
		bytes:  -1,
		lags:   run.lags,
	}, nil
}

// runLagOnce runs the tasks and the probe on a new reactor for about d.
//
// Blocking: the four tasks run one after the other, each as one plain loop
// of steps for d/4 inside one reactor callback; the next is queued when
// one ends, so the probe runs between two loops. Cooperating: the four
// tasks are endless loops under cooperate.Each, stopped after d.
func runLagOnce(rounds int, d time.Duration, mode int, opts []cooperate.Option) (lagResult, error) {
	r := newReactor()
	var run lagResult
	var start time.Time
	var cpu0 time.Duration
	step := func(int) error {
		busy(rounds)
		run.steps++
		return nil
	}
	finish := func() {
		run.cpu = cpuTime() - cpu0
		_ = r.Stop()
	}
	r.CallWhenRunning(func() {
		start, cpu0 = time.Now(), cpuTime()
		var arm func()
		arm = func() {
			due := time.Now().Add(lagProbe)
			r.CallLater(lagProbe, func() {
				now := time.Now()
				run.lags = append(run.lags, lagPoint{At: now.Sub(start), Lag: max(0, now.Sub(due))})
				arm()
			})
		}
		arm()
		if mode == lagBlocking {
			// Each loop lasts a quarter of the run by the clock, asked
			// every 100 steps, rather than a count of steps: at a count
			// fixed beforehand, how long a loop holds the reactor would
			// hang on how loaded the machine was when the step was
			// calibrated.
			perTask := d / lagTasks
			var loop func(task int)
			loop = func(task int) {
				for end := time.Now().Add(perTask); time.Now().Before(end); {
					for i := range 100 {
						_ = step(i)
					}
				}
				if task+1 == lagTasks {
					finish()
					return
				}
				r.CallSoon(func() { loop(task + 1) })
			}
			r.CallSoon(func() { loop(0) })
			return
		}
		opts = append(slices.Clip(opts), cooperate.WithLogger(quietLogger))
		c := cooperate.New(r, opts...)
		for range lagTasks {
			cooperate.Each(c, endless, step)
		}
		r.CallLater(d, func() {
			c.Stop()
			finish()
		})
	})
	if err := r.Run(); err != nil {
		return lagResult{}, err
	}
	return run, nil
}

// endless yields 0, 1, 2... for ever.
func endless(yield func(int) bool) {
	for i := 0; yield(i); i++ {
	}
}
