package reactor_test

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twinego/twine/reactor"
)

// runWith runs a reactor with no watchdog on another goroutine for the
// length of a benchmark.
func runWith(b *testing.B) (*reactor.Reactor, func()) {
	r := reactor.New(reactor.WithWatchdog(0), reactor.WithLogger(newLogger()))
	return r, start(b, r)
}

// drain waits until the reactor has run everything queued before it.
func drain(r *reactor.Reactor) {
	done := make(chan struct{})
	r.CallSoon(func() { close(done) })
	<-done
}

// callSoonBatch is how many functions one benchmark operation queues; the
// operation ends when the reactor has run them all, so the figures are
// sustained end-to-end throughput, not just the cost of queueing.
const callSoonBatch = 10_000

// reportCalls reports the cost of each of the b.N*callSoonBatch functions
// queued, then checks that the reactor has run them all: ran counts them.
func reportCalls(b *testing.B, r *reactor.Reactor, ran *int) {
	calls := b.N * callSoonBatch
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(calls), "ns/call")
	b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "calls/s")
	drain(r)
	if *ran != calls {
		b.Fatalf("ran %d of %d", *ran, calls)
	}
}

// BenchmarkCallSoon: one goroutine queues functions for the reactor
// (Twisted's callFromThread), which runs them on its own goroutine.
func BenchmarkCallSoon(b *testing.B) {
	r, stop := runWith(b)
	defer stop()
	n := 0
	inc := func() { n++ }
	b.ReportAllocs()
	for b.Loop() {
		for range callSoonBatch {
			r.CallSoon(inc)
		}
		drain(r)
	}
	reportCalls(b, r, &n)
}

// BenchmarkCallSoon8Producers: eight goroutines queue at once.
func BenchmarkCallSoon8Producers(b *testing.B) {
	const producers = 8
	r, stop := runWith(b)
	defer stop()
	n := 0
	inc := func() { n++ }
	b.ReportAllocs()
	for b.Loop() {
		var wg sync.WaitGroup
		for range producers {
			wg.Go(func() {
				for range callSoonBatch / producers {
					r.CallSoon(inc)
				}
			})
		}
		wg.Wait()
		drain(r)
	}
	reportCalls(b, r, &n)
}

// BenchmarkDeferToGoroutineRoundTrip: from the reactor goroutine, hand a
// function to a goroutine and get its result back on the reactor, one
// after the other (Twisted's deferToThread). The benchmark goroutine waits
// in Run while the reactor goroutine calls b.Loop from its callbacks.
func BenchmarkDeferToGoroutineRoundTrip(b *testing.B) {
	r := reactor.New(reactor.WithWatchdog(0), reactor.WithLogger(newLogger()))
	work := func() (int, error) { return 1, nil }
	var step func()
	next := func(v int) (int, error) {
		step()
		return v, nil
	}
	step = func() {
		if !b.Loop() {
			_ = r.Stop()
			return
		}
		reactor.DeferToGoroutine(r, work).AddCallback(next)
	}
	b.ReportAllocs()
	r.CallWhenRunning(step)
	if err := r.Run(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIdleCPU measures the CPU time (user and system, from getrusage,
// for the whole process) used while a reactor with its watchdog sits idle
// for two seconds. It reports it as a percentage of one core.
func BenchmarkIdleCPU(b *testing.B) {
	const idle = 2 * time.Second
	for b.Loop() {
		r := reactor.New(reactor.WithLogger(newLogger()))
		r.CallLater(time.Hour, func() {}) // an armed timer, as in real programs
		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		drain(r)
		before := cpuTime(b)
		<-time.After(idle)
		used := cpuTime(b) - before
		_ = r.Stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(100*used.Seconds()/idle.Seconds(), "%cpu")
		b.ReportMetric(float64(r.Stats().Wakeups), "wakeups")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
