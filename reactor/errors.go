package reactor

import "errors"

// ErrAlreadyRun is returned by [Reactor.Run] when the reactor is running or
// has run: a reactor runs once, as Twisted's does.
var ErrAlreadyRun = errors.New("reactor: already run")

// ErrNotRunning is returned by [Reactor.Stop] when the reactor has not been
// started, is already stopping, or has stopped: Twisted's ReactorNotRunning.
// [BlockingCall] returns it when the reactor has shut down.
var ErrNotRunning = errors.New("reactor: not running")

// ErrStopped is the error a [DeferToGoroutine] Deferred fails with when the
// reactor shut down before its function could start.
var ErrStopped = errors.New("reactor: stopped")

// ErrOnReactor is returned by [BlockingCall] when it is called on the reactor
// goroutine, where waiting would deadlock.
var ErrOnReactor = errors.New("reactor: blocking call on the reactor goroutine")

// ErrNoTrigger is returned by [Reactor.RemoveSystemEventTrigger] for a trigger
// that was never added, was already removed, or has already fired.
var ErrNoTrigger = errors.New("reactor: no such trigger")

// ErrGoexit is what a [*GoexitError] wraps: a function the reactor ran
// ended its goroutine with [runtime.Goexit].
var ErrGoexit = errors.New("reactor: runtime.Goexit")
