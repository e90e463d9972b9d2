package reactor

import (
	"runtime/debug"

	"github.com/twinego/twine/internal/funcinfo"
)

// GoexitError reports a function that the reactor ran, on its own
// goroutine or on one of the goroutines of [DeferToGoroutine] and
// [Reactor.CallInGoroutine], and that ended that goroutine with
// [runtime.Goexit], as t.FailNow, t.SkipNow and the testing helpers that
// stop a test do. Go gives no way to keep a goroutine from ending then: what
// the function was doing is lost, the deferred calls of its goroutine have
// run, and the reactor goes on as [Reactor.Run] describes.
type GoexitError struct {
	Func  string // the function's name, "pkg.Func.func1", as far as Go can tell
	Where string // where the function is defined, "file.go:12"; "" if unknown
	Stack []byte // the goroutine's stack when the function called runtime.Goexit
	role  string // what the function was to the reactor: "callback", ...
}

// Error names the function and what it was to the reactor.
func (e *GoexitError) Error() string {
	s := "reactor: " + e.role
	if e.Func != "" {
		s += " " + e.Func
	}
	if e.Where != "" {
		s += " (" + e.Where + ")"
	}
	return s + " called runtime.Goexit"
}

// Unwrap returns [ErrGoexit].
func (e *GoexitError) Unwrap() error { return ErrGoexit }

// newGoexitError describes f, in role, ending its goroutine. Call it from
// a function deferred on that goroutine, so that the stack is the one that
// called runtime.Goexit.
func newGoexitError(f any, role string) *GoexitError {
	name, where := funcinfo.Of(f)
	return &GoexitError{Func: name, Where: where, Stack: debug.Stack(), role: role}
}

// noteGoexit records that f, in role, is ending the reactor goroutine,
// unless a function inside it has been recorded already: the deferred calls
// of the goroutine run innermost first, so the first note names the
// function that called runtime.Goexit, or the closest to it that the
// reactor knows. Reactor goroutine only.
func (r *Reactor) noteGoexit(f any, role string) {
	if r.exiting == nil {
		r.exiting = newGoexitError(f, role)
	}
}

// goexited runs on the reactor goroutine as it ends in runtime.Goexit,
// after every other deferred call: it reports the function that called it,
// keeps the first such error for Run to return, and starts an orderly
// shutdown. Run then goes on on a new reactor goroutine (see serve).
func (r *Reactor) goexited() {
	e := r.exiting
	r.exiting = nil
	if e == nil {
		e = newGoexitError(nil, "reactor loop")
	}
	callback := e.Func
	if e.Where != "" {
		callback += " (" + e.Where + ")"
	}
	r.log.Error("reactor: callback called runtime.Goexit; shutting down",
		"role", e.role, "callback", callback, "stack", stackValue(e.Stack))
	if r.exitErr == nil {
		r.exitErr = e
	}
	_ = r.Stop()
}
