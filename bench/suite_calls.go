package main

import (
	"sync"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// The calls suite: handing work to the reactor from other goroutines, and
// work from the reactor to a goroutine and back (Twisted's callFromThread
// and deferToThread), as in bench/twisted/reactor_bench.py.
func callsSuite() suite {
	twisted := &script{
		comparison: "twisted",
		file:       "twisted/reactor_bench.py",
		args: func(cfg *config) []string {
			if cfg.quick {
				return []string{"--calls", "50000", "--trips", "1000"}
			}
			return nil
		},
	}
	return suite{
		name: "calls",
		doc:  "Calls from other goroutines: CallSoon and DeferToGoroutine",
		scenarios: []scenario{
			{
				name:         "callsoon_1_producer",
				doc:          "one goroutine queues functions with CallSoon; per call, until the reactor has run them",
				metrics:      []metric{timeMetric("call", "callfromthread")},
				twine:        withReactor(callSoon(1)),
				baseline:     channelCalls(1),
				baselineName: "chan func() to a goroutine",
				other:        twisted.round("callfromthread"),
			},
			{
				name:         "callsoon_8_producers",
				doc:          "the same from eight goroutines at once",
				metrics:      []metric{timeMetric("call", "callfromthread_8threads")},
				twine:        withReactor(callSoon(8)),
				baseline:     channelCalls(8),
				baselineName: "chan func() to a goroutine",
				other:        twisted.round("callfromthread_8threads"),
			},
			{
				name:         "defer_to_goroutine",
				doc:          "from the reactor, DeferToGoroutine a function and get its result back, one after the other",
				metrics:      []metric{timeMetric("op", "defertothread_roundtrip")},
				twine:        withReactor(deferToGoroutineRoundTrip),
				baseline:     micro(perOp(1, goRoundTrip())),
				baselineName: "go statement and channel",
				other:        twisted.round("defertothread_roundtrip"),
			},
		},
	}
}

// callBatch is how many functions one operation queues; the operation ends
// when they have all run, so the figure is sustained throughput, not only
// the cost of queueing.
const callBatch = 10_000

// produce has producers goroutines call queue callBatch times in all, and
// waits for them.
func produce(producers int, queue func()) {
	var wg sync.WaitGroup
	for range producers {
		wg.Go(func() {
			for range callBatch / producers {
				queue()
			}
		})
	}
	wg.Wait()
}

func callSoon(producers int) func(*config, *runningReactor, *meter) (sample, error) {
	return func(_ *config, r *runningReactor, m *meter) (sample, error) {
		ran := 0
		count := func() { ran++ }
		batch := callBatch / producers * producers
		t, err := m.time(func(n int) (int, error) {
			for range n {
				if producers == 1 {
					for range batch {
						r.CallSoon(count)
					}
				} else {
					produce(producers, func() { r.CallSoon(count) })
				}
				r.call(nothing)
			}
			return n * batch, nil
		})
		if err != nil {
			return sample{}, err
		}
		var got int
		r.call(func() { got = ran })
		if got < t.units {
			return sample{}, errUnexpected("CallSoon: functions run", got, t.units)
		}
		return t.perUnit(), nil
	}
}

// channelCalls is plain Go's way of running functions on one goroutine: a
// buffered channel of functions that the goroutine ranges over.
func channelCalls(producers int) starter {
	return func(cfg *config) (*side, error) {
		calls := make(chan func(), 1024)
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			for f := range calls {
				f()
			}
		}()
		ran := 0
		count := func() { ran++ }
		flush := func() {
			done := make(chan struct{})
			calls <- func() { close(done) }
			<-done
		}
		batch := callBatch / producers * producers
		s, err := micro(func(n int) (int, error) {
			for range n {
				if producers == 1 {
					for range batch {
						calls <- count
					}
				} else {
					produce(producers, func() { calls <- count })
				}
				flush()
			}
			return n * batch, nil
		})(cfg)
		if err != nil {
			close(calls)
			<-finished
			return nil, err
		}
		s.close = func() error {
			close(calls)
			<-finished
			return nil
		}
		return s, nil
	}
}

func one() (int, error) { return 1, nil }

// deferToGoroutineRoundTrip hands one function after the other to
// DeferToGoroutine from the reactor goroutine, each once the last one's
// result is back.
func deferToGoroutineRoundTrip(_ *config, r *runningReactor, m *meter) (sample, error) {
	return chainedCalls(r, m, "DeferToGoroutine", 1, func() *deferred.Deferred[int] {
		return reactor.DeferToGoroutine(r.Reactor, one)
	})
}

// goRoundTrip is plain Go's way: start a goroutine that sends the result
// back on a channel, and receive it.
func goRoundTrip() func() error {
	results := make(chan int, 1)
	return func() error {
		go func() {
			v, _ := one()
			results <- v
		}()
		if v := <-results; v != 1 {
			return errUnexpected("goroutine result", v, 1)
		}
		return nil
	}
}
