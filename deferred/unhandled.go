package deferred

import (
	"log/slog"
	"runtime"
	"sync/atomic"
)

var unhandledHandler atomic.Pointer[func(error)]

// OnUnhandledError sets the function that receives an error still unhandled
// at the end of a Deferred's chain when the Deferred becomes unreachable, as
// Twisted logs such errors at garbage collection. It returns a function that
// puts the previous handler back.
//
// The default handler logs "unhandled error in Deferred" with the error
// through [slog.Default]. A nil f restores the default. f runs on the
// runtime's cleanup goroutine, once per Deferred, some time after the
// collection: it must be quick and safe for concurrent use. Tests can use it
// to fail on errors that nothing handled.
func OnUnhandledError(f func(err error)) (restore func()) {
	var p *func(error)
	if f != nil {
		p = &f
	}
	old := unhandledHandler.Swap(p)
	return func() { unhandledHandler.Store(old) }
}

func reportUnhandled(err error) {
	if h := unhandledHandler.Load(); h != nil {
		(*h)(err)
		return
	}
	slog.Default().Error("unhandled error in Deferred", "error", err)
}

// markLocked arms the report for d's current error. Called with the lock
// held, or before d is shared; the caller sets sMarked.
func (d *Deferred[T]) markLocked() {
	d.extra().cleanup = runtime.AddCleanup(d, reportUnhandled, d.err)
}
