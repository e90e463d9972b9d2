package reactor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// Run blocks until Stop, from any goroutine, has shut the reactor down.
func ExampleReactor_Run() {
	r := reactor.New()
	r.CallWhenRunning(func() {
		fmt.Println("running:", r.Running())
		_ = r.Stop()
	})
	if err := r.Run(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("running:", r.Running())
	fmt.Println("again:", r.Run())
	// Output:
	// running: true
	// running: false
	// again: reactor: already run
}

// Stop may come from another goroutine; shutdown then runs its triggers on
// the reactor goroutine before Run returns.
func ExampleReactor_Stop() {
	r := reactor.New()
	r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferred.Deferred[struct{}] {
		fmt.Println("before shutdown: flushing")
		d := deferred.New[struct{}]()
		r.CallLater(10*time.Millisecond, func() { d.Callback(struct{}{}) })
		return d // shutdown waits for it
	})
	r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferred.Deferred[struct{}] {
		fmt.Println("after shutdown")
		return nil
	})
	stopped := make(chan error, 1)
	go func() {
		// Wait until the reactor serves calls, then stop it.
		_, _ = reactor.BlockingCall(context.Background(), r, func() (struct{}, error) { return struct{}{}, nil })
		stopped <- r.Stop()
	}()
	_ = r.Run()
	fmt.Println("stop:", <-stopped)
	// Output:
	// before shutdown: flushing
	// after shutdown
	// stop: <nil>
}

// CallLater runs functions on the reactor goroutine in due order; the Call
// it returns can cancel or move them.
func ExampleReactor_CallLater() {
	r := reactor.New()
	r.CallLater(20*time.Millisecond, func() { fmt.Println("second") })
	r.CallLater(10*time.Millisecond, func() { fmt.Println("first") })
	never := r.CallLater(15*time.Millisecond, func() { fmt.Println("never") })
	fmt.Println(never.Cancel(), never.Active())
	r.CallLater(30*time.Millisecond, func() { _ = r.Stop() })
	_ = r.Run()
	// Output:
	// <nil> false
	// first
	// second
}

// CallInGoroutine runs blocking work whose result nobody waits for off the
// reactor, on the goroutines DeferToGoroutine uses: Twisted's callInThread.
// A panic in it is logged, not lost.
func ExampleReactor_CallInGoroutine() {
	r := reactor.New()
	r.CallWhenRunning(func() {
		err := r.CallInGoroutine(func() {
			fmt.Println("written off the reactor") // a blocking write, say
			r.CallSoon(func() { _ = r.Stop() })    // back to the reactor to stop it
		})
		if err != nil {
			fmt.Println(err)
		}
	})
	_ = r.Run()
	fmt.Println("after shutdown:", r.CallInGoroutine(func() {}))
	// Output:
	// written off the reactor
	// after shutdown: reactor: stopped
}

// OnStop lets code bound to the reactor hear that it has stopped for good,
// so that what it still owes fails instead of waiting for ever.
func ExampleReactor_OnStop() {
	r := reactor.New()
	pending := deferred.New[string]() // a result that will never come
	r.OnStop(func() {
		pending.Errback(reactor.ErrStopped)
	})
	pending.AddErrback(func(err error) (string, error) {
		fmt.Println("failed:", err)
		return "", nil
	})
	r.CallWhenRunning(func() { _ = r.Stop() })
	_ = r.Run()
	// Output:
	// failed: reactor: stopped
}

// DeferToGoroutine runs blocking work off the reactor and delivers its
// result on the reactor goroutine.
func ExampleDeferToGoroutine() {
	r := reactor.New()
	r.CallWhenRunning(func() {
		d := reactor.DeferToGoroutine(r, func() (string, error) {
			return strings.ToUpper("done elsewhere"), nil // may block
		})
		d.AddBoth(func(s string, err error) (string, error) {
			fmt.Println(s, err)
			_ = r.Stop()
			return s, err
		})
	})
	_ = r.Run()
	// Output:
	// DONE ELSEWHERE <nil>
}

// BlockingCall lets another goroutine use state that only the reactor
// goroutine touches.
func ExampleBlockingCall() {
	r := reactor.New()
	counter := 0 // owned by the reactor goroutine
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	for range 3 {
		_, _ = reactor.BlockingCall(context.Background(), r, func() (int, error) {
			counter++
			return counter, nil
		})
	}
	n, _ := reactor.BlockingCall(context.Background(), r, func() (int, error) { return counter, nil })
	fmt.Println(n)
	_ = r.Stop()
	fmt.Println(<-done)
	// Output:
	// 3
	// <nil>
}

// React runs a reactor for one task and returns the task's error.
func ExampleReact() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		d := deferred.New[struct{}]()
		r.CallLater(10*time.Millisecond, func() { d.Errback(errors.New("task failed")) })
		return d
	})
	fmt.Println(err)
	// Output:
	// task failed
}

// lineIdler waits, in the reactor's idle time, for lines on a channel, and
// has the reactor print each: a stand-in for an Idler that waits for its
// events in the kernel, as the process pools do for their workers'
// answers.
type lineIdler struct {
	lines <-chan string
	wake  chan struct{} // capacity 1
}

func (l *lineIdler) Idle(d time.Duration) (func(), bool) {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case line := <-l.lines:
		return func() { fmt.Println("got", line) }, true
	case <-l.wake: // the reactor has work
	case <-timeout: // a timer is due
	}
	return nil, true
}

func (l *lineIdler) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lineIdler) Busy() {} // it waits for its events in Idle only

func ExampleReactor_AddIdler() {
	r := reactor.New()
	lines := make(chan string)
	_, remove := r.AddIdler(&lineIdler{lines: lines, wake: make(chan struct{}, 1)})
	defer remove()
	go func() {
		lines <- "first"
		lines <- "second"
		_ = r.Stop()
	}()
	_ = r.Run()
	// Output:
	// got first
	// got second
}
