package cooperate

import (
	"github.com/twinego/twine/internal/funcinfo"
)

// runtime.Goexit in code of the user's.
//
// A function that calls runtime.Goexit, as t.FailNow does, ends its
// goroutine: nothing makes it return, and the goroutine's deferred calls
// run as it ends. Where the package calls a function of the user's, a
// deferred call notices, and does before the goroutine ends what the
// cut-short code was there to do, so that no Deferred the package handed out
// is left unfired: a DeferLater, a LoopingCall, a Parallel or Map fails with
// an error wrapping ErrGoexit; the Done Deferreds of a task, and the tasks a
// stopping Cooperator fails, go on firing past a callback that exits; a
// slice cut short is wound up, so that the Cooperator goes on where it
// stands; a lane whose goroutine ends is given a new one.
//
// A task's iterator is different, and nothing is lost there: it runs as a
// coroutine (iter.Pull), a goroutine of its own, which is what ends.
// iter.Pull would then end the goroutine that resumed it as well, the loop's
// or a lane's. Instead, Task.run turns the coroutine's end into a panic of
// goexitSignal, which iter.Pull carries over to that goroutine, where resume
// and releaseIter recover it. (A panic raised while a goroutine exits does
// not stop it from exiting, once recovered: the coroutine still ends.) The
// task fails as after a panic, and its lane goes on; on the loop, tick then
// ends the loop's goroutine, as the step asked, once the slice is wound up.

// goexitSignal is the panic that carries a task's runtime.Goexit out of its
// coroutine (see Task.run).
type goexitSignal struct{}

// goexitError is the error of a function that called runtime.Goexit. It
// says what the function was to the package, and names it when it can.
type goexitError struct {
	what string // "task step", "DeferLater function pkg.f (f.go:12)", ...
}

func (e *goexitError) Error() string {
	return "cooperate: " + e.what + " called runtime.Goexit"
}

func (e *goexitError) Unwrap() error { return ErrGoexit }

// errStepGoexit is the error of a task one of whose steps called
// runtime.Goexit: the step is somewhere in the task's iterator, or in
// Each's function, and only the stack could tell which.
var errStepGoexit error = &goexitError{what: "task step"}

// funcGoexit is the error of f, the role function of something the
// package runs ("DeferLater function"), that called runtime.Goexit.
func funcGoexit(role string, f any) error {
	what := role
	if name := funcinfo.String(f); name != "" {
		what += " " + name
	}
	return &goexitError{what: what}
}
