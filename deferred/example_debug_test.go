package deferred_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// In debugging mode, a Deferred fired twice says where it was created and
// where it was fired the first time.
func ExampleSetDebugging() {
	deferred.SetDebugging(true)
	defer deferred.SetDebugging(false)

	d := deferred.New[string]()
	d.Callback("first")
	defer func() {
		err := recover().(error)
		fmt.Println(errors.Is(err, deferred.ErrAlreadyCalled))
		// Keep the lines of this file: the callers below it vary.
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "\t\t") || strings.Contains(line, "example_debug_test.go") {
				fmt.Println(line)
			}
		}
	}()
	d.Callback("second")
	// Output:
	// true
	// deferred: Deferred.Callback: already called
	// 	created at:
	// 		deferred_test.ExampleSetDebugging (example_debug_test.go:19)
	// 	first fired at:
	// 		deferred_test.ExampleSetDebugging (example_debug_test.go:20)
}

// String shows a Deferred's state, as Twisted's repr does.
func ExampleDeferred_String() {
	d := deferred.New[string]()
	// The address varies from run to run.
	show := func() { fmt.Println(strings.Replace(d.String(), fmt.Sprintf("%p", d), "0x…", 1)) }
	show()
	d.Pause()
	d.Callback("orange")
	show()
	d.Unpause()
	d.AddCallback(func(string) (string, error) { return "", errors.New("peeled") })
	show()
	d.AddErrback(func(error) (string, error) { return "juice", nil })
	show()
	// Output:
	// <Deferred[string] at 0x… not fired>
	// <Deferred[string] at 0x… current result: "orange" (paused)>
	// <Deferred[string] at 0x… current error: peeled>
	// <Deferred[string] at 0x… current result: "juice">
}

// AddTimeoutFunc decides what a timeout gives: here a fallback value in
// place of ErrTimeout. A Deferred that fires in time keeps its result.
func ExampleDeferred_AddTimeoutFunc() {
	clock := scheduler.NewManualClock()
	fallback := func(v string, err error, timeout time.Duration) (string, error) {
		return fmt.Sprintf("cached copy (no answer in %v)", timeout), nil
	}
	slow := deferred.New[string]().AddTimeoutFunc(clock, 5*time.Second, fallback)
	fast := deferred.New[string]().AddTimeoutFunc(clock, 5*time.Second, fallback)
	for name, d := range map[string]*deferred.Deferred[string]{"slow": slow, "fast": fast} {
		d.AddCallback(func(page string) (string, error) {
			fmt.Println(name+":", page)
			return page, nil
		})
	}
	clock.Advance(time.Second)
	fast.Callback("fresh page")
	clock.Advance(4 * time.Second)
	// Output:
	// fast: fresh page
	// slow: cached copy (no answer in 5s)
}
