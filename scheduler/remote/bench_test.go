package remote_test

import (
	"context"
	"testing"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
	"github.com/twinego/twine/scheduler/remote"
)

// benchArgs are the arguments of benchAdd.
type benchArgs struct{ X, Y int }

// benchAdd is Celery's tiny add(x, y).
var benchAdd = process.Register("rt.benchAdd", func(_ context.Context, a benchArgs) (int, error) {
	return a.X + a.Y, nil
})

// BenchmarkThroughput: tiny calls of add(x, y), 500 in flight, through the
// broker to a worker of concurrency 500 in this process, every guarantee
// on; per call. Its argument is a struct, which gob describes in each
// message, as each message must decode alone; the codec's message side
// keeps a stream per type behind them, so that this costs little.
func BenchmarkThroughput(b *testing.B) {
	throughput(b, func(i int) *deferred.Deferred[int] { return benchAdd.Call(pool, benchArgs{i, 1}) })
}

// BenchmarkThroughputInt is BenchmarkThroughput with square(n), whose
// argument and result are basic types: they cross without gob.
func BenchmarkThroughputInt(b *testing.B) {
	throughput(b, func(i int) *deferred.Deferred[int] { return square.Call(pool, i) })
}

// pool is the pool of the running throughput benchmark.
var pool *remote.Pool

func throughput(b *testing.B, call func(int) *deferred.Deferred[int]) {
	const window = 500
	url, queue := broker(b)
	r := startReactor(b)
	p, _ := newPool(b, r, url, queue, remote.WithMaxInFlight(window))
	pool = p
	runWorker(b, url, queue, remote.WithConcurrency(window))
	slots := make(chan struct{}, window)
	failed := make(chan error, 1)
	release := func(_ int, err error) (int, error) {
		if err != nil {
			select {
			case failed <- err:
			default:
			}
		}
		<-slots
		return 0, nil
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		slots <- struct{}{}
		call(i).AddBoth(release)
		i++
	}
	for range window {
		slots <- struct{}{}
	}
	select {
	case err := <-failed:
		b.Fatal(err)
	default:
	}
}

// BenchmarkRoundTrip: one call at a time, each from the callback of the one
// before; per call.
func BenchmarkRoundTrip(b *testing.B) {
	url, queue := broker(b)
	r := startReactor(b)
	p, _ := newPool(b, r, url, queue)
	runWorker(b, url, queue, remote.WithConcurrency(1))
	b.ReportAllocs()
	done := make(chan error, 1)
	for b.Loop() {
		r.CallSoon(func() {
			benchAdd.Call(p, benchArgs{1, 2}).AddBoth(func(_ int, err error) (int, error) {
				done <- err
				return 0, nil
			})
		})
		select {
		case err := <-done:
			if err != nil {
				b.Fatal(err)
			}
		case <-time.After(waitLimit):
			b.Fatal("a call never came back")
		}
	}
}
