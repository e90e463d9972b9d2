package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// The parallel suite: loops whose elements go to two worker processes (or
// two goroutine lanes), as Twisted's parallel(iterable, count, callable) idiom and
// Python's multiprocessing.Pool.map do. Its baselines are Python's
// multiprocessing, run by bench/python/parallel_bench.py once a round, in
// turn with twine's rounds, when python3 is there, and cooperate.Each on
// the reactor for CPU-bound elements.
func parallelSuite() suite {
	py := pythonBaseline()
	tiny := func(name string, twine starter, doc string, pyScenario, pyName string) scenario {
		sc := scenario{name: name, doc: doc, metrics: []metric{timeMetric("element", "")}, twine: twine}
		if py != nil {
			sc.baseline, sc.baselineName = py(pyScenario), pyName
		}
		return sc
	}
	cpuMetrics := []metric{
		timeMetric("element", ""),
		{key: "p99", label: "p99 lag", kind: kindTime},
		// What the process that runs the reactor spends: the elements' work
		// for cooperate.Each, what handing them out costs for the others.
		{key: "cpu", label: "loop's CPU", kind: kindTime, per: "element"},
	}
	return suite{
		name: "parallel",
		doc:  "Loops over elements in two worker processes or goroutine lanes: process.MapFunc and cooperate.Parallel",
		scenarios: []scenario{
			tiny("map_tiny", withPool(2, mapTiny),
				"MapFunc.Map of a function returning its argument over many elements, automatic chunks, two workers; per element",
				"map_auto", "Python multiprocessing Pool(2).map, automatic chunksize"),
			tiny("map_tiny_deferreds", withPool(2, mapTinyDeferreds),
				"cooperate.Parallel over the same elements with CallChunked: a Deferred per element, handed over one by one; per element",
				"map_auto", "Python multiprocessing Pool(2).map, automatic chunksize"),
			tiny("map_tiny_calls", withPool(2, mapTinyCalls),
				"cooperate.Parallel with a Func.Call per element, 512 in flight, one frame each; per element",
				"imap_1", "Python multiprocessing Pool(2).imap, chunksize 1"),
			{
				name:         "cpu_processes",
				doc:          "MapFunc.Map of elements of about 200 µs of CPU over two worker processes, automatic chunks, a 1 ms timer probing the reactor's lag; per element",
				metrics:      cpuMetrics,
				twine:        cpuLoop(cpuProcesses),
				baseline:     cpuLoop(cpuEach),
				baselineName: "cooperate.Each on the reactor",
			},
			{
				name:         "cpu_processes_floor",
				doc:          "cpu_processes against plain Go doing the same with 50 elements to a message, the chunks MapFunc.Map grows to; per element",
				metrics:      cpuMetrics,
				twine:        cpuLoop(cpuProcesses),
				baseline:     cpuLoop(cpuPipes(50)),
				baselineName: "plain Go: two child processes, 50 elements to a pipe message, 2 in flight each",
			},
			{
				name:         "cpu_process_calls",
				doc:          "the same elements with cooperate.Parallel and a Func.Call each, 4 in flight over two worker processes; per element",
				metrics:      cpuMetrics,
				twine:        cpuLoop(cpuProcessCalls),
				baseline:     cpuLoop(cpuPipes(1)),
				baselineName: "plain Go: two child processes, a pipe message per element, 2 in flight each",
			},
			{
				name:         "cpu_lanes",
				doc:          "the same over two goroutine lanes, a cooperate.Run per element on a Cooperator WithLanes(2), 4 in flight; per element",
				metrics:      cpuMetrics,
				twine:        cpuLoop(cpuLanes),
				baseline:     cpuLoop(cpuEach),
				baselineName: "cooperate.Each on the reactor",
			},
		},
	}
}

// mapIdentity returns its argument, as the Python baseline's function does;
// registered with its chunked form.
var mapIdentity = process.RegisterMap("bench.identity", func(_ context.Context, n int) (int, error) {
	return n, nil
})

// tinyElements is how many elements one map of the tiny scenarios maps.
func tinyElements(cfg *config) int {
	if cfg.quick {
		return 20_000
	}
	return 200_000
}

// callElements is how many elements map_tiny_calls maps, a frame each.
func callElements(cfg *config) int {
	if cfg.quick {
		return 5_000
	}
	return 20_000
}

func upTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// mapTiny times MapFunc.Map, results gathered in order. The meter's first
// round, which calibrates, also warms the workers' decoders up (each Map
// learns its chunk size anew, so no map sizes the next).
func mapTiny(cfg *config, _ *runningReactor, p *process.Pool, m *meter) (sample, error) {
	n := tinyElements(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), poolWait)
	defer cancel()
	once := func() error {
		got, err := mapIdentity.Map(p, upTo(n)).Wait(ctx)
		if err == nil && (len(got) != n || got[n-1] != n-1) {
			err = errUnexpected("map: last result", got[len(got)-1], n-1)
		}
		return err
	}
	t, err := m.time(perOp(n, once))
	if err != nil {
		return sample{}, err
	}
	return t.perUnit(), nil
}

// mapTinyDeferreds times cooperate.Parallel with MapFunc.CallChunked.
func mapTinyDeferreds(cfg *config, r *runningReactor, p *process.Pool, m *meter) (sample, error) {
	return parallelOver(r, m, tinyElements(cfg), 4*process.MaxCallChunk, func(n int) *deferred.Deferred[int] {
		return mapIdentity.CallChunked(p, n)
	})
}

// mapTinyCalls times cooperate.Parallel with a Func.Call per element.
func mapTinyCalls(cfg *config, r *runningReactor, p *process.Pool, m *meter) (sample, error) {
	return parallelOver(r, m, callElements(cfg), 512, func(n int) *deferred.Deferred[int] {
		return mapIdentity.Call(p, n)
	})
}

// parallelOver times cooperate.Parallel over n elements with body, each
// result added up on the reactor.
func parallelOver(r *runningReactor, m *meter, n, inFlight int, body func(int) *deferred.Deferred[int]) (sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), poolWait)
	defer cancel()
	once := func() error {
		sum := 0
		d, err := reactor.BlockingCall(ctx, r.Reactor, func() (*deferred.Deferred[struct{}], error) {
			c := cooperate.New(r, cooperate.WithLogger(quietLogger))
			d := cooperate.Parallel(c, upTo(n), inFlight, body, func(_, v int) error {
				sum += v
				return nil
			})
			return deferred.Then(d, func(struct{}) (struct{}, error) {
				c.Stop()
				return struct{}{}, nil
			}), nil
		})
		if err == nil {
			_, err = d.Wait(ctx)
		}
		if want := n * (n - 1) / 2; err == nil && sum != want {
			err = errUnexpected("parallel: sum", sum, want)
		}
		return err
	}
	t, err := m.time(perOp(n, once))
	if err != nil {
		return sample{}, err
	}
	return t.perUnit(), nil
}

// The CPU-bound scenarios: elements of about cpuWork each, a probe on the
// reactor.
const cpuWork = 200 * time.Microsecond

// cpuElements is how many elements one round of a CPU-bound scenario runs.
func cpuElements(cfg *config) int {
	if cfg.quick {
		return 1_000
	}
	return 20_000
}

// cpuRounds returns the rounds of spinFor that take about cpuWork.
func cpuRounds() int { return int(int64(stepRounds()) * int64(cpuWork) / int64(lagStep)) }

// A cpuWay runs n elements of rounds each on r, adding their results into
// *sum on the reactor, and returns the Deferred of the loop's end. A way
// that starts processes first calls begin once they are ready, on the
// reactor: the loop's time and lag count from there.
type cpuWay func(r *reactor.Reactor, c *cooperate.Cooperator, n, rounds int, sum *uint64, begin func()) (*deferred.Deferred[struct{}], func(), error)

// cpuLoop makes the side of a CPU-bound scenario: each round runs the loop
// one way over cpuElements elements, timed per element, with the reactor's
// lag while it ran, probed by a 1 ms timer.
func cpuLoop(way cpuWay) starter {
	return withReactor(func(cfg *config, r *runningReactor, _ *meter) (sample, error) {
		n, rounds := cpuElements(cfg), cpuRounds()
		want := uint64(0)
		one := spinFor(rounds) // every element computes the same
		for range n {
			want += one
		}
		type outcome struct {
			elapsed, cpu time.Duration
			lags         []time.Duration
			err          error
		}
		ended := make(chan outcome, 1)
		var sum uint64
		r.CallSoon(func() {
			c := cooperate.New(r, cooperate.WithLogger(quietLogger))
			var lags []time.Duration
			var probe func()
			var call interface{ Cancel() error }
			probe = func() {
				due := time.Now().Add(lagProbe)
				call = r.CallLater(lagProbe, func() {
					lags = append(lags, max(0, time.Since(due)))
					probe()
				})
			}
			probe()
			start, cpu0 := time.Now(), cpuTime()
			begin := func() {
				// A way that started processes may have held the reactor
				// meanwhile: the probe starts again from here.
				_ = call.Cancel()
				lags = lags[:0]
				probe()
				start, cpu0 = time.Now(), cpuTime()
			}
			d, cleanup, err := way(r.Reactor, c, n, rounds, &sum, begin)
			if err != nil {
				ended <- outcome{err: err}
				return
			}
			d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
				elapsed, cpu := time.Since(start), cpuTime()-cpu0
				_ = call.Cancel()
				c.Stop()
				if cleanup != nil {
					cleanup()
				}
				ended <- outcome{elapsed: elapsed, cpu: cpu, lags: lags, err: err}
				return struct{}{}, nil
			})
		})
		var o outcome
		select {
		case o = <-ended:
		case <-time.After(poolWait):
			return sample{}, fmt.Errorf("the loop over %d elements never ended", n)
		}
		if o.err != nil {
			return sample{}, o.err
		}
		if sum != want {
			return sample{}, errUnexpected("sum of the elements", sum, want)
		}
		if len(o.lags) == 0 {
			return sample{}, errNoProbe
		}
		slices.Sort(o.lags)
		return sample{
			values: map[string]float64{
				"time": float64(o.elapsed.Nanoseconds()) / float64(n),
				"p99":  float64(percentile(o.lags, 99)),
				"cpu":  float64(o.cpu.Nanoseconds()) / float64(n),
			},
			allocs: -1,
			bytes:  -1,
		}, nil
	})
}

// cpuEach runs the elements with cooperate.Each on the reactor.
func cpuEach(_ *reactor.Reactor, c *cooperate.Cooperator, n, rounds int, sum *uint64, _ func()) (*deferred.Deferred[struct{}], func(), error) {
	return cooperate.Each(c, upTo(n), func(int) error {
		*sum += spinFor(rounds)
		return nil
	}).Done(), nil, nil
}

// cpuLanes runs them with cooperate.Parallel over two goroutine lanes, a
// cooperate.Run per element, 4 in flight, as over the two worker
// processes: each lane has the next element at hand when one ends, and the
// reactor, readied by the result, runs before it. This is the way of
// examples/parallel.
func cpuLanes(r *reactor.Reactor, c *cooperate.Cooperator, n, rounds int, sum *uint64, _ func()) (*deferred.Deferred[struct{}], func(), error) {
	lanes := cooperate.New(r, cooperate.WithLanes(2), cooperate.WithLogger(quietLogger))
	d := cooperate.Parallel(c, upTo(n), 4, func(int) *deferred.Deferred[uint64] {
		return cooperate.Run(lanes, func() (uint64, error) { return spinFor(rounds), nil })
	}, func(_ int, v uint64) error {
		*sum += v
		return nil
	})
	return d, lanes.Stop, nil
}

// poolSpinMap is spinFor registered with its chunked form, for MapFunc.Map.
var poolSpinMap = process.RegisterMap("bench.spin.map", func(_ context.Context, rounds int) (uint64, error) {
	return spinFor(rounds), nil
})

// cpuProcesses runs them with MapFunc.Map over two worker processes, its
// chunks sized automatically: the short form of the loop over processes.
func cpuProcesses(r *reactor.Reactor, _ *cooperate.Cooperator, n, rounds int, sum *uint64, begin func()) (*deferred.Deferred[struct{}], func(), error) {
	return overPool(r, begin, func(p *process.Pool) *deferred.Deferred[struct{}] {
		same := func(yield func(int) bool) {
			for range n {
				if !yield(rounds) {
					return
				}
			}
		}
		return deferred.Then(poolSpinMap.Map(p, same), func(vs []uint64) (struct{}, error) {
			for _, v := range vs {
				*sum += v
			}
			return struct{}{}, nil
		})
	})
}

// cpuProcessCalls runs them with cooperate.Parallel over two worker
// processes, a call per element, 4 in flight.
func cpuProcessCalls(r *reactor.Reactor, c *cooperate.Cooperator, n, rounds int, sum *uint64, begin func()) (*deferred.Deferred[struct{}], func(), error) {
	return overPool(r, begin, func(p *process.Pool) *deferred.Deferred[struct{}] {
		return cooperate.Parallel(c, upTo(n), 4, func(int) *deferred.Deferred[uint64] {
			return poolSpin.Call(p, rounds)
		}, func(_ int, v uint64) error {
			*sum += v
			return nil
		})
	})
}

// overPool starts a pool of two workers on r, warms them up, calls begin
// and runs loop over the pool; the cleanup closes the pool.
func overPool(r *reactor.Reactor, begin func(), loop func(*process.Pool) *deferred.Deferred[struct{}]) (*deferred.Deferred[struct{}], func(), error) {
	p, err := process.NewPool(r, process.WithMinWorkers(2), process.WithMaxWorkers(2), process.WithLogger(quietLogger))
	if err != nil {
		return nil, nil, err
	}
	closePool := func() {
		// On the reactor, with nothing left in flight: Close only stops
		// the workers.
		ctx, cancel := context.WithTimeout(context.Background(), poolWait)
		defer cancel()
		_ = p.Close(ctx)
	}
	warm := deferred.All(poolSpin.Call(p, 1), poolSpin.Call(p, 1), poolSpin.Call(p, 1), poolSpin.Call(p, 1))
	d := deferred.ThenDeferred(warm, func([]uint64) *deferred.Deferred[struct{}] {
		begin()
		return loop(p)
	})
	return d, closePool, nil
}

// The Python baseline.

//go:embed python/parallel_bench.py
var parallelScript []byte

// pythonNote is said once, when the Python baseline cannot run.
var pythonNote sync.Once

// pythonBaseline returns a maker of Python baseline sides, or nil, after
// saying why in one line, when there is no python3 ($PYTHON, or python3 on
// the PATH). Each round of such a side runs the script once.
func pythonBaseline() func(scenario string) starter {
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "python3"
	}
	path, err := exec.LookPath(python)
	if err != nil {
		pythonNote.Do(func() {
			fmt.Fprintf(os.Stderr, "bench: parallel: no %s, so no Python multiprocessing baseline (install python3 to have it)\n", python)
		})
		return nil
	}
	return func(scenario string) starter {
		return func(cfg *config) (*side, error) {
			dir, err := os.MkdirTemp("", "twine-bench-python-")
			if err != nil {
				return nil, err
			}
			file := filepath.Join(dir, "parallel_bench.py")
			if err := os.WriteFile(file, parallelScript, 0o644); err != nil {
				_ = os.RemoveAll(dir)
				return nil, err
			}
			round := func() (sample, error) { return pythonRound(cfg, path, file, scenario) }
			return &side{round: round, close: func() error { return os.RemoveAll(dir) }}, nil
		}
	}
}

// pythonRound runs the script at file with python once, for scenario.
func pythonRound(cfg *config, python, file, scenario string) (sample, error) {
	n := tinyElements(cfg)
	if scenario == "imap_1" {
		n = callElements(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), poolWait)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, file, scenario, "--n", strconv.Itoa(n), "--workers", "2")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return sample{}, fmt.Errorf("python %s: %w: %s", scenario, err, lastLine(stderr.String()))
	}
	f, err := parseFigure(strings.TrimSpace(string(out)))
	if err != nil || f.Name != scenario || f.Unit != "us/element" {
		return sample{}, fmt.Errorf("python %s: unexpected output %q", scenario, strings.TrimSpace(string(out)))
	}
	return sample{values: map[string]float64{"time": f.Value * 1e3}, allocs: -1, bytes: -1}, nil
}
