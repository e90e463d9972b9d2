package cooperate

import (
	"fmt"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// LoopingCall calls a function repeatedly, every interval of a
// [scheduler.Clock]: Twisted's LoopingCall.
//
// Calls keep to the grid of intervals counted from [LoopingCall.Start]: when
// a call (or the loop) runs late and misses intervals, the next call is
// scheduled for the next interval still in the future, and the missed ones
// are skipped; [NewLoopingCallWithCount] tells the function how many
// intervals have elapsed. A function that returns a Deferred
// ([NewLoopingCallDeferred]) is not called again before it fires.
//
// The function runs where the clock runs its calls: on a reactor, on the
// reactor's goroutine. A Deferred it returns may fire on any goroutine; the
// loop goes on where the clock runs its calls all the same. Call the methods
// of a LoopingCall where its function runs, or before the clock runs
// anything.
type LoopingCall struct {
	clock   scheduler.Clock
	f       func(count int) (Waitable, error)
	user    any // the function given, to name it
	counted bool
	fire    func()

	running    bool
	interval   time.Duration
	start      time.Time
	runAtStart bool
	last       time.Time // when a counted function last ran
	hasLast    bool
	call       scheduler.Call
	d          *deferred.Deferred[*LoopingCall]
	unhook     func() // cancels the clock's OnStop, if it has one
}

// errClockStopped is what a LoopingCall's Deferred fails with when its
// clock has stopped for good.
var errClockStopped = fmt.Errorf("cooperate: LoopingCall: %w", scheduler.ErrLoopStopped)

// NewLoopingCall returns a LoopingCall that calls f on clock once started.
// When f returns an error or panics, the loop stops and the Deferred
// returned by [LoopingCall.Start] fails with that error (a
// *deferred.PanicError for a panic). An f that calls [runtime.Goexit] (as
// t.FailNow does) ends the goroutine the clock runs it on, and stops the
// loop first, failing the Deferred with an error wrapping [ErrGoexit] that
// names f. A nil clock or f panics.
func NewLoopingCall(clock scheduler.Clock, f func() error) *LoopingCall {
	if f == nil {
		panic("cooperate: NewLoopingCall: nil function")
	}
	return newLoopingCall("NewLoopingCall", clock, f, false, func(int) (Waitable, error) {
		return nil, f()
	})
}

// NewLoopingCallWithCount is [NewLoopingCall] for a function that is told,
// at each call, how many intervals have elapsed since its previous call
// (since the start for the first): Twisted's LoopingCall.withCount. The
// count is normally 1, more when calls were skipped because the clock ran
// late, f took longer than an interval, or a Deferred it returned fired
// late; it is always 1 at an interval of zero. A nil clock or f panics.
func NewLoopingCallWithCount(clock scheduler.Clock, f func(count int) error) *LoopingCall {
	if f == nil {
		panic("cooperate: NewLoopingCallWithCount: nil function")
	}
	return newLoopingCall("NewLoopingCallWithCount", clock, f, true, func(n int) (Waitable, error) {
		return nil, f(n)
	})
}

// NewLoopingCallDeferred is [NewLoopingCallWithCount] for a function that
// returns a Deferred: the loop waits for it to fire before scheduling the
// next call, and stops, failing the Deferred of [LoopingCall.Start], if it
// fails. Its result is consumed. A nil Deferred counts as one that has
// already succeeded. A nil clock or f panics.
func NewLoopingCallDeferred[T any](clock scheduler.Clock, f func(count int) *deferred.Deferred[T]) *LoopingCall {
	if f == nil {
		panic("cooperate: NewLoopingCallDeferred: nil function")
	}
	return newLoopingCall("NewLoopingCallDeferred", clock, f, true, func(n int) (Waitable, error) {
		if d := f(n); d != nil {
			return Wait(d), nil
		}
		return nil, nil
	})
}

func newLoopingCall(op string, clock scheduler.Clock, user any, counted bool, f func(int) (Waitable, error)) *LoopingCall {
	if clock == nil {
		panic("cooperate: " + op + ": nil clock")
	}
	lc := &LoopingCall{clock: clock, f: f, user: user, counted: counted}
	lc.fire = lc.runOnce
	return lc
}

// Start starts calling the function every interval: at once if now is true
// (inside Start), else one interval from now. An interval of zero calls it
// again as soon as the clock runs calls, each time.
//
// The returned Deferred fires with the LoopingCall when [LoopingCall.Stop]
// ends the loop (after the call under way, or the Deferred it returned,
// finishes), or fails with the function's error when a call fails. A
// negative interval starts nothing and returns a Deferred that has already
// failed with [ErrNegativeInterval]. Starting a LoopingCall whose previous
// Start's Deferred has not fired yet panics.
//
// A clock that stops for good ends the loop, since nothing will call the
// function any more: on a clock that has stopped already
// ([scheduler.StoppableLoop]), Start calls nothing and returns a Deferred
// that has already failed, and on one that tells when it stops
// ([scheduler.StopNotifier], as the reactor does) the Deferred fails then,
// on the clock's goroutine; either way with an error that wraps
// [scheduler.ErrLoopStopped].
func (lc *LoopingCall) Start(interval time.Duration, now bool) *deferred.Deferred[*LoopingCall] {
	if lc.d != nil {
		panic("cooperate: LoopingCall.Start: already running")
	}
	if interval < 0 {
		return deferred.Fail[*LoopingCall](ErrNegativeInterval)
	}
	switch cl := lc.clock.(type) {
	case scheduler.StopNotifier:
		unhook, ok := cl.OnStop(lc.clockStopped)
		if !ok {
			return deferred.Fail[*LoopingCall](errClockStopped)
		}
		lc.unhook = unhook
	case scheduler.StoppableLoop:
		if cl.Stopped() {
			return deferred.Fail[*LoopingCall](errClockStopped)
		}
	}
	d := deferred.New[*LoopingCall]()
	lc.d = d
	lc.running = true
	lc.interval = interval
	lc.start = lc.clock.Now()
	lc.runAtStart = now
	lc.hasLast = false
	if now {
		lc.runOnce()
	} else {
		lc.scheduleFrom(lc.start)
	}
	return d
}

// Stop ends the loop: no more calls are made. If no call is under way, the
// Deferred returned by [LoopingCall.Start] fires now; otherwise it fires
// when the call (or the Deferred it returned) finishes. Stop returns
// [ErrNotRunning] if the loop is not running.
func (lc *LoopingCall) Stop() error {
	if !lc.running {
		return ErrNotRunning
	}
	lc.running = false
	if lc.call != nil {
		_ = lc.call.Cancel()
		lc.call = nil
		lc.succeed()
	}
	return nil
}

// Reset skips the next call and restarts the interval grid from now: the
// next call comes one interval from now. While a call (or the Deferred it
// returned) is under way it does nothing. It returns [ErrNotRunning] if the
// loop is not running.
func (lc *LoopingCall) Reset() error {
	if !lc.running {
		return ErrNotRunning
	}
	if lc.call != nil {
		_ = lc.call.Cancel()
		lc.call = nil
		lc.start = lc.clock.Now()
		lc.scheduleFrom(lc.start)
	}
	return nil
}

// SetInterval changes the interval from the next scheduling on: the call
// already scheduled keeps its time. It returns [ErrNegativeInterval], and
// changes nothing, for a negative interval.
func (lc *LoopingCall) SetInterval(interval time.Duration) error {
	if interval < 0 {
		return ErrNegativeInterval
	}
	lc.interval = interval
	return nil
}

// Interval returns the interval the loop runs at.
func (lc *LoopingCall) Interval() time.Duration {
	return lc.interval
}

// Running reports whether the loop is running: true from [LoopingCall.Start]
// until [LoopingCall.Stop] or a failure of the function. It is false by the
// time the Deferred returned by Start fires.
func (lc *LoopingCall) Running() bool {
	return lc.running
}

// runOnce makes one call: Twisted's LoopingCall.__call__.
func (lc *LoopingCall) runOnce() {
	lc.call = nil
	count := 1
	if lc.counted {
		now := lc.clock.Now()
		if lc.interval == 0 {
			lc.last, lc.hasLast = now, true
		} else {
			last := lc.last
			if !lc.hasLast {
				last = lc.start
				if lc.runAtStart {
					last = last.Add(-lc.interval)
				}
			}
			count = lc.intervalOf(now) - lc.intervalOf(last)
			if count <= 0 {
				lc.callDone(now, nil)
				return
			}
			lc.last, lc.hasLast = now, true
		}
	}
	w, err := lc.invoke(count)
	if err != nil || w == nil {
		lc.callDone(lc.clock.Now(), err)
		return
	}
	err = onComplete(w, func(err error) {
		// The Deferred may fire on any goroutine: go on where the clock runs
		// calls, scheduling from the time it fired.
		at := lc.clock.Now()
		lc.clock.CallLater(0, func() { lc.callDone(at, err) })
	})
	if err != nil {
		lc.callDone(lc.clock.Now(), err)
	}
}

func (lc *LoopingCall) invoke(count int) (w Waitable, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			w, err = nil, deferred.NewPanicError(r)
			return
		}
		// runtime.Goexit: the loop fails before the goroutine ends.
		lc.callDone(lc.clock.Now(), funcGoexit("LoopingCall function", lc.user))
	}()
	w, err = lc.f(count)
	returned = true
	return w, err
}

// callDone goes on after a call that finished at time at.
func (lc *LoopingCall) callDone(at time.Time, err error) {
	if lc.d == nil {
		return // the clock stopped while the call was under way
	}
	if err != nil {
		lc.fail(err)
		return
	}
	if lc.running {
		lc.scheduleFrom(at)
		return
	}
	lc.succeed()
}

// clockStopped ends the loop when its clock stops for good.
func (lc *LoopingCall) clockStopped() {
	lc.unhook = nil
	if lc.d == nil {
		return
	}
	if lc.call != nil {
		_ = lc.call.Cancel()
		lc.call = nil
	}
	lc.fail(errClockStopped)
}

func (lc *LoopingCall) fail(err error) {
	lc.running = false
	lc.release()
	d := lc.d
	lc.d = nil
	d.Errback(err)
}

func (lc *LoopingCall) succeed() {
	lc.release()
	d := lc.d
	lc.d = nil
	d.Callback(lc)
}

// release lets go of the clock's OnStop.
func (lc *LoopingCall) release() {
	if lc.unhook != nil {
		lc.unhook()
		lc.unhook = nil
	}
}

// intervalOf is the number of whole intervals from the start to t.
func (lc *LoopingCall) intervalOf(t time.Time) int {
	return int(t.Sub(lc.start) / lc.interval)
}

// scheduleFrom schedules the next call for the first point of the interval
// grid after when.
func (lc *LoopingCall) scheduleFrom(when time.Time) {
	var delay time.Duration
	if lc.interval > 0 {
		rem := when.Sub(lc.start) % lc.interval
		if rem < 0 {
			rem += lc.interval
		}
		delay = lc.interval - rem
	}
	lc.call = lc.clock.CallLater(when.Add(delay).Sub(lc.clock.Now()), lc.fire)
}
