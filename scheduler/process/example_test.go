package process_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// Registered in package variables, so that the workers (this test binary,
// started again; its TestMain calls process.Main) register them too.
var (
	exampleSquare = process.Register("example.square", func(_ context.Context, n int) (int, error) {
		return n * n, nil
	})

	exampleWords = process.RegisterStream("example.words", func(_ context.Context, text string) iter.Seq2[string, error] {
		return func(yield func(string, error) bool) {
			for _, w := range strings.Fields(text) {
				if !yield(w, nil) {
					return
				}
			}
		}
	})
)

// A function runs in a worker process; its result fires on the reactor.
func Example() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := process.NewPool(r, process.WithMaxWorkers(2))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		d := deferred.Then(exampleSquare.Call(pool, 7), func(n int) (struct{}, error) {
			fmt.Println("7 squared in a worker:", n)
			return struct{}{}, nil
		})
		return closing(d, pool)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: 7 squared in a worker: 49
}

// closing closes pool once d has fired, whatever its outcome.
func closing(d *deferred.Deferred[struct{}], pool *process.Pool) *deferred.Deferred[struct{}] {
	return d.AddBoth(func(v struct{}, err error) (struct{}, error) {
		return v, errors.Join(err, pool.Close(context.Background()))
	})
}

// Many calls at once: the pool spreads them over its workers, each worker
// runs many at a time, and deferred.All gathers the results in order, as
// multiprocessing's map does.
func ExampleFunc_Call() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := process.NewPool(r, process.WithMaxWorkers(2))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		ds := make([]*deferred.Deferred[int], 10)
		for i := range ds {
			ds[i] = exampleSquare.Call(pool, i)
		}
		d := deferred.Then(deferred.All(ds...), func(squares []int) (struct{}, error) {
			fmt.Println(squares)
			return struct{}{}, nil
		})
		return closing(d, pool)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: [0 1 4 9 16 25 36 49 64 81]
}

// A streaming function yields its values one by one; they reach the
// callback in order, on the reactor, and the Deferred fires after the last.
func ExampleStreamFunc_Stream() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := process.NewPool(r, process.WithMaxWorkers(1))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		n := 0
		d := exampleWords.Stream(pool, "a stream of words", func(w string) {
			n++
			fmt.Println(n, w)
		})
		return closing(d, pool)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1 a
	// 2 stream
	// 3 of
	// 4 words
}

// Close the pool from a before-shutdown trigger, on a goroutine: the
// reactor goes on running while Close lets the tasks finish, their results
// reach their callbacks, and the shutdown waits for Close. Here the
// reactor is stopped at once, with the calls still running.
func ExamplePool_Close() {
	r := reactor.New()
	pool, err := process.NewPool(r, process.WithMaxWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferred.Deferred[struct{}] {
		d := reactor.DeferToGoroutine(r, func() (struct{}, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return struct{}{}, pool.Close(ctx)
		})
		return d.AddBoth(func(v struct{}, err error) (struct{}, error) {
			fmt.Println("pool closed:", err) // on the reactor, after the results
			return v, err
		})
	})
	r.CallWhenRunning(func() {
		ds := make([]*deferred.Deferred[int], 5)
		for i := range ds {
			ds[i] = exampleSquare.Call(pool, i)
		}
		deferred.All(ds...).AddCallback(func(squares []int) ([]int, error) {
			fmt.Println("squares:", squares)
			return squares, nil
		})
		_ = r.Stop()
	})
	if err := r.Run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// squares: [0 1 4 9 16]
	// pool closed: <nil>
}
