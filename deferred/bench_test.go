package deferred_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/twinego/twine/deferred"
)

func double(n int) (int, error) { return n * 2, nil }

func inc(n int) (int, error) { return n + 1, nil }

var errBench = errors.New("bench")

func recoverBench(error) (int, error) { return 0, nil }

// BenchmarkCreateAddCallbackCallback measures Twisted's most common pattern:
// a new Deferred, one callback, one fire.
func BenchmarkCreateAddCallbackCallback(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d := deferred.New[int]()
		d.AddCallback(double)
		d.Callback(1)
	}
}

// BenchmarkChain10 creates a Deferred, adds ten callbacks and fires it.
func BenchmarkChain10(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d := deferred.New[int]()
		for range 10 {
			d.AddCallback(inc)
		}
		d.Callback(0)
	}
}

// BenchmarkErrbackPath fires an error past a callback into an errback that
// handles it.
func BenchmarkErrbackPath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d := deferred.New[int]()
		d.AddCallback(double)
		d.AddErrback(recoverBench)
		d.Errback(errBench)
	}
}

// BenchmarkDeepChain1M builds a line of 1,000,000 Deferred[any], each one's
// chain waiting on the next, then fires the last: the result travels back up
// the whole line without recursion. It reports the time and the memory per
// link.
func BenchmarkDeepChain1M(b *testing.B) {
	const n = 1_000_000
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		ds := make([]*deferred.Deferred[any], n+1)
		for i := range ds {
			ds[i] = deferred.New[any]()
		}
		for i := range n {
			next := ds[i+1]
			ds[i].AddCallback(func(any) (any, error) { return next, nil })
		}
		for _, d := range ds[:n] {
			d.Callback(nil)
		}
		var got any
		ds[0].AddCallback(func(v any) (any, error) { got = v; return v, nil })
		ds[n].Callback("end")
		if got != "end" {
			b.Fatalf("deep chain delivered %v", got)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/link")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/n, "B/link")
}
