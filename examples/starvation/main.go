// Command starvation shows what one long loop does to a reactor, and what
// cooperate.Each does about it.
//
// A reactor runs a heartbeat every 10 ms and measures how late each beat
// runs: its lag. Then the same CPU-bound loop (a SHA-256 of a 1 KiB record
// per step, about a second of work in all) runs twice on the reactor: first
// as a plain for loop, which holds the reactor until it ends, then wrapped in
// cooperate.Each, which runs it in 10 ms slices with the reactor's other work
// in between. The heartbeat's lag shows the difference: about the loop's
// length without cooperation, about one slice with it.
//
//	go run ./examples/starvation
//	go run ./examples/starvation -loop 2s
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// interval is the heartbeat's period.
const interval = 10 * time.Millisecond

func main() {
	loop := flag.Duration("loop", time.Second, "about how long the loop takes when run in one go")
	flag.Parse()
	if _, err := run(os.Stdout, *loop); err != nil {
		fmt.Fprintln(os.Stderr, "starvation:", err)
		os.Exit(1)
	}
}

// phase is what the heartbeat saw while the loop ran one way.
type phase struct {
	Name     string
	Loop     time.Duration // wall time from the loop's start to its end
	Beats    int           // heartbeats that ran while the loop was under way
	Lags     []time.Duration
	Checksum uint32 // of the loop's work, the same both ways
}

// lag returns a percentile of the lags of the beats that ran from the
// loop's start to the first beat after its end: lag(50) is the median,
// lag(100) the maximum.
func (p phase) lag(percentile int) time.Duration {
	s := slices.Sorted(slices.Values(p.Lags))
	return s[(len(s)-1)*percentile/100]
}

// report is what run measured: the loop without cooperation, then with it.
type report struct {
	Steps          int
	Without, With  phase
	CalibratedStep time.Duration
}

// run calibrates a loop that takes about loopTime, runs it both ways on a
// reactor, and writes what the heartbeat saw to w.
func run(w io.Writer, loopTime time.Duration) (report, error) {
	w = &lockedWriter{w: w} // the reactor's watchdog logs from its own goroutine
	var rep report
	rep.Steps, rep.CalibratedStep = calibrate(loopTime)
	fmt.Fprintf(w, "A loop of %d steps (a SHA-256 of a 1 KiB record each, about %v in one go)\n",
		rep.Steps, loopTime.Round(time.Millisecond))
	fmt.Fprintf(w, "runs on a reactor beside a heartbeat due every %v; lag is how late a beat runs.\n", interval)
	fmt.Fprintf(w, "The reactor's watchdog logs a callback that holds it for over %v.\n\n", reactor.DefaultWatchdog)

	// The watchdog reports the plain loop while it holds the reactor: keep
	// its reports to one line (no stack) in this program's output.
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "stack" {
				return slog.Attr{}
			}
			return a
		},
	}))

	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		hb := startHeartbeat(r)
		without := blocking(r, hb, rep.Steps)
		with := deferred.ThenDeferred(without, func(p phase) *deferred.Deferred[phase] {
			rep.Without = p
			return cooperative(r, hb, rep.Steps)
		})
		return deferred.Then(with, func(p phase) (struct{}, error) {
			rep.With = p
			hb.stop()
			fmt.Fprintf(w, "\n%-20s %8s %11s %9s %9s %9s  %s\n",
				"", "loop", "heartbeats", "lag p50", "lag p99", "lag max", "checksum")
			for _, p := range []phase{rep.Without, rep.With} {
				fmt.Fprintf(w, "%-20s %8v %11d %9v %9v %9v  %08x\n", p.Name,
					p.Loop.Round(time.Millisecond), p.Beats,
					roundLag(p.lag(50)), roundLag(p.lag(99)), roundLag(p.lag(100)), p.Checksum)
			}
			fmt.Fprintf(w, "\nWithout cooperation the heartbeat waited as long as the loop ran (%v).\n",
				roundLag(rep.Without.lag(100)))
			fmt.Fprintf(w, "With cooperate.Each it waited %v at worst (a slice is %v), for the same work.\n",
				roundLag(rep.With.lag(100)), cooperate.DefaultSlice)
			return struct{}{}, nil
		})
	}, reactor.WithLogger(logger))
	return rep, err
}

// blocking runs the loop as a plain for loop inside one reactor callback.
func blocking(r *reactor.Reactor, hb *heartbeat, steps int) *deferred.Deferred[phase] {
	d := deferred.New[phase]()
	r.CallSoon(func() {
		p := phase{Name: "without cooperation"}
		mark := len(hb.lags)
		var sum checksum
		start := time.Now()
		for i := range steps {
			sum.add(i)
		}
		p.Loop = time.Since(start)
		p.Beats = len(hb.lags) - mark // nothing else could run: 0
		p.Checksum = sum.value()
		// The beat that came due during the loop runs now, late.
		hb.next().AddCallback(func(struct{}) (struct{}, error) {
			p.Lags = slices.Clone(hb.lags[mark:])
			d.Callback(p)
			return struct{}{}, nil
		})
	})
	return d
}

// cooperative runs the same loop with cooperate.Each.
func cooperative(r *reactor.Reactor, hb *heartbeat, steps int) *deferred.Deferred[phase] {
	c := cooperate.New(r)
	p := phase{Name: "with cooperate.Each"}
	mark := len(hb.lags)
	var sum checksum
	start := time.Now()
	task := cooperate.Each(c, count(steps), func(i int) error {
		sum.add(i)
		return nil
	})
	return deferred.ThenDeferred(task.Done(), func(struct{}) *deferred.Deferred[phase] {
		p.Loop = time.Since(start)
		p.Beats = len(hb.lags) - mark
		p.Checksum = sum.value()
		c.Stop()
		return deferred.Then(hb.next(), func(struct{}) (phase, error) {
			p.Lags = slices.Clone(hb.lags[mark:])
			return p, nil
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
	due := hb.r.Now().Add(interval)
	hb.call = hb.r.CallLater(interval, func() {
		hb.lags = append(hb.lags, max(0, hb.r.Now().Sub(due)))
		waiters := hb.waiters
		hb.waiters = nil
		hb.arm()
		for _, d := range waiters {
			d.Callback(struct{}{})
		}
	})
}

// next returns a Deferred that fires after the next beat.
func (hb *heartbeat) next() *deferred.Deferred[struct{}] {
	d := deferred.New[struct{}]()
	hb.waiters = append(hb.waiters, d)
	return d
}

func (hb *heartbeat) stop() { _ = hb.call.Cancel() }

// checksum is the loop's work: it hashes one 1 KiB record per step.
type checksum struct {
	record [1024]byte
	acc    uint32
}

func (c *checksum) add(i int) {
	binary.LittleEndian.PutUint64(c.record[:], uint64(i))
	h := sha256.Sum256(c.record[:])
	c.acc ^= binary.LittleEndian.Uint32(h[:])
}

func (c *checksum) value() uint32 { return c.acc }

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

// calibrate picks the number of steps that take about d, from the fastest
// of a few short timed runs, so that a busy machine does not shrink the loop.
func calibrate(d time.Duration) (steps int, perStep time.Duration) {
	const probe = 2000
	best := time.Duration(math.MaxInt64)
	var sum checksum
	for range 5 {
		start := time.Now()
		for i := range probe {
			sum.add(i)
		}
		best = min(best, time.Since(start))
	}
	best = max(best, time.Microsecond)
	return max(1, int(int64(d)*probe/int64(best))), best / probe
}

// roundLag rounds a lag for printing: to 0.1 ms under 100 ms, else to 1 ms.
func roundLag(d time.Duration) time.Duration {
	if d < 100*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// lockedWriter serializes writes from the reactor and its watchdog.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
