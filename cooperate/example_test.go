package cooperate_test

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// runUntilIdle advances a ManualClock until nothing is scheduled on it. With
// the reactor, running it does this.
func runUntilIdle(clock *scheduler.ManualClock) {
	for len(clock.Pending()) > 0 {
		clock.Advance(time.Millisecond)
	}
}

func ExampleNew() {
	clock := scheduler.NewManualClock()
	// One step per turn: the tasks alternate as in Twisted.
	c := cooperate.New(clock, cooperate.WithTurnSteps(1))
	defer c.Stop()

	task := func(name string, n int) func(yield func(any) bool) {
		return func(yield func(any) bool) {
			for i := 1; i <= n; i++ {
				fmt.Println(name, i)
				if !yield(nil) {
					return
				}
			}
		}
	}
	c.Cooperate(task("a", 3))
	c.Cooperate(task("b", 2))
	runUntilIdle(clock)
	// Output:
	// a 1
	// b 1
	// a 2
	// b 2
	// a 3
}

func ExampleCooperator_Cooperate() {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()

	task := c.Cooperate(func(yield func(any) bool) {
		fmt.Println("fetching")
		var page any
		d := cooperate.DeferLater(clock, time.Second, func() (any, error) { return "the page", nil })
		d.AddCallback(func(v any) (any, error) {
			page = v
			return v, nil
		})
		// A yielded Deferred pauses the task until it fires.
		if !yield(d) {
			return
		}
		fmt.Println("fetched", page)
	})
	task.Done().AddCallback(func(v struct{}) (struct{}, error) {
		fmt.Println("done")
		return v, nil
	})
	runUntilIdle(clock)
	// Output:
	// fetching
	// fetched the page
	// done
}

func ExampleEach() {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()

	numbers := make([]int, 1_000_000)
	for i := range numbers {
		numbers[i] = i
	}
	sum := 0
	task := cooperate.Each(c, slices.Values(numbers), func(n int) error {
		sum += n
		return nil
	})
	task.Done().AddCallback(func(v struct{}) (struct{}, error) {
		fmt.Println("sum:", sum)
		return v, nil
	})
	runUntilIdle(clock) // each Advance runs one slice of at most 10 ms
	// Output:
	// sum: 499999500000
}

func ExampleEach_error() {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()

	errNegative := errors.New("negative value")
	task := cooperate.Each(c, slices.Values([]int{3, 1, -4, 1}), func(n int) error {
		if n < 0 {
			return errNegative
		}
		fmt.Println("value", n)
		return nil
	})
	task.Done().AddErrback(func(err error) (struct{}, error) {
		fmt.Println("failed:", err)
		return struct{}{}, nil
	})
	runUntilIdle(clock)
	// Output:
	// value 3
	// value 1
	// failed: negative value
}

func ExampleCoiterate() {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	defer c.Stop()

	d := cooperate.Coiterate(c, func(yield func(any) bool) {
		for _, w := range []string{"one", "two", "three"} {
			fmt.Println(w)
			if !yield(nil) {
				return
			}
		}
	})
	d.AddCallback(func(v struct{}) (struct{}, error) {
		fmt.Println("finished")
		return v, nil
	})
	runUntilIdle(clock)
	// Output:
	// one
	// two
	// three
	// finished
}

func ExampleTask_Pause() {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock, cooperate.WithTerminator(func() func() bool {
		return func() bool { return true } // one step per slice
	}))
	defer c.Stop()

	task := cooperate.Each(c, slices.Values([]string{"a", "b", "c"}), func(s string) error {
		fmt.Println(s)
		return nil
	})
	clock.Advance(time.Millisecond)
	_ = task.Pause()
	clock.Advance(time.Millisecond) // paused: nothing runs
	fmt.Println("resuming")
	_ = task.Resume()
	runUntilIdle(clock)
	// Output:
	// a
	// resuming
	// b
	// c
}

func ExampleWithLanes() {
	// count yields 1 to n.
	count := func(n int) func(yield func(int) bool) {
		return func(yield func(int) bool) {
			for i := 1; i <= n && yield(i); i++ {
			}
		}
	}
	r := reactor.New()
	r.CallWhenRunning(func() {
		// Two lanes: the steps run on two goroutines, beside the reactor.
		c := cooperate.New(r, cooperate.WithLanes(2))
		sums := make([]int, 4)
		dones := make([]*deferred.Deferred[struct{}], len(sums))
		for i := range sums {
			// Each task writes only its own sum: its steps never overlap,
			// so they need no lock.
			dones[i] = cooperate.Each(c, count((i+1)*100_000), func(n int) error {
				sums[i] += n
				return nil
			}).Done()
		}
		// Done Deferreds fire on the reactor, once the steps are over: the
		// sums can be read there.
		deferred.All(dones...).AddCallback(func(v []struct{}) ([]struct{}, error) {
			fmt.Println("sums:", sums)
			c.Stop() // stops the lanes and waits for them
			return v, r.Stop()
		})
	})
	if err := r.Run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// sums: [5000050000 20000100000 45000150000 80000200000]
}

func ExampleNewLoopingCall() {
	clock := scheduler.NewManualClock()
	n := 0
	var lc *cooperate.LoopingCall
	lc = cooperate.NewLoopingCall(clock, func() error {
		n++
		fmt.Println("tick", n, "at", clock.Now().Sub(time.Unix(0, 0)))
		if n == 3 {
			return lc.Stop()
		}
		return nil
	})
	lc.Start(time.Second, true).AddCallback(func(lc *cooperate.LoopingCall) (*cooperate.LoopingCall, error) {
		fmt.Println("stopped")
		return lc, nil
	})
	clock.Pump(time.Second, time.Second)
	// Output:
	// tick 1 at 0s
	// tick 2 at 1s
	// tick 3 at 2s
	// stopped
}

func ExampleNewLoopingCallWithCount() {
	clock := scheduler.NewManualClock()
	lc := cooperate.NewLoopingCallWithCount(clock, func(count int) error {
		fmt.Println("intervals elapsed:", count)
		return nil
	})
	lc.Start(time.Second, false)
	clock.Advance(time.Second)
	clock.Advance(3 * time.Second) // the loop ran late: two calls skipped
	_ = lc.Stop()
	// Output:
	// intervals elapsed: 1
	// intervals elapsed: 3
}

func ExampleDeferLater() {
	clock := scheduler.NewManualClock()
	d := cooperate.DeferLater(clock, 2*time.Second, func() (string, error) {
		return "hello", nil
	})
	d.AddCallback(func(s string) (string, error) {
		fmt.Println(s, "after", clock.Now().Sub(time.Unix(0, 0)))
		return s, nil
	})
	clock.Advance(2 * time.Second)

	cancelled := cooperate.DeferLater(clock, time.Second, func() (int, error) { return 1, nil })
	cancelled.AddErrback(func(err error) (int, error) {
		fmt.Println(errors.Is(err, deferred.ErrCancelled))
		return 0, nil
	})
	cancelled.Cancel()
	// Output:
	// hello after 2s
	// true
}
