package main

import (
	"errors"
	"fmt"

	"github.com/twinego/twine/deferred"
)

// The deferred suite: the cost of a Deferred's life, from creation through
// its callbacks, as in bench/twisted/deferred_bench.py.
func deferredSuite() suite {
	twisted := &script{
		comparison: "twisted",
		file:       "twisted/deferred_bench.py",
		args: func(cfg *config) []string {
			if cfg.quick {
				return []string{"--target", "0.05"}
			}
			return []string{"--target", "0.2"}
		},
	}
	return suite{
		name: "deferred",
		doc:  "Deferreds: creating, chaining, failing, gathering and awaiting them",
		scenarios: []scenario{
			{
				name:         "create_callback",
				doc:          "New, AddCallback, Callback",
				metrics:      []metric{timeMetric("op", "create_addcallback_callback")},
				twine:        micro(perOp(1, createCallback)),
				baseline:     micro(perOp(1, channelFuture)),
				baselineName: "buffered channel",
				other:        twisted.round("create_addcallback_callback"),
			},
			{
				name:    "chain10",
				doc:     "New, 10 AddCallback, Callback",
				metrics: []metric{timeMetric("op", "chain10")},
				other:   twisted.round("chain10"),
				twine:   micro(perOp(1, chain10)),
			},
			{
				name:    "errback_path",
				doc:     "New, AddCallback (skipped), AddErrback (handles), Errback",
				metrics: []metric{timeMetric("op", "errback_path")},
				other:   twisted.round("errback_path"),
				twine:   micro(perOp(1, errbackPath)),
			},
			{
				name:    "all_1000",
				doc:     "1,000 Succeed, All over them, a callback on the result",
				metrics: []metric{timeMetric("op", "gather_results_1000")},
				other:   twisted.round("gather_results_1000"),
				twine:   micro(perOp(1, all1000())),
			},
			{
				name:    "async_10_awaits",
				doc:     "Async whose body awaits 10 fired Deferreds, a callback on its result",
				metrics: []metric{timeMetric("op", "inline_callbacks_10_awaits")},
				other:   twisted.round("inline_callbacks_10_awaits"),
				twine:   micro(perOp(1, async10Awaits)),
			},
		},
	}
}

func double(n int) (int, error) { return n * 2, nil }

func inc(n int) (int, error) { return n + 1, nil }

var errBench = errors.New("bench: failure")

// The scenarios below check their result through what their last callback
// saw, rather than with Result, which would add a lock and an unlock to the
// operation measured (Twisted's side reads nothing back).
var (
	seen    int
	seenErr error
)

func doubleSeen(n int) (int, error) { seen = n * 2; return seen, nil }

func incSeen(n int) (int, error) { seen = n + 1; return seen, nil }

func recoveredSeen(err error) (int, error) { seenErr = err; return 0, nil }

// errUnexpected reports a scenario whose result was not the one it must
// have: a benchmark of code that does not work measures nothing.
func errUnexpected(what string, got, want any) error {
	return fmt.Errorf("%s: got %v, want %v", what, got, want)
}

func createCallback() error {
	seen = 0
	d := deferred.New[int]()
	d.AddCallback(doubleSeen)
	d.Callback(1)
	if seen != 2 {
		return errUnexpected("create_callback", seen, 2)
	}
	return nil
}

// channelFuture is what plain Go uses for a result that arrives later: a
// buffered channel, a send, a receive, and the callback called by hand.
func channelFuture() error {
	ch := make(chan int, 1)
	ch <- 1
	if v, _ := double(<-ch); v != 2 {
		return errUnexpected("channel future", v, 2)
	}
	return nil
}

func chain10() error {
	seen = 0
	d := deferred.New[int]()
	for range 9 {
		d.AddCallback(inc)
	}
	d.AddCallback(incSeen)
	d.Callback(0)
	if seen != 10 {
		return errUnexpected("chain10", seen, 10)
	}
	return nil
}

func errbackPath() error {
	seen, seenErr = -1, nil
	d := deferred.New[int]()
	d.AddCallback(doubleSeen)
	d.AddErrback(recoveredSeen)
	d.Errback(errBench)
	if seen != -1 || seenErr != errBench {
		return errUnexpected("errback_path", seenErr, errBench)
	}
	return nil
}

func all1000() func() error {
	ds := make([]*deferred.Deferred[int], 1000)
	return func() error {
		for i := range ds {
			ds[i] = deferred.Succeed(i)
		}
		all := deferred.All(ds...).AddCallback(func(v []int) ([]int, error) { return v, nil })
		if v, err := all.Result(); len(v) != 1000 || err != nil {
			return errUnexpected("all_1000", len(v), 1000)
		}
		return nil
	}
}

func tenAwaits(a *deferred.Awaiter) (int, error) {
	total := 0
	for i := range 10 {
		v, err := deferred.Await(a, deferred.Succeed(i))
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total, nil
}

func identity(n int) (int, error) { return n, nil }

func async10Awaits() error {
	d := deferred.Async(tenAwaits)
	d.AddCallback(identity)
	if v, err := d.Result(); v != 45 || err != nil {
		return errUnexpected("async_10_awaits", v, 45)
	}
	return nil
}
