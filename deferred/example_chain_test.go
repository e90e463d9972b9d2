package deferred_test

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/twinego/twine/deferred"
)

// A callback of a Deferred[any] that returns a Deferred, of any element
// type, pauses the chain until that one fires; the chain goes on with its
// result, as an any.
func ExampleDeferred_AddCallback_returningADeferred() {
	lookup := deferred.New[int]()
	d := deferred.New[any]()
	d.AddCallback(func(name any) (any, error) {
		fmt.Println("looking up", name)
		return lookup, nil
	})
	d.AddCallback(func(v any) (any, error) {
		fmt.Println("got", v)
		return v, nil
	})
	d.Callback("answer")
	lookup.Callback(42)
	// Output:
	// looking up answer
	// got 42
}

// AddCallbacks with a nil errback passes errors through, as Twisted's
// addCallbacks does without one.
func ExampleDeferred_AddCallbacks() {
	d := deferred.Fail[int](errors.New("no connection"))
	d.AddCallbacks(func(n int) (int, error) { return n * 2, nil }, nil)
	d.AddErrback(func(err error) (int, error) {
		fmt.Println("errback:", err)
		return 0, nil
	})
	// Output:
	// errback: no connection
}

// OnComplete tells when a Deferred of any type completes, and consumes its
// result: it is what makes every Deferred a cooperate.Waitable.
func ExampleDeferred_OnComplete() {
	d := deferred.New[string]()
	d.OnComplete(func(err error) { fmt.Println("complete, error:", err) })
	d.Callback("done")
	// Output:
	// complete, error: <nil>
}

// A callback that calls runtime.Goexit, as t.FailNow does, ends its
// goroutine, but the chain goes on with an error wrapping ErrGoexit.
func ExampleErrGoexit() {
	d := deferred.New[int]()
	d.AddCallback(func(int) (int, error) {
		runtime.Goexit()
		return 0, nil
	})
	d.AddErrback(func(err error) (int, error) {
		fmt.Println("Goexit:", errors.Is(err, deferred.ErrGoexit))
		return -1, nil
	})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		d.Callback(1)
	}()
	<-ended
	v, _ := d.Result()
	fmt.Println("result:", v)
	// Output:
	// Goexit: true
	// result: -1
}
