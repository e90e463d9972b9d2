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
// through [slog.Default]. For a Deferred created in debugging mode (see
// [SetDebugging]), the handler receives a [*DebugError] that wraps the
// error, and the default handler logs its stacks as "created" and "fired". A nil f restores the default. f runs on the
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
	if e, ok := err.(*DebugError); ok {
		slog.Default().Error("unhandled error in Deferred", "error", e.Err, "created", e.Created, "fired", e.Fired)
		return
	}
	slog.Default().Error("unhandled error in Deferred", "error", err)
}

// unhandledDebug is the report of an unhandled error for a Deferred created
// in debugging mode; the stacks are named only if the report is made.
type unhandledDebug struct {
	err  error
	info *debugInfo
}

func reportUnhandledDebug(u unhandledDebug) {
	created, fired := u.info.report()
	reportUnhandled(&DebugError{Err: u.err, Created: created, Fired: fired})
}

// markLocked arms the report for d's current error. Called with the lock
// held, or before d is shared; the caller sets sMarked.
func (d *Deferred[T]) markLocked() {
	if info := d.debug(); info != nil {
		d.extra().cleanup = runtime.AddCleanup(d, reportUnhandledDebug, unhandledDebug{err: d.err, info: info})
		return
	}
	d.extra().cleanup = runtime.AddCleanup(d, reportUnhandled, d.err)
}
