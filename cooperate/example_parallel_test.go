package cooperate_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

func ExampleParallel() {
	r := reactor.New()
	r.CallWhenRunning(func() {
		c := cooperate.New(r)
		words := slices.Values([]string{"alpha", "beta", "gamma", "delta", "epsilon"})
		total := 0
		// At most two words in flight, each upper-cased on a goroutine
		// (it could be a worker process, or a network call); each result
		// is handed over on the reactor, so total needs no lock.
		d := cooperate.Parallel(c, words, 2,
			func(w string) *deferred.Deferred[string] {
				return reactor.DeferToGoroutine(r, func() (string, error) { return strings.ToUpper(w), nil })
			},
			func(i int, upper string) error {
				total += len(upper)
				return nil
			})
		d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			fmt.Println("letters:", total, "error:", err)
			c.Stop()
			return struct{}{}, r.Stop()
		})
	})
	if err := r.Run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// letters: 26 error: <nil>
}

func ExampleMap() {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()
	// fetch stands for a network call that answers after 10 ms per letter.
	fetch := func(name string) *deferred.Deferred[int] {
		return cooperate.DeferLater(clock, time.Duration(len(name))*10*time.Millisecond, func() (int, error) {
			return len(name), nil
		})
	}
	var p cooperate.Progress
	d := cooperate.Map(c, slices.Values([]string{"ab", "c", "defg", "hi"}), 2, fetch, cooperate.WithProgress(&p))
	d.AddCallback(func(lengths []int) ([]int, error) {
		fmt.Println("lengths, in input order:", lengths)
		return lengths, nil
	})
	done := 0
	for len(clock.Pending()) > 0 {
		clock.Advance(time.Millisecond)
		if p.Done() != done {
			done = p.Done()
			fmt.Printf("at %v: %d done, %d in flight\n", clock.Now().Sub(time.Unix(0, 0)), done, p.InFlight())
		}
	}
	// Output:
	// at 11ms: 1 done, 1 in flight
	// at 21ms: 2 done, 1 in flight
	// at 42ms: 3 done, 1 in flight
	// lengths, in input order: [2 1 4 2]
	// at 52ms: 4 done, 0 in flight
}

func ExampleCollectErrors() {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()
	check := func(n int) *deferred.Deferred[int] {
		if n%3 == 0 {
			return deferred.Fail[int](fmt.Errorf("%d is a multiple of 3", n))
		}
		return deferred.Succeed(n)
	}
	d := cooperate.Parallel(c, slices.Values([]int{1, 2, 3, 4, 5, 6}), 4, check,
		func(i, n int) error {
			fmt.Println("element", i, "is", n)
			return nil
		},
		cooperate.CollectErrors())
	d.AddErrback(func(err error) (struct{}, error) {
		var errs *cooperate.ElementErrors
		if errors.As(err, &errs) {
			for _, e := range errs.Errs {
				fmt.Println("element", e.Index, "failed:", e.Err)
			}
		}
		return struct{}{}, nil
	})
	runUntilIdle(clock)
	// Output:
	// element 0 is 1
	// element 1 is 2
	// element 3 is 4
	// element 4 is 5
	// element 2 failed: 3 is a multiple of 3
	// element 5 failed: 6 is a multiple of 3
}

// Run hands a loop's bodies to the lanes of another Cooperator: the
// parallel loop over goroutine lanes, with the results back on the reactor.
func ExampleRun() {
	r := reactor.New()
	r.CallWhenRunning(func() {
		lanes := cooperate.New(r, cooperate.WithLanes(2)) // where the work runs
		c := cooperate.New(r)                             // where the loop runs
		squares := cooperate.Map(c, slices.Values([]int{1, 2, 3, 4, 5}), 2, func(x int) *deferred.Deferred[int] {
			return cooperate.Run(lanes, func() (int, error) { return x * x, nil }) // on a lane
		})
		squares.AddBoth(func(v []int, err error) ([]int, error) {
			fmt.Println(v, err)
			c.Stop()
			lanes.Stop()
			return nil, r.Stop()
		})
	})
	if err := r.Run(); err != nil {
		fmt.Println(err)
	}
	// Output: [1 4 9 16 25] <nil>
}
