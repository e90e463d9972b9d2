package deferred

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// ErrAlreadyCalled is the value a Deferred panics with (wrapped, naming the
// method) when it is fired a second time: Twisted's AlreadyCalledError.
var ErrAlreadyCalled = errors.New("deferred: already called")

// ErrCancelled is the error a cancelled Deferred fails with when its canceller
// did not fire it: Twisted's CancelledError.
var ErrCancelled = errors.New("deferred: cancelled")

// ErrTimeout is the error a Deferred fails with when the timeout set by
// [Deferred.AddTimeout] cancelled it: Twisted's TimeoutError.
var ErrTimeout = errors.New("deferred: timed out")

// ErrNotFired is returned by [Deferred.Result] while the Deferred has no
// result yet: it has not been fired, or its chain waits on another Deferred.
var ErrNotFired = errors.New("deferred: no result yet")

// PanicError is the error a recovered panic becomes: a callback, a function
// given to [Maybe], an [Async] body, a canceller. Value is what was passed to
// panic; Stack is the panicking goroutine's stack at the recover.
type PanicError struct {
	Value any
	Stack []byte
}

// NewPanicError returns a PanicError for value with the current goroutine's
// stack. Call it inside the deferred function that recovered the panic, so
// that the stack still shows where the panic happened.
func NewPanicError(value any) *PanicError {
	return &PanicError{Value: value, Stack: debug.Stack()}
}

// Error reports the panic value; the stack is kept out of the message and is
// available in Stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("deferred: panic: %v", e.Value)
}

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// misuse is the panic value for a programmer error: it names the method and
// wraps the sentinel, so a recovered value still matches errors.Is.
type misuse struct {
	op    string
	err   error
	debug string // in debugging mode, where the Deferred was created and fired
}

func (m *misuse) Error() string {
	return "deferred: " + m.op + ": " + strings.TrimPrefix(m.err.Error(), "deferred: ") + m.debug
}

func (m *misuse) Unwrap() error { return m.err }

func panicMisuse(op string, err error) {
	panic(&misuse{op: op, err: err})
}

// Misuse errors that have no sentinel of their own.
var (
	errNilFunc       = errors.New("deferred: nil function")
	errNilError      = errors.New("deferred: nil error")
	errNotPaused     = errors.New("deferred: not paused")
	errFireDeferred  = errors.New("deferred: result is a Deferred")
	errReturnedSelf  = errors.New("deferred: callback returned the Deferred it was added to")
	errReturnedNil   = errors.New("deferred: callback returned a nil Deferred")
	errNilDeferred   = errors.New("deferred: nil Deferred")
	errNilClock      = errors.New("deferred: nil clock")
	errChainToItself = errors.New("deferred: chained to itself")
	errNilContext    = errors.New("deferred: nil context")
)
