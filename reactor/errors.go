package reactor

import (
	"errors"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// ErrAlreadyRun is returned by [Reactor.Run] when the reactor is running or
// has run: a reactor runs once, as Twisted's does.
var ErrAlreadyRun = errors.New("reactor: already run")

// ErrNotRunning is returned by [Reactor.Stop] when the reactor has not been
// started, is already stopping, or has stopped: Twisted's ReactorNotRunning.
// [BlockingCall] returns it when the reactor has shut down.
var ErrNotRunning = errors.New("reactor: not running")

// ErrStopped is the error a [DeferToGoroutine] Deferred fails with when the
// reactor shut down before its function could start, and what
// [Reactor.CallInGoroutine] returns then. It wraps [scheduler.ErrLoopStopped],
// which code written for any [scheduler.StoppableLoop] checks for.
var ErrStopped error = &wrapError{"reactor: stopped", scheduler.ErrLoopStopped}

// wrapError is an error with a message of its own that wraps another.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// ErrOnReactor is returned by [BlockingCall] when it is called on the reactor
// goroutine, where waiting would deadlock.
var ErrOnReactor = errors.New("reactor: blocking call on the reactor goroutine")

// ErrNoTrigger is returned by [Reactor.RemoveSystemEventTrigger] for a trigger
// that was never added, was already removed, or has already fired.
var ErrNoTrigger = errors.New("reactor: no such trigger")

// ErrGoexit is what a [*GoexitError] wraps: a function the reactor ran
// ended its goroutine with [runtime.Goexit]. It is [deferred.ErrGoexit]
// itself, the one value for a function that ended its goroutine wherever
// twine ran it: errors.Is matches either name.
var ErrGoexit = deferred.ErrGoexit
