package process_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// Registered with its chunked form, in a package variable.
var exampleUpper = process.RegisterMap("example.upper", func(_ context.Context, s string) (string, error) {
	return strings.ToUpper(s), nil
})

// Map sends many elements per task, as multiprocessing's Pool.map does,
// and gathers the results in order.
func ExampleMapFunc_Map() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := process.NewPool(r, process.WithMaxWorkers(2))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		words := slices.Values(strings.Fields("the quick brown fox jumps over the lazy dog"))
		d := deferred.Then(exampleUpper.Map(pool, words), func(upper []string) (struct{}, error) {
			fmt.Println(strings.Join(upper, " "))
			return struct{}{}, nil
		})
		return closing(d, pool)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG
}

// CallChunked gives each element a Deferred of its own, while the calls
// made in one turn of the loop share a task: the body for a cooperative
// loop over tiny elements.
func ExampleMapFunc_CallChunked() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := process.NewPool(r, process.WithMaxWorkers(2))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		c := cooperate.New(r)
		letters := 0
		words := slices.Values(strings.Fields("the quick brown fox jumps over the lazy dog"))
		d := cooperate.Parallel(c, words, 1000,
			func(w string) *deferred.Deferred[string] { return exampleUpper.CallChunked(pool, w) },
			func(i int, upper string) error {
				letters += len(upper) // on the reactor: no lock needed
				return nil
			})
		d = deferred.Then(d, func(struct{}) (struct{}, error) {
			c.Stop()
			fmt.Println(letters, "letters")
			return struct{}{}, nil
		})
		return closing(d, pool)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: 35 letters
}

// Func.Map maps a function registered with Register, one element per task,
// at most a few tasks per worker in flight: the short form of a cooperative
// loop over f.Call.
func ExampleFunc_Map() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := process.NewPool(r, process.WithMaxWorkers(2))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		d := deferred.Then(exampleSquare.Map(pool, slices.Values([]int{1, 2, 3, 4})), func(squares []int) (struct{}, error) {
			fmt.Println(squares)
			return struct{}{}, nil
		})
		return closing(d, pool)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: [1 4 9 16]
}
