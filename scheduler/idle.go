package scheduler

import "time"

// An Idler waits for events of its own on a loop's goroutine, in the loop's
// idle time, instead of the loop's own sleep: a worker-process pool that
// waits for its workers' answers in the kernel, say, so that an answer
// wakes the loop's thread itself and no other goroutine has to be woken to
// hand it over. Register one with [IdleLoop.AddIdler].
type Idler interface {
	// Idle is called on the loop's goroutine when the loop has nothing to
	// run, in place of its sleep. If the idler has nothing to wait for, it
	// returns at once with ok false, and the loop sleeps as usual.
	// Otherwise it waits until one of its events comes, until Wake is
	// called, or for at most d (without limit if d is negative: the loop
	// has no timer pending), whichever comes first; it then returns ok
	// true and, if its events call for it, a function that the loop runs
	// as it runs the functions given to CallSoon. The loop then goes on
	// with a new pass, and calls Idle again when it is idle again.
	Idle(d time.Duration) (run func(), ok bool)

	// Wake makes the Idle in progress, or the next one if none is, return
	// at once. The loop calls it, from any goroutine (the one that hands
	// it work while it may be idle), so it must neither block nor panic.
	Wake()

	// Busy is called on the loop's goroutine before each pass of the loop
	// that runs other work, when another idler has the loop's idle time,
	// and once when the loop stops for good: an idler that waits for
	// events only in Idle must have them seen to by another goroutine from
	// then on, until its next Idle.
	Busy()
}

// An IdleLoop is a [Loop] that offers its idle time to [Idler]s. The
// reactor is one; [ManualClock] is not.
type IdleLoop interface {
	Loop

	// AddIdler makes the loop offer its idle time to i, and to the idlers
	// added before it, in the order they were added: the first whose Idle
	// reports ok has it, and the idlers after it are told Busy once it has
	// returned. It returns
	// two functions, safe to call from any goroutine. poke wakes the loop if
	// it sleeps, so that it asks its idlers again (an idler calls it when it
	// has something new to wait for); it reports false once the loop has
	// stopped for good, after which Idle is never called again. remove ends
	// the offer: a pass of the loop or a wake-up already under way when it
	// returns may still call Idle, Wake or Busy once; later ones do not.
	AddIdler(i Idler) (poke func() bool, remove func())
}

// A ReadyIdler is an [Idler] that can also tell, without waiting and
// without handling them, whether events of its own are ready: the reactor
// asks it on behalf of long work that offers to yield (see [Yielder]).
type ReadyIdler interface {
	Idler

	// Ready reports whether events wait to be handled. It is called on
	// the loop's goroutine, while the loop runs other work; it must neither
	// block nor consume the events, which the idler's next Idle, or a
	// poller, handles as usual.
	Ready() bool
}
