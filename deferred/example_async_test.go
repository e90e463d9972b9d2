package deferred_test

import (
	"errors"
	"fmt"

	"github.com/twinego/twine/deferred"
)

// Straight-line code that waits for a reply: the body runs at once up to its
// wait, and resumes when the reply's Deferred fires.
func ExampleAsync() {
	reply := deferred.New[string]() // fired later, as a network reply would be
	length := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		fmt.Println("asking")
		s, err := deferred.Await(a, reply)
		if err != nil {
			return 0, err
		}
		fmt.Println("got", s)
		return len(s), nil
	})
	fmt.Println("Async returned")
	length.AddCallback(func(n int) (int, error) {
		fmt.Println("length", n)
		return n, nil
	})
	reply.Callback("hello")
	// Output:
	// asking
	// Async returned
	// got hello
	// length 5
}

// Await returns the awaited Deferred's error as a plain error, which the body
// may handle; a Deferred that has already fired gives its result at once.
func ExampleAwait() {
	errNotFound := errors.New("not found")
	lookup := func(key string) *deferred.Deferred[string] {
		if key == "answer" {
			return deferred.Succeed("42")
		}
		return deferred.Fail[string](errNotFound)
	}
	d := deferred.Async(func(a *deferred.Awaiter) (string, error) {
		v, err := deferred.Await(a, lookup("question"))
		if errors.Is(err, errNotFound) {
			v, err = deferred.Await(a, lookup("answer"))
		}
		return v, err
	})
	fmt.Println(d.Result())
	// Output:
	// 42 <nil>
}

// Cancelling an Async cancels the Deferred its body waits on; the body sees
// the cancellation as an error from Await and decides what its result is.
func ExampleAsync_cancel() {
	slow := deferred.New[int]()
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		n, err := deferred.Await(a, slow)
		if errors.Is(err, deferred.ErrCancelled) {
			fmt.Println("gave up waiting")
			return -1, nil
		}
		return n, err
	})
	d.Cancel()
	fmt.Println(d.Result())
	// Output:
	// gave up waiting
	// -1 <nil>
}
