package cooperate_test

import (
	"testing"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// BenchmarkParallel measures what Parallel adds per element over the work
// itself: body returns a Deferred that has fired already, as for a result
// found in a cache, and each adds it up.
func BenchmarkParallel(b *testing.B) {
	b.ReportAllocs()
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()
	sum := 0
	for b.Loop() {
		d := cooperate.Parallel(c, countTo(1000), 64, deferred.Succeed[int], func(_, v int) error {
			sum += v
			return nil
		})
		for !d.Called() {
			clock.Advance(time.Millisecond)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/element")
}

// BenchmarkMapDeferred measures Map with a Deferred per element fired after
// body has returned, as work done elsewhere would be; per element.
func BenchmarkMapDeferred(b *testing.B) {
	b.ReportAllocs()
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()
	var pending []*deferred.Deferred[int]
	body := func(v int) *deferred.Deferred[int] {
		d := deferred.New[int]()
		pending = append(pending, d)
		return d
	}
	for b.Loop() {
		d := cooperate.Map(c, countTo(1000), 256, body)
		for !d.Called() {
			clock.Advance(time.Millisecond)
			for i, p := range pending {
				p.Callback(i)
			}
			pending = pending[:0]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/element")
}
