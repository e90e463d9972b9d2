package reactor_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// onReactor runs body on the reactor goroutine, which here is the benchmark
// goroutine itself (Run blocks it), and returns when body has returned.
func onReactor(b *testing.B, body func(r *reactor.Reactor)) {
	r := reactor.New(reactor.WithWatchdog(0), reactor.WithLogger(newLogger()))
	r.CallWhenRunning(func() {
		body(r)
		_ = r.Stop()
	})
	if err := r.Run(); err != nil {
		b.Fatal(err)
	}
}

// The pair below measures the same thing side by side: schedule a function
// a second from now and cancel it, with this many other timers pending.
var pendingTimers = []int{0, 10_000}

func BenchmarkCallLaterCancel(b *testing.B) {
	for _, pending := range pendingTimers {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			onReactor(b, func(r *reactor.Reactor) {
				for i := range pending {
					r.CallLater(time.Hour+time.Duration(i), func() {})
				}
				f := func() {}
				b.ReportAllocs()
				for b.Loop() {
					c := r.CallLater(time.Second, f)
					_ = c.Cancel()
				}
			})
		})
	}
}

func BenchmarkAfterFuncStop(b *testing.B) {
	for _, pending := range pendingTimers {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			others := make([]*time.Timer, pending)
			for i := range others {
				others[i] = time.AfterFunc(time.Hour+time.Duration(i), func() {})
			}
			f := func() {}
			b.ReportAllocs()
			for b.Loop() {
				t := time.AfterFunc(time.Second, f)
				t.Stop()
			}
			for _, t := range others {
				t.Stop()
			}
		})
	}
}

// 100,000 timers with random delays from 0 to 100 ms, all fired, in real
// time. One operation schedules them all and ends when the last has run, so
// its wall time is about 100 ms plus the overhead; the cpu-ms/op metric
// (getrusage, whole process) shows the overhead alone.
const manyTimers = 100_000

func randomDelays() []time.Duration {
	rng := rand.New(rand.NewPCG(7, 11))
	ds := make([]time.Duration, manyTimers)
	for i := range ds {
		ds[i] = time.Duration(rng.Int64N(int64(100 * time.Millisecond)))
	}
	return ds
}

// BenchmarkManyTimersCallLater schedules the timers from the reactor
// goroutine, as callbacks do; the reactor runs on the benchmark goroutine,
// which calls b.Loop from its callbacks.
func BenchmarkManyTimersCallLater(b *testing.B) {
	delays := randomDelays()
	r := reactor.New(reactor.WithWatchdog(0), reactor.WithLogger(newLogger()))
	var cpu time.Duration
	var step func()
	step = func() {
		if !b.Loop() {
			_ = r.Stop()
			return
		}
		start := cpuTime(b)
		left := manyTimers
		var last time.Time
		for _, d := range delays {
			var c scheduler.Call
			c = r.CallLater(d, func() {
				// Due order: no call due before the one that ran last.
				if w := c.When(); w.Before(last) {
					b.Fatalf("a timer due at %v ran after one due at %v", w, last)
				} else {
					last = w
				}
				if left--; left == 0 {
					cpu += cpuTime(b) - start
					r.CallSoon(step)
				}
			})
		}
	}
	b.ReportAllocs()
	r.CallWhenRunning(step)
	if err := r.Run(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

func BenchmarkManyTimersAfterFunc(b *testing.B) {
	delays := randomDelays()
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := cpuTime(b)
		var wg sync.WaitGroup
		var fired atomic.Int64
		wg.Add(manyTimers)
		for _, d := range delays {
			time.AfterFunc(d, func() {
				fired.Add(1)
				wg.Done()
			})
		}
		wg.Wait()
		if fired.Load() != manyTimers {
			b.Fatalf("fired %d", fired.Load())
		}
		cpu += cpuTime(b) - start
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}
