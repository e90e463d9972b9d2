package deferred

import (
	"errors"

	"github.com/twinego/twine/internal/funcinfo"
)

// runtime.Goexit in code of the user's.
//
// A function that calls runtime.Goexit, as t.FailNow does, ends its
// goroutine: nothing makes it return, and only the deferred calls of the
// frames below it still run. Wherever the package calls a function of the
// user's, a deferred call tells a return from an exit by a flag set after
// the call returns (a flag costs nothing next to the recover that was
// there for panics anyway), and, before the goroutine ends, does what the
// cut-short code was there to do: invoke puts the error in the chain, run
// carries the chain (and the chains waiting on it) on from where it stood,
// a canceller's Deferred fails, a Then's Deferred fails, and a Lock's hold
// is given back. The goroutine then ends, as the function asked.

// ErrGoexit is wrapped by the error a chain goes on with when a function
// of the user's that a Deferred runs calls [runtime.Goexit] (as t.FailNow
// does): a callback, an errback, a canceller, the function given to [Then]
// or [ThenDeferred], an [Async] body. Go gives no way to keep the goroutine
// from ending; the chain goes on before it ends, with this error in place
// of the function's result, so later callbacks run and nothing waits for
// ever. The error's message names the function when it can. Match it with
// errors.Is.
var ErrGoexit = errors.New("deferred: runtime.Goexit called")

// goexitError is the error of a function that called runtime.Goexit. It
// says what the function was to the package, and names it.
type goexitError struct {
	what string // "callback pkg.f (f.go:12)", "Async body", ...
}

func (e *goexitError) Error() string {
	return "deferred: " + e.what + " called runtime.Goexit"
}

func (e *goexitError) Unwrap() error { return ErrGoexit }

// funcGoexit is the error of f, in role ("callback", "canceller"), that
// called runtime.Goexit. Naming f costs a microsecond, once per exit.
func funcGoexit(role string, f any) error {
	what := role
	if name := funcinfo.String(f); name != "" {
		what += " " + name
	}
	return &goexitError{what: what}
}

// linkGoexit is the error of the link l that called runtime.Goexit on the
// path that err (the error it was given) chose.
func linkGoexit[T any](l any, err error) error {
	switch f := l.(type) {
	case cbFunc[T]:
		return funcGoexit("callback", f)
	case ebFunc[T]:
		return funcGoexit("errback", f)
	case bothFunc[T]:
		return funcGoexit("callback", f)
	case *pairFunc[T]:
		if err == nil {
			return funcGoexit("callback", f.cb)
		}
		return funcGoexit("errback", f.eb)
	}
	return &goexitError{what: "callback"}
}
