// Package deferred ports Twisted's Deferred to Go, typed: a result that is not
// there yet, with a chain of callbacks that receive it when it comes.
//
// Use a Deferred where Twisted code would: to hand out a result that arrives
// later (a reply, a timer, a task's end) to code that runs on one goroutine,
// the reactor's, without locks. A [Deferred] is fired once with
// [Deferred.Callback] or [Deferred.Errback]; its callbacks run in order on the
// goroutine that fires it. Errors are plain Go errors, checked with
// [errors.Is] and [errors.As]; a panic in a callback becomes a [*PanicError],
// and a callback that calls [runtime.Goexit] (as t.FailNow does) leaves the
// chain to go on with an error wrapping [ErrGoexit] before its goroutine
// ends. A Deferred costs one small allocation and starts no goroutine.
//
//	d := deferred.New[int]()
//	d.AddCallback(func(n int) (int, error) { return n * 2, nil })
//	s := deferred.Then(d, func(n int) (string, error) { return strconv.Itoa(n), nil })
//	d.Callback(21)
//	v, _ := s.Result() // "42"
//
// # The Twisted names
//
// Deferred() is [New] (and [NewWithCanceller]), succeed and fail are
// [Succeed] and [Fail], maybeDeferred is [Maybe]; addCallback, addErrback,
// addBoth and addCallbacks keep their names; chainDeferred is
// [Deferred.Chain], addTimeout is [Deferred.AddTimeout] on a
// [scheduler.Clock]; CancelledError and TimeoutError are [ErrCancelled] and
// [ErrTimeout]. A callback that returns a Deferred pauses the chain until it
// fires: for a Deferred[any] by returning a Deferred of any element type, as
// in Twisted, and for typed chains with [ThenDeferred]. Every Deferred, of
// any type, has [Deferred.OnComplete], which makes it a cooperate.Waitable. [Then] changes the result type.
//
// gatherResults is [All], DeferredList is [List] (and [First] for its
// fireOnOneCallback form), race is [Race]; FirstError and FailureGroup are
// [*FirstError] and [*FailureGroup]. inlineCallbacks and ensureDeferred are
// [Async] with [Await]. DeferredLock, DeferredSemaphore and DeferredQueue are
// [Lock], [Semaphore] and [Queue], with [Run] for their run method.
//
// addTimeout with an onTimeoutCancel function is [Deferred.AddTimeoutFunc].
//
// # Bridges to Go
//
// [Deferred.Wait] blocks a goroutine (never the reactor's) until a result
// comes, [WithContext] cancels a Deferred when a [context.Context] is done,
// and [Deferred.Result] reads a result without adding a callback. An error
// still at the end of a chain when its Deferred is collected is logged
// through [log/slog], as Twisted logs it at garbage collection;
// [OnUnhandledError] lets a test fail on it.
//
// # Debugging
//
// [SetDebugging] is Twisted's setDebugging: while it is on, each Deferred
// records where it was created and first fired, and says so when it is fired
// twice and when its error goes unhandled. [Deferred.String] is Twisted's
// repr: the Deferred's state, result or error, and what it waits on.
package deferred
