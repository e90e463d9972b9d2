package deferred_test

import (
	"testing"

	"github.com/twinego/twine/deferred"
)

// tenAwaits is the body of the Async benchmarks (and of a test): it awaits
// ten Deferreds made by next and sums their results.
func tenAwaits(next func(i int) *deferred.Deferred[int]) func(a *deferred.Awaiter) (int, error) {
	return func(a *deferred.Awaiter) (int, error) {
		total := 0
		for i := range 10 {
			v, err := deferred.Await(a, next(i))
			if err != nil {
				return 0, err
			}
			total += v
		}
		return total, nil
	}
}

func identity(n int) (int, error) { return n, nil }

// BenchmarkAsync10Awaits mirrors Twisted's inlineCallbacks with ten yields of
// already-fired Deferreds (bench/twisted's inline_callbacks_10_awaits): an
// Async body awaits ten Succeed(i) and returns their sum, and a callback is
// added to its Deferred. The body never parks.
func BenchmarkAsync10Awaits(b *testing.B) {
	b.ReportAllocs()
	body := tenAwaits(deferred.Succeed[int])
	for b.Loop() {
		d := deferred.Async(body)
		d.AddCallback(identity)
		if v, err := d.Result(); v != 45 || err != nil {
			b.Fatalf("Async gave %v, %v", v, err)
		}
	}
}

// BenchmarkAsync10AwaitsFiredLater awaits ten Deferreds that have not fired
// when awaited: the body parks at each, and the benchmark loop fires them one
// by one, each Callback resuming the body until its next wait. It measures
// the parking and resuming that BenchmarkAsync10Awaits never does.
func BenchmarkAsync10AwaitsFiredLater(b *testing.B) {
	b.ReportAllocs()
	var pending [10]*deferred.Deferred[int]
	body := tenAwaits(func(i int) *deferred.Deferred[int] {
		pending[i] = deferred.New[int]()
		return pending[i]
	})
	for b.Loop() {
		d := deferred.Async(body)
		for i := range pending {
			pending[i].Callback(i)
		}
		d.AddCallback(identity)
		if v, err := d.Result(); v != 45 || err != nil {
			b.Fatalf("Async gave %v, %v", v, err)
		}
	}
}

// BenchmarkAwaitFired measures Await alone, on a Deferred that has fired
// and is at rest: the take that every await of a fired Deferred costs, with
// no allocation and no goroutine switch. (After the first, each Await takes
// the zero value that the one before left.)
func BenchmarkAwaitFired(b *testing.B) {
	b.ReportAllocs()
	d := deferred.Succeed(1)
	// The loop runs in the body, on its goroutine, while the benchmark's
	// goroutine waits in Async.
	done := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		for b.Loop() {
			if _, err := deferred.Await(a, d); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})
	if _, err := done.Result(); err != nil {
		b.Fatalf("Await gave %v", err)
	}
}
