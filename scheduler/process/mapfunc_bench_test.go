package process_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// mapBenchN is how many elements one operation of the map benchmarks maps.
const mapBenchN = 100_000

// mapIdentity returns its argument, as the Python baseline's function does.
var mapIdentity = process.RegisterMap("test.mapIdentity", func(_ context.Context, n int) (int, error) {
	return n, nil
})

// benchMapPool starts a pool of two warm workers on a running reactor.
func benchMapPool(b testing.TB) (*reactor.Reactor, *process.Pool) {
	r := startReactor(b)
	p := poolOn(b, r, process.WithMinWorkers(2), process.WithMaxWorkers(2), process.WithLogger(slog.New(newLogSink())))
	must(b, mapIdentity.Map(p, upTo(mapBenchN)))
	return r, p
}

// BenchmarkMap maps tiny elements over two workers with automatic chunks,
// results gathered in order: Python's Pool(2).map(f, range(n)). Per element.
func BenchmarkMap(b *testing.B) {
	b.ReportAllocs()
	_, p := benchMapPool(b)
	for b.Loop() {
		got := must(b, mapIdentity.Map(p, upTo(mapBenchN)))
		require.Equal(b, mapBenchN-1, got[mapBenchN-1])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mapBenchN), "ns/element")
}

// BenchmarkCallChunkedParallel maps tiny elements over two workers with a
// Deferred per element, handed over one by one: cooperate.Parallel with
// CallChunked as its body, as Python's imap hands results over. Per element.
func BenchmarkCallChunkedParallel(b *testing.B) {
	b.ReportAllocs()
	r, p := benchMapPool(b)
	body := func(n int) *deferred.Deferred[int] { return mapIdentity.CallChunked(p, n) }
	for b.Loop() {
		sum := 0
		d, err := reactor.BlockingCall(context.Background(), r, func() (*deferred.Deferred[struct{}], error) {
			c := cooperate.New(r)
			d := cooperate.Parallel(c, upTo(mapBenchN), 4*process.MaxCallChunk, body, func(_, v int) error {
				sum += v
				return nil
			})
			return deferred.Then(d, func(struct{}) (struct{}, error) {
				c.Stop()
				return struct{}{}, nil
			}), nil
		})
		require.NoError(b, err)
		must(b, d)
		require.Equal(b, mapBenchN*(mapBenchN-1)/2, sum)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mapBenchN), "ns/element")
}
