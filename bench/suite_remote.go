package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/internal/brokertest"
	"github.com/twinego/twine/scheduler/process"
	"github.com/twinego/twine/scheduler/remote"
)

// The remote suite: scheduler/remote's pool and worker through the RabbitMQ
// broker, every delivery guarantee on, beside the bare amqp091-go program
// (remote_bare.go) that pays only for those guarantees, and, where Debian's
// python3-celery is installed, beside Celery (remote_celery.go).
// Without a broker the suite is left out, with a note.
func remoteSuite() suite {
	s := suite{
		name: "remote",
		doc:  "Workers through RabbitMQ: scheduler/remote against a bare amqp091-go program and Celery",
		scenarios: []scenario{
			{
				name:         "throughput",
				doc:          fmt.Sprintf("tiny add(x, y) calls, %d in flight, a worker of concurrency %d in this process; per call", remoteWindow, remoteWindow),
				metrics:      []metric{timeMetric("call", "")},
				twine:        withRemote(remoteWindow, remoteWindow, remoteThroughput(remoteWindow)),
				baseline:     bareThroughput,
				baselineName: "bare amqp091-go",
			},
			{
				name:         "round_trip",
				doc:          "one add(x, y) call at a time, each made from the callback of the one before; the median call",
				metrics:      []metric{timeMetric("call", "")},
				twine:        withRemote(1, 1, remoteRoundTrip),
				baseline:     bareRoundTrip,
				baselineName: "bare amqp091-go",
			},
		},
	}
	if err := brokerProbe(); err != nil {
		// Left out: a run without a broker still passes.
		u := "(an unparsable URL)"
		if pu, perr := url.Parse(brokerURL()); perr == nil {
			u = pu.Redacted()
		}
		fmt.Fprintf(os.Stderr, "bench: remote: no RabbitMQ at %s (%v): the suite's scenarios are left out\n", u, err)
		s.scenarios = nil
		return s
	}
	s.scenarios = append(s.scenarios, celeryScenarios()...)
	return s
}

// remoteWindow is how many calls the throughput scenario keeps in flight,
// as the bare program's measurement quoted in the issue did.
const remoteWindow = 500

// addArgs are the arguments of add.
type addArgs struct{ X, Y int }

// remoteAdd is the tiny task of the suite, Celery's add(x, y).
var remoteAdd = process.Register("bench.remote.add", func(_ context.Context, a addArgs) (int, error) {
	return a.X + a.Y, nil
})

// brokerURL is the broker's address, as scheduler/remote finds it.
func brokerURL() string {
	if u := os.Getenv(remote.EnvURL); u != "" {
		return u
	}
	return remote.DefaultURL
}

// brokerProbe says whether the broker answers, once per run.
var brokerProbe = sync.OnceValue(func() error {
	conn, err := amqp.DialConfig(brokerURL(), amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return err
	}
	return conn.Close()
})

// benchQueue returns a queue name of the run's own.
func benchQueue(what string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "twine-bench." + what + "." + hex.EncodeToString(b[:])
}

// remoteCalls is how many calls one run of a throughput scenario makes,
// and remoteTrips how many round trips.
func remoteCalls(cfg *config) int {
	if cfg.quick {
		return 1000
	}
	return 20000
}

func remoteTrips(cfg *config) int {
	if cfg.quick {
		return 100
	}
	return 1000
}

// withRemote makes a side that starts a reactor, a pool on it with
// inFlight tasks out at most and a worker of concurrency in this process, on
// a queue of their own, for the scenario's rounds, lets body make each
// round, then closes them and deletes the queue.
func withRemote(concurrency, inFlight int, body func(cfg *config, r *runningReactor, p *remote.Pool) (sample, error)) starter {
	return func(cfg *config) (*side, error) {
		release, err := brokertest.Share()
		if err != nil {
			return nil, err
		}
		r := startReactor()
		url, queue := brokerURL(), benchQueue("remote")
		opts := []remote.Option{remote.WithURL(url), remote.WithQueue(queue), remote.WithLogger(quietLogger), remote.WithConnectTimeout(10 * time.Second)}
		ctx, cancel := context.WithTimeout(context.Background(), callWait)
		defer cancel()
		p, err := remote.NewPool(ctx, r, append(opts, remote.WithMaxInFlight(max(inFlight, 100)))...)
		if err != nil {
			release()
			return nil, errors.Join(err, r.stop())
		}
		wctx, stop := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- remote.NewWorker(append(opts, remote.WithConcurrency(concurrency))...).Run(wctx) }()
		closeAll := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), callWait)
			defer cancel()
			defer release()
			err := p.Close(ctx)
			stop()
			return errors.Join(err, <-ran, remote.DeleteQueue(ctx, opts...), r.stop())
		}
		// Warm up: connections, the worker's goroutines, gob's types.
		ds := make([]*deferred.Deferred[int], 100)
		for i := range ds {
			ds[i] = remoteAdd.Call(p, addArgs{i, 1})
		}
		if _, err := deferred.All(ds...).Wait(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("warming up: %w", err), closeAll())
		}
		return &side{round: func() (sample, error) { return body(cfg, r, p) }, close: closeAll}, nil
	}
}

// remoteThroughput makes a round's calls, window in flight, and times them.
func remoteThroughput(window int) func(cfg *config, r *runningReactor, p *remote.Pool) (sample, error) {
	return func(cfg *config, _ *runningReactor, p *remote.Pool) (sample, error) {
		n := remoteCalls(cfg)
		slots := make(chan struct{}, window)
		var failed atomic.Pointer[error]
		start := time.Now()
		for i := range n {
			slots <- struct{}{}
			remoteAdd.Call(p, addArgs{i, 1}).AddBoth(func(v int, err error) (int, error) {
				if err == nil && v != i+1 {
					err = errUnexpected("add", v, i+1)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
				<-slots
				return 0, nil
			})
		}
		for range window {
			select {
			case slots <- struct{}{}:
			case <-time.After(callWait):
				return sample{}, errors.New("remote: a call never came back")
			}
		}
		elapsed := time.Since(start)
		if e := failed.Load(); e != nil {
			return sample{}, *e
		}
		return perCall(elapsed, n), nil
	}
}

// remoteRoundTrip makes a round's calls one at a time, each from the
// callback of the one before, and returns the median.
func remoteRoundTrip(cfg *config, r *runningReactor, p *remote.Pool) (sample, error) {
	n := remoteTrips(cfg)
	rts := make([]time.Duration, 0, n)
	done := make(chan error, 1)
	var next func(i int)
	next = func(i int) {
		start := time.Now()
		remoteAdd.Call(p, addArgs{i, 1}).AddBoth(func(v int, err error) (int, error) {
			rts = append(rts, time.Since(start))
			switch {
			case err != nil:
				done <- err
			case v != i+1:
				done <- errUnexpected("add", v, i+1)
			case i+1 == n:
				done <- nil
			default:
				next(i + 1)
			}
			return 0, nil
		})
	}
	r.CallSoon(func() { next(0) })
	select {
	case err := <-done:
		if err != nil {
			return sample{}, err
		}
	case <-time.After(callWait + time.Duration(n)*time.Second):
		return sample{}, errors.New("remote: a call never came back")
	}
	return sample{values: map[string]float64{"time": float64(medianDuration(rts))}, allocs: -1, bytes: -1}, nil
}

// perCall is the sample of n calls made in elapsed.
func perCall(elapsed time.Duration, n int) sample {
	return sample{values: map[string]float64{"time": float64(elapsed.Nanoseconds()) / float64(n)}, allocs: -1, bytes: -1}
}

// bareThroughput is the bare program's side of the throughput scenario.
func bareThroughput(cfg *config) (*side, error) {
	return withBare(remoteWindow, func(b *bare) error {
		return b.throughput(100, remoteWindow)
	}, func(b *bare) (sample, error) {
		n := remoteCalls(cfg)
		start := time.Now()
		if err := b.throughput(n, remoteWindow); err != nil {
			return sample{}, err
		}
		return perCall(time.Since(start), n), nil
	})
}

// bareRoundTrip is the bare program's side of the round-trip scenario.
func bareRoundTrip(cfg *config) (*side, error) {
	return withBare(1, func(b *bare) error {
		_, err := b.roundTrips(10)
		return err
	}, func(b *bare) (sample, error) {
		rts, err := b.roundTrips(remoteTrips(cfg))
		if err != nil {
			return sample{}, err
		}
		return sample{values: map[string]float64{"time": float64(medianDuration(rts))}, allocs: -1, bytes: -1}, nil
	})
}

// withBare starts the bare program for the scenario's rounds, warms it up,
// lets round make each round, and stops it after the last.
func withBare(window int, warm func(b *bare) error, round func(b *bare) (sample, error)) (*side, error) {
	release, err := brokertest.Share()
	if err != nil {
		return nil, err
	}
	b, err := startBare(brokerURL(), benchQueue("bare"), window)
	if err != nil {
		release()
		return nil, err
	}
	closeAll := func() error {
		defer release()
		return b.close()
	}
	if err := warm(b); err != nil {
		return nil, errors.Join(err, closeAll())
	}
	return &side{round: func() (sample, error) { return round(b) }, close: closeAll}, nil
}
