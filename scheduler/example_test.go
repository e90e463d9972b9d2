package scheduler_test

import (
	"fmt"
	"time"

	"github.com/twinego/twine/scheduler"
)

// A ManualClock makes code that schedules calls testable without waiting:
// time moves only when the test advances it.
func ExampleManualClock() {
	clock := scheduler.NewManualClock()
	clock.CallLater(2*time.Second, func() { fmt.Println("two seconds") })
	call := clock.CallLater(3*time.Second, func() { fmt.Println("never") })
	clock.CallLater(time.Second, func() {
		fmt.Println("one second")
		clock.CallSoon(func() { fmt.Println("soon after one second") })
	})

	clock.Advance(time.Second)
	_ = call.Cancel()
	clock.Pump(time.Second, time.Second)
	fmt.Println(clock.Now().Sub(time.Unix(0, 0)), len(clock.Pending()))
	// Output:
	// one second
	// soon after one second
	// two seconds
	// 3s 0
}
