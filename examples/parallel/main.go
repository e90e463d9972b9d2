// Command parallel runs one for loop five ways and shows what each does to
// the reactor it runs on: Twisted's parallel(iterable, count, callable)
// idiom, ported, and its short form over processes, multiprocessing's
// Pool.map.
//
// The loop goes over 20,000 items, each costing about 200 µs of CPU (rounds
// of xorshift), and folds their results into a checksum. A heartbeat due
// every millisecond measures the reactor's lag: how late it runs. The five
// ways:
//
//   - a plain for loop in one reactor callback, which holds the reactor
//     until it ends;
//   - cooperate.Each, which runs the same loop in 10 ms slices on the
//     reactor;
//   - cooperate.Parallel over goroutine lanes: each item's work is a
//     cooperate.Run on a Cooperator with one lane (a worker goroutine) per
//     processor, two items per lane in flight, and its result comes back
//     to the reactor;
//   - cooperate.Parallel over a process pool: each item is a call of a
//     function registered with scheduler/process, run by one worker process
//     per processor, two items per worker in flight;
//   - MapFunc.Map over the same pool: the items go to the workers in
//     chunks, sized from the time the workers take, so that a frame and a
//     wake-up of the reactor serve many items.
//
// The checksum is the same all five ways; the reactor's lag and the time
// the loop takes are not. A call per item costs the reactor's process a
// wake-up and a frame each way per item, which on a small machine takes
// processor time from the workers; chunks pay for them once per several
// milliseconds of work. The five runs take about 15 s of CPU on the whole;
// with the environment variable CI set, the loop has 5,000 items instead.
//
//	go run ./examples/parallel
//	go run ./examples/parallel -items 2000 -work 500us
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// interval is the heartbeat's period.
const interval = time.Millisecond

// job is one item of the loop, as a worker process gets it.
type job struct {
	Item, Rounds int
}

// crunch is the loop body as a function the worker processes run, one item
// per call (crunch.Call) or in chunks (crunch.Map).
var crunch = process.RegisterMap("examples.parallel.crunch", func(_ context.Context, j job) (uint64, error) {
	return work(j.Item, j.Rounds), nil
})

func main() {
	// A worker process of the pool is this program started again: Main
	// makes it serve, and never returns there.
	process.Main()
	items := flag.Int("items", defaultItems(), "items in the loop (5,000 when $CI is set)")
	perItem := flag.Duration("work", 200*time.Microsecond, "about how much CPU each item takes")
	flag.Parse()
	if _, err := run(os.Stdout, *items, *perItem); err != nil {
		fmt.Fprintln(os.Stderr, "parallel:", err)
		os.Exit(1)
	}
}

// defaultItems is the loop's length: the scenario's 20,000 items, or 5,000
// under CI, whose machine may be shared, so that the five runs stay well
// within its time limit there.
func defaultItems() int {
	if os.Getenv("CI") != "" {
		return 5_000
	}
	return 20_000
}

// work is the loop body: rounds of xorshift seeded by the item.
func work(item, rounds int) uint64 {
	x := uint64(item)*0x9e3779b97f4a7c15 | 1
	for range rounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// phase is what one way of running the loop did.
type phase struct {
	Name     string
	Loop     time.Duration // from the loop's start to its end
	Beats    int           // heartbeats that ran while the loop was under way
	Lags     []time.Duration
	Checksum uint64
}

// lag returns a percentile of the lags of the beats that ran from the
// loop's start to the first beat after its end.
func (p phase) lag(percentile int) time.Duration {
	s := slices.Sorted(slices.Values(p.Lags))
	return s[(len(s)-1)*percentile/100]
}

// report is what run measured: the rounds of work per item, and each way
// of running the loop.
type report struct {
	Rounds int
	Phases []phase
}

// run calibrates the items, runs the loop the five ways on one reactor, and
// writes what it saw to w.
func run(w io.Writer, items int, perItem time.Duration) (report, error) {
	rounds := calibrate(perItem)
	workers := runtime.NumCPU()
	fmt.Fprintf(w, "A loop over %d items of about %v of CPU each (%d rounds of xorshift),\n", items, perItem, rounds)
	fmt.Fprintf(w, "on a reactor with a heartbeat due every %v; lag is how late a beat runs.\n", interval)
	fmt.Fprintf(w, "The parallel loops keep %d items in flight over %d goroutine lanes, then over %d worker processes;\n",
		2*workers, workers, workers)
	fmt.Fprintf(w, "MapFunc.Map sends the same processes chunks of items, sized from the time they take.\n\n")

	var phases []phase
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil)) // the watchdog would report the plain loop
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := process.NewPool(r, process.WithMinWorkers(workers), process.WithMaxWorkers(workers))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		hb := startHeartbeat(r)
		ways := []func() *deferred.Deferred[phase]{
			func() *deferred.Deferred[phase] { return plainLoop(r, hb, items, rounds) },
			func() *deferred.Deferred[phase] { return eachLoop(r, hb, items, rounds) },
			func() *deferred.Deferred[phase] { return overLanes(r, hb, items, rounds, 2*workers) },
			func() *deferred.Deferred[phase] { return overProcesses(r, hb, pool, items, rounds, 2*workers) },
			func() *deferred.Deferred[phase] { return mapOverProcesses(r, hb, pool, items, rounds) },
		}
		d := deferred.Succeed(struct{}{})
		for _, way := range ways {
			d = deferred.ThenDeferred(d, func(struct{}) *deferred.Deferred[struct{}] {
				return deferred.Then(way(), func(p phase) (struct{}, error) {
					phases = append(phases, p)
					return struct{}{}, nil
				})
			})
		}
		return d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			hb.stop()
			// The pool's tasks are over: Close only stops the workers.
			return struct{}{}, errors.Join(err, pool.Close(context.Background()))
		})
	}, reactor.WithLogger(quiet))
	rep := report{Rounds: rounds, Phases: phases}
	if err != nil {
		return rep, err
	}
	printPhases(w, phases)
	return rep, nil
}

func printPhases(w io.Writer, phases []phase) {
	fmt.Fprintf(w, "%-32s %8s %9s %11s %9s %9s %9s  %s\n",
		"", "loop", "speed-up", "heartbeats", "lag p50", "lag p99", "lag max", "checksum")
	each := phases[1].Loop
	for _, p := range phases {
		fmt.Fprintf(w, "%-32s %8v %8.2fx %11d %9v %9v %9v  %016x\n", p.Name,
			p.Loop.Round(time.Millisecond), float64(each)/float64(p.Loop), p.Beats,
			roundLag(p.lag(50)), roundLag(p.lag(99)), roundLag(p.lag(100)), p.Checksum)
	}
	fmt.Fprintf(w, "\nSpeed-up is against cooperate.Each. The plain loop held the reactor for all its %v;\n",
		phases[0].Loop.Round(time.Millisecond))
	fmt.Fprintf(w, "cooperate.Each let it run between 10 ms slices; the parallel loops left it free.\n")
}

// plainLoop runs the loop in one reactor callback.
func plainLoop(r *reactor.Reactor, hb *heartbeat, items, rounds int) *deferred.Deferred[phase] {
	d := deferred.New[phase]()
	r.CallSoon(func() {
		p := phase{Name: "plain for loop"}
		mark := hb.mark()
		start := time.Now()
		for i := range items {
			p.Checksum ^= work(i, rounds)
		}
		p.Loop = time.Since(start)
		p.Beats = hb.mark() - mark // nothing else could run: 0
		// The beat that came due during the loop runs now, late.
		hb.next().AddCallback(func(struct{}) (struct{}, error) {
			p.Lags = hb.since(mark)
			d.Callback(p)
			return struct{}{}, nil
		})
	})
	return d
}

// eachLoop runs the loop with cooperate.Each, on the reactor.
func eachLoop(r *reactor.Reactor, hb *heartbeat, items, rounds int) *deferred.Deferred[phase] {
	c := cooperate.New(r)
	p := phase{Name: "cooperate.Each"}
	mark, start := hb.mark(), time.Now()
	task := cooperate.Each(c, count(items), func(i int) error {
		p.Checksum ^= work(i, rounds)
		return nil
	})
	return finish(c.Stop, hb, &p, mark, start, task.Done())
}

// overLanes runs the loop with cooperate.Parallel, each item a one-step
// task of a Cooperator whose steps run on its lanes, a worker goroutine per
// processor.
func overLanes(r *reactor.Reactor, hb *heartbeat, items, rounds, n int) *deferred.Deferred[phase] {
	lanes := cooperate.New(r, cooperate.WithLanes(0))
	c := cooperate.New(r)
	p := phase{Name: "cooperate.Parallel, lanes"}
	mark, start := hb.mark(), time.Now()
	done := cooperate.Parallel(c, count(items), n,
		func(i int) *deferred.Deferred[uint64] {
			return cooperate.Run(lanes, func() (uint64, error) { return work(i, rounds), nil }) // on a lane
		},
		func(_ int, v uint64) error {
			p.Checksum ^= v // on the reactor
			return nil
		})
	return deferred.Then(finish(c.Stop, hb, &p, mark, start, done), func(p phase) (phase, error) {
		lanes.Stop() // the lanes are idle: their goroutines exit
		return p, nil
	})
}

// overProcesses runs the loop with cooperate.Parallel, each item a call to
// a worker process.
func overProcesses(r *reactor.Reactor, hb *heartbeat, pool *process.Pool, items, rounds, n int) *deferred.Deferred[phase] {
	c := cooperate.New(r)
	p := phase{Name: "cooperate.Parallel, processes"}
	mark, start := hb.mark(), time.Now()
	done := cooperate.Parallel(c, count(items), n,
		func(i int) *deferred.Deferred[uint64] { return crunch.Call(pool, job{Item: i, Rounds: rounds}) },
		func(_ int, v uint64) error {
			p.Checksum ^= v
			return nil
		})
	return finish(c.Stop, hb, &p, mark, start, done)
}

// mapOverProcesses runs the loop with MapFunc.Map: the items go to the
// workers in chunks, and the results come back in order, all at once.
func mapOverProcesses(r *reactor.Reactor, hb *heartbeat, pool *process.Pool, items, rounds int) *deferred.Deferred[phase] {
	p := phase{Name: "MapFunc.Map, processes"}
	mark, start := hb.mark(), time.Now()
	jobs := func(yield func(job) bool) {
		for i := range items {
			if !yield(job{Item: i, Rounds: rounds}) {
				return
			}
		}
	}
	done := deferred.Then(crunch.Map(pool, jobs), func(results []uint64) (struct{}, error) {
		for _, v := range results {
			p.Checksum ^= v
		}
		return struct{}{}, nil
	})
	return finish(nil, hb, &p, mark, start, done) // Map has a Cooperator of its own
}

// finish completes a phase once done has fired and a beat has run after
// it; stop, if not nil, stops the phase's Cooperator when done fires.
func finish(stop func(), hb *heartbeat, p *phase, mark int, start time.Time, done *deferred.Deferred[struct{}]) *deferred.Deferred[phase] {
	return deferred.ThenDeferred(done, func(struct{}) *deferred.Deferred[phase] {
		p.Loop = time.Since(start)
		p.Beats = hb.mark() - mark
		if stop != nil {
			stop()
		}
		return deferred.Then(hb.next(), func(struct{}) (phase, error) {
			p.Lags = hb.since(mark)
			return *p, nil
		})
	})
}

// heartbeat is a call that re-arms itself every interval and records how
// late it ran. It lives on the reactor goroutine.
type heartbeat struct {
	r       *reactor.Reactor
	call    scheduler.Call
	lags    []time.Duration
	waiters []*deferred.Deferred[struct{}]
}

func startHeartbeat(r *reactor.Reactor) *heartbeat {
	hb := &heartbeat{r: r}
	hb.arm()
	return hb
}

func (hb *heartbeat) arm() {
	due := time.Now().Add(interval)
	hb.call = hb.r.CallLater(interval, func() {
		hb.lags = append(hb.lags, max(0, time.Since(due)))
		waiters := hb.waiters
		hb.waiters = nil
		hb.arm()
		for _, d := range waiters {
			d.Callback(struct{}{})
		}
	})
}

// mark returns how many beats have run.
func (hb *heartbeat) mark() int { return len(hb.lags) }

// since returns the lags of the beats since mark.
func (hb *heartbeat) since(mark int) []time.Duration { return slices.Clone(hb.lags[mark:]) }

// next returns a Deferred that fires after the next beat.
func (hb *heartbeat) next() *deferred.Deferred[struct{}] {
	d := deferred.New[struct{}]()
	hb.waiters = append(hb.waiters, d)
	return d
}

func (hb *heartbeat) stop() { _ = hb.call.Cancel() }

// count yields 0, 1, ..., n-1.
func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// calibrate returns the rounds of work that take about d, from the fastest
// of a few timed runs, so that a busy machine does not shrink the items.
func calibrate(d time.Duration) int {
	const probe = 1 << 16
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		runtime.KeepAlive(work(1, probe)) // computed, not optimised away
		best = min(best, time.Since(start))
	}
	return max(1, int(int64(probe)*int64(d)/int64(max(best, time.Microsecond))))
}

// roundLag rounds a lag for printing: to 0.1 ms under 100 ms, else to 1 ms.
func roundLag(d time.Duration) time.Duration {
	if d < 100*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
