// Package funcinfo names Go functions for twine's reports: a scheduled
// call's String, the reactor's reports of a callback that ended its
// goroutine or panicked, and the stacks a Deferred records in debugging
// mode. It is the counterpart, for Go's func values, of
// the qualified names Twisted prints for its callables (a DelayedCall's
// repr).
//
// Go cannot tell where a func value was made, only where its code is
// defined, so a closure is named after the function it appears in
// ("pkg.Outer.func2") and located by the line that opens it:
//
//	name, where := funcinfo.Of(f) // "main.main.func1", "main.go:12"
package funcinfo
