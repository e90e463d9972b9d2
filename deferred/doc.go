// Package deferred ports Twisted's Deferred to Go, typed: a result that is not
// there yet, with a chain of callbacks that receive it when it comes.
//
// Use a Deferred where Twisted code would: to hand out a result that arrives
// later (a reply, a timer, a task's end) to code that runs on one goroutine,
// the reactor's, without locks. A [Deferred] is fired once with
// [Deferred.Callback] or [Deferred.Errback]; its callbacks run in order on the
// goroutine that fires it. Errors are plain Go errors, checked with
// [errors.Is] and [errors.As]; a panic in a callback becomes a [*PanicError].
//
//	d := deferred.New[int]()
//	d.AddCallback(func(n int) (int, error) { return n * 2, nil })
//	s := deferred.Then(d, func(n int) (string, error) { return strconv.Itoa(n), nil })
//	d.Callback(21)
//	v, _ := s.Result() // "42"
//
// Twisted's names map as follows: Deferred() is [New], succeed and fail are
// [Succeed] and [Fail], maybeDeferred is [Maybe], addCallback and its
// siblings keep their names, chainDeferred is [Deferred.Chain], addTimeout is
// [Deferred.AddTimeout] on a [scheduler.Clock], CancelledError and
// TimeoutError are [ErrCancelled] and [ErrTimeout]. A callback that returns a
// Deferred pauses the chain until it fires: for a Deferred[any] by returning a
// *Deferred[any], as in Twisted, and for typed chains with [ThenDeferred].
// [Then] changes the result type. [Deferred.Wait] and [WithContext] bridge to
// goroutines and contexts.
package deferred
