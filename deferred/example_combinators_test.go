package deferred_test

import (
	"errors"
	"fmt"

	"github.com/twinego/twine/deferred"
)

// All gathers results in input order, whatever order the inputs fire in.
func ExampleAll() {
	a, b := deferred.New[string](), deferred.New[string]()
	all := deferred.All(a, b, deferred.Succeed("c"))
	all.AddCallback(func(v []string) ([]string, error) {
		fmt.Println(v)
		return v, nil
	})
	b.Callback("b")
	a.Callback("a")
	// Output: [a b c]
}

// All fails as soon as one input fails, naming it.
func ExampleAll_failure() {
	errDown := errors.New("host down")
	slow := deferred.New[int]()
	all := deferred.All(deferred.Succeed(1), slow, deferred.Fail[int](errDown))
	all.AddErrback(func(err error) ([]int, error) {
		var fe *deferred.FirstError
		if errors.As(err, &fe) {
			fmt.Println("input", fe.Index, "failed:", fe.Err, errors.Is(err, errDown))
		}
		return nil, nil
	})
	// Output: input 2 failed: host down true
}

// List waits for every input and reports each one's outcome.
func ExampleList() {
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int]()}
	l := deferred.List(ds, deferred.ConsumeErrors())
	l.AddCallback(func(outs []deferred.Outcome[int]) ([]deferred.Outcome[int], error) {
		for i, o := range outs {
			if o.OK() {
				fmt.Println(i, "ok", o.Value)
			} else {
				fmt.Println(i, "failed:", o.Err)
			}
		}
		return outs, nil
	})
	ds[1].Errback(errors.New("timed out"))
	ds[0].Callback(42)
	// Output:
	// 0 ok 42
	// 1 failed: timed out
}

// First fires with the first input to succeed and leaves the others running.
func ExampleFirst() {
	cache, network := deferred.New[string](), deferred.New[string]()
	f := deferred.First([]*deferred.Deferred[string]{cache, network})
	f.AddCallback(func(w deferred.Winner[string]) (deferred.Winner[string], error) {
		fmt.Printf("input %d first: %s\n", w.Index, w.Value)
		return w, nil
	})
	network.Callback("from the network")
	cache.Callback("from the cache")
	// Output: input 1 first: from the network
}

// Race takes the first success and cancels the others.
func ExampleRace() {
	primary := deferred.New[string]()
	mirror := deferred.NewWithCanceller(func(*deferred.Deferred[string]) {
		fmt.Println("mirror request cancelled")
	})
	r := deferred.Race(primary, mirror)
	r.AddCallback(func(w deferred.Winner[string]) (deferred.Winner[string], error) {
		fmt.Printf("winner %d: %s\n", w.Index, w.Value)
		return w, nil
	})
	primary.Callback("page")
	// Output:
	// mirror request cancelled
	// winner 0: page
}
