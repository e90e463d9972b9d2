package deferred

import (
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/twinego/twine/internal/funcinfo"
)

// debugging is SetDebugging's switch. New and its siblings read it once per
// Deferred; nothing else on the hot paths does.
var debugging atomic.Bool

// SetDebugging turns debugging mode on or off for the whole process:
// Twisted's setDebugging.
//
// While it is on, every Deferred created records where it was created, and
// records, when it fires the first time, where it was fired: the calls
// outside package deferred that led there, a few frames deep. Both then
// appear in the panic of a second Callback or Errback (which still wraps
// [ErrAlreadyCalled]), in the report of an unhandled error (as a
// [*DebugError]), and the place of creation in [Deferred.String]. Each
// Deferred costs some microseconds more to create and fire in this mode (two
// stacks and a table entry): use it to find a bug, not in production.
//
// The mode of a Deferred is fixed when it is created: turning debugging on
// later does not make older Deferreds record anything, and turning it off
// does not make them forget. When it is off, as it is by default, Deferreds
// cost nothing more than without it. It is safe to call from any goroutine.
func SetDebugging(on bool) {
	debugging.Store(on)
}

// Debugging reports whether debugging mode is on: Twisted's getDebugging.
func Debugging() bool {
	return debugging.Load()
}

// DebugError is what the unhandled-error handler (see [OnUnhandledError])
// receives, in place of the error itself, for a Deferred created in
// debugging mode (see [SetDebugging]): the error and where its Deferred was
// created and first fired, as Twisted adds them to its "Unhandled error in
// Deferred" log. errors.Is and errors.As see Err through it.
type DebugError struct {
	// Err is the error at the end of the chain.
	Err error
	// Created and Fired are the calls that created the Deferred and that
	// fired it the first time, innermost first, each as
	// "pkg.Func (file.go:12)". Calls inside package deferred are left out.
	Created, Fired []string
}

// Error returns Err's message followed by the two stacks, one call a line.
func (e *DebugError) Error() string {
	return e.Err.Error() + debugText(e.Created, e.Fired)
}

// Unwrap returns Err.
func (e *DebugError) Unwrap() error { return e.Err }

// debugInfo is what a Deferred created in debugging mode records. created is
// set before the Deferred is shared; fired is set once, under the
// Deferred's lock, and read by whoever reports.
type debugInfo struct {
	created []uintptr
	fired   atomic.Pointer[[]uintptr]
}

// debugInfos maps a Deferred created in debugging mode, through a weak
// pointer (as any), to its *debugInfo. The Deferred's sDebug bit says an
// entry is there; a cleanup removes it when the Deferred is collected. Kept
// out of the Deferred so that the mode costs no memory when it is off.
var debugInfos sync.Map

// debugFrames is how many calls outside package deferred a report shows.
const debugFrames = 8

// newDebug returns a Deferred in debugging mode with the state s; fired
// says that it is created fired, as Succeed and Fail make it. Kept out of
// line so that New stays small.
//
//go:noinline
func newDebug[T any](s uint32, fired bool) *Deferred[T] {
	d := &Deferred[T]{state: s | sDebug}
	d.noteCreated(fired)
	return d
}

// noteCreated records where d is being created. It is called before d is
// shared, with sDebug set by the caller.
func (d *Deferred[T]) noteCreated(fired bool) {
	info := &debugInfo{created: callers()}
	if fired {
		info.noteFired(info.created)
	}
	key := any(weak.Make(d))
	debugInfos.Store(key, info)
	runtime.AddCleanup(d, forgetDebug, key)
}

func forgetDebug(key any) { debugInfos.Delete(key) }

// debug returns what d recorded, or nil if it was not created in debugging
// mode.
func (d *Deferred[T]) debug() *debugInfo {
	if atomic.LoadUint32(&d.state)&sDebug == 0 {
		return nil
	}
	v, ok := debugInfos.Load(any(weak.Make(d)))
	if !ok {
		return nil
	}
	return v.(*debugInfo)
}

// noteFired records where d was fired the first time. Called with d's lock
// held, by the fire that sets sCalled, with a stack taken by callers before
// the lock.
func (info *debugInfo) noteFired(pcs []uintptr) {
	info.fired.Store(&pcs)
}

// callers returns the program counters of the calling goroutine's stack,
// deep enough to hold debugFrames calls outside this package.
func callers() []uintptr {
	var buf [debugFrames + 24]uintptr
	n := runtime.Callers(3, buf[:])
	return append([]uintptr(nil), buf[:n]...)
}

// deferredPrefix is the start of the names of this package's functions.
var deferredPrefix = func() string {
	name := runtime.FuncForPC(reflect.ValueOf(SetDebugging).Pointer()).Name()
	return strings.TrimSuffix(name, "SetDebugging")
}()

// frames names the calls in pcs outside package deferred and the runtime,
// innermost first, at most debugFrames of them.
func frames(pcs []uintptr) []string {
	if len(pcs) == 0 {
		return nil
	}
	var out []string
	it := runtime.CallersFrames(pcs)
	for len(out) < debugFrames {
		fr, more := it.Next()
		if fr.Function != "" && !strings.HasPrefix(fr.Function, deferredPrefix) &&
			!strings.HasPrefix(fr.Function, "runtime.") {
			out = append(out, funcinfo.Frame(fr))
		}
		if !more {
			break
		}
	}
	return out
}

// report returns the two stacks as strings; fired is nil if d has not
// fired.
func (info *debugInfo) report() (created, fired []string) {
	created = frames(info.created)
	if p := info.fired.Load(); p != nil {
		fired = frames(*p)
	}
	return created, fired
}

// text is report as the lines that a panic message or a DebugError appends.
func (info *debugInfo) text() string {
	return debugText(info.report())
}

func debugText(created, fired []string) string {
	var b strings.Builder
	section := func(title string, calls []string) {
		if len(calls) == 0 {
			return
		}
		b.WriteString("\n\t" + title + ":")
		for _, c := range calls {
			b.WriteString("\n\t\t" + c)
		}
	}
	section("created at", created)
	section("first fired at", fired)
	return b.String()
}
