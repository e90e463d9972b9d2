package scheduler

import (
	"sync/atomic"
	"time"
)

// ManualClock is a [Loop] whose time moves only when told to: Twisted's
// task.Clock, for deterministic tests of code that schedules calls.
//
// Now starts at time.Unix(0, 0). Calls run only inside [ManualClock.Advance]
// (or [ManualClock.Pump]), on the goroutine that calls it: Advance moves the
// time forward, then runs every call that is due, earliest first, calls due
// at the same time in the order they were scheduled. A call that a running
// call schedules for a time already reached (CallSoon, or CallLater with a
// delay of zero) runs within the same Advance, as in Twisted.
//
// A ManualClock is safe to use from several goroutines: Now, CallLater,
// CallSoon, Pending and the returned calls' methods may be used anywhere, and
// calls run with no lock held, so they may use the clock too (even Advance).
// Drive Advance from one goroutine at a time, though: two concurrent Advance
// calls would run due calls concurrently.
//
// The zero value is not usable; call [NewManualClock].
type ManualClock struct {
	now    atomic.Int64 // nanoseconds since epoch
	timers *Timers
}

// epoch is where every ManualClock starts.
var epoch = time.Unix(0, 0)

// NewManualClock returns a clock whose Now is time.Unix(0, 0) and that has
// no pending calls.
func NewManualClock() *ManualClock {
	c := &ManualClock{}
	c.timers = NewTimers(epoch, c.elapsed, nil)
	return c
}

func (c *ManualClock) elapsed() time.Duration {
	return time.Duration(c.now.Load())
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	return epoch.Add(c.elapsed())
}

// CallLater schedules f to run d after Now (a negative d counts as zero) and
// returns the [Call], which Cancel, Reset and Delay control and whose String
// describes it as Twisted's DelayedCall repr does. f runs inside a later
// Advance, once the time has reached its due time. A nil f panics.
func (c *ManualClock) CallLater(d time.Duration, f func()) Call {
	if f == nil {
		panic("scheduler: ManualClock.CallLater: nil function")
	}
	return c.timers.Schedule(d, f)
}

// CallSoon schedules f to run at the current time: it runs in the next
// Advance, even Advance(0), or within the running Advance if called from a
// call. It is CallLater(0, f). A nil f panics.
func (c *ManualClock) CallSoon(f func()) {
	if f == nil {
		panic("scheduler: ManualClock.CallSoon: nil function")
	}
	c.timers.Schedule(0, f)
}

// Advance moves the time forward by d, then runs every call that is due,
// including those that the calls it runs schedule for a time already
// reached. It returns when no call is due. A panic in a call propagates to
// the caller of Advance; calls not yet run stay pending. A negative d panics.
func (c *ManualClock) Advance(d time.Duration) {
	if d < 0 {
		panic("scheduler: ManualClock.Advance: negative duration")
	}
	c.now.Add(int64(d))
	for {
		f, ok := c.timers.PopDue(c.elapsed())
		if !ok {
			return
		}
		f()
	}
}

// Pump calls Advance once for each step, in order: Twisted's Clock.pump.
func (c *ManualClock) Pump(steps ...time.Duration) {
	for _, d := range steps {
		c.Advance(d)
	}
}

// Pending returns the calls not yet run nor cancelled, sorted by due time
// (ties in scheduling order): Twisted's Clock.getDelayedCalls.
func (c *ManualClock) Pending() []Call {
	return c.timers.Pending()
}

var _ Loop = (*ManualClock)(nil)
