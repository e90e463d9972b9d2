package deferred

import (
	"errors"
	"sync"
)

// Lock is a lock for event-driven code: Twisted's DeferredLock. Instead of
// blocking, [Lock.Acquire] returns a Deferred that fires, with the Lock
// itself, once the caller holds the lock.
//
// Waiters get the lock in the order they called Acquire. [Lock.Release]
// hands it straight to the first of them: the lock never looks free while
// someone waits. Cancelling a waiting Acquire's Deferred takes it out of the
// line and fails it with [ErrCancelled]; a cancelled waiter never ends up
// holding the lock, even when the cancellation races with a Release on
// another goroutine.
//
// Deferreds are fired with no internal lock held, on the goroutine that
// makes the lock available: Acquire fires at once, on the caller's goroutine,
// when the lock is free, and Release fires the next waiter's Deferred before
// it returns. A callback may therefore call Release (or Acquire) again; as in
// Twisted, the next waiter's callbacks then run nested in it, up to 100 deep.
// Deeper hand-offs, as in a long line of holders that each release at once,
// run one after another instead, in the same order, so the stack stays
// bounded (Twisted fails there with RecursionError).
//
// A Lock is safe for concurrent use. The zero value is an unlocked Lock. A
// Lock must not be copied after first use.
type Lock struct {
	mu      sync.Mutex
	locked  bool
	waiting fifo[*Deferred[*Lock]]
	relay   relay[*Lock]
	cancel  func(*Deferred[*Lock]) // the waiters' canceller, made once
}

var (
	errNotLocked = errors.New("deferred: lock is not locked")
	errNilLock   = errors.New("deferred: nil Acquirer")
)

// Acquire asks for the lock. The returned Deferred fires with l once the
// caller holds it: at once, before Acquire returns, if the lock is free;
// otherwise when a [Lock.Release] hands it over, after every earlier
// waiter has had its turn. The holder must call Release exactly once.
//
// Cancelling the Deferred while it waits removes it from the line and fails
// it with [ErrCancelled]; cancelling it after it fired does nothing, and the
// holder must still release.
func (l *Lock) Acquire() *Deferred[*Lock] {
	l.mu.Lock()
	if !l.locked {
		l.locked = true
		l.mu.Unlock()
		return Succeed(l)
	}
	if l.cancel == nil {
		l.cancel = l.cancelAcquire
	}
	d := NewWithCanceller(l.cancel)
	l.waiting.push(d)
	l.mu.Unlock()
	return d
}

// cancelAcquire is the canceller of a waiting Acquire: it takes d out of the
// line. If d is no longer there, a Release has handed it the lock and is
// about to fire it; then either that fire or the cancellation wins, and the
// lock passes on if the cancellation did.
func (l *Lock) cancelAcquire(d *Deferred[*Lock]) {
	l.mu.Lock()
	l.waiting.remove(func(w *Deferred[*Lock]) bool { return w == d })
	l.mu.Unlock()
}

// Release gives up the lock. If anyone waits, the lock passes to the first
// waiter, whose Deferred fires on the calling goroutine before Release
// returns; otherwise the lock becomes free. Releasing a Lock that is not
// locked is a programming error and panics.
//
// A Release made while hand-offs of this lock are already nested maxNest
// (100) deep, as in a long line of waiters whose callbacks release at once,
// does not fire the waiter itself: the hand-off under way fires it next.
func (l *Lock) Release() {
	l.mu.Lock()
	if !l.locked {
		l.mu.Unlock()
		panicMisuse("Lock.Release", errNotLocked)
	}
	l.passOn()
	l.relay.drain(&l.mu, l.passOnLost)
}

// passOn gives the lock to the first waiter, to be fired by the relay, or
// frees it. The lock stays locked while a waiter's Deferred is on its way.
// Called with l.mu held.
func (l *Lock) passOn() {
	if l.waiting.len() == 0 {
		l.locked = false
		return
	}
	l.relay.push(l.waiting.pop(), l)
}

// passOnLost passes on a hold that a cancelled waiter could not take.
func (l *Lock) passOnLost(*Lock) { l.passOn() }

// Locked reports whether the lock is held (or being handed to a waiter). It
// is a snapshot: another goroutine may change it at once. It is useful to
// try the lock without waiting, as Twisted's DeferredLock.locked is.
func (l *Lock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

// Waiting reports how many Acquire calls wait for the lock.
func (l *Lock) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting.len()
}

// Acquirer is a lock-like primitive that hands out a hold through a
// Deferred: [*Lock] and [*Semaphore] are Acquirers. [Run] and [RunDeferred]
// work with any of them.
//
// Acquire returns a Deferred that fires once the caller holds the
// primitive; Release gives the hold up. Cancelling a waiting Acquire's
// Deferred must leave the caller without a hold.
type Acquirer[L any] interface {
	Acquire() *Deferred[L]
	Release()
}

// Run acquires a, calls f while holding it, and releases a when f is done:
// Twisted's DeferredLock.run and DeferredSemaphore.run. The returned
// Deferred fires with f's result after a has been released.
//
// f is called on the goroutine that hands a over: at once when a is free,
// otherwise in the Release that ends the previous hold. An error or a panic
// in f (as a [*PanicError]) fails the returned Deferred and releases a all
// the same. As with [Maybe], for a T of any a Deferred (of any element type)
// returned by f is waited on, and a is held until it fires.
//
// Cancelling the returned Deferred while it waits for a removes it from a's
// line, and f is never called; cancelling it while f's Deferred is pending
// cancels that one, and a is released when it fires. Run panics if a or f is
// nil.
func Run[T, L any](a Acquirer[L], f func() (T, error)) *Deferred[T] {
	if a == nil {
		panicMisuse("Run", errNilLock)
	}
	if f == nil {
		panicMisuse("Run", errNilFunc)
	}
	return onSuccess(a.Acquire(), func(_ L, out *Deferred[T]) {
		exited := true
		defer releaseIfExited(a, out, "Run", f, &exited)
		d := Maybe(f)
		exited = false
		out.follow(releaseAfter(a, d))
	})
}

// RunDeferred is [Run] for a function that returns a Deferred: a is held
// until that Deferred fires, and the returned Deferred fires with its result
// after a has been released. A panic in f or a nil Deferred from f fails the
// returned Deferred and releases a. Cancelling the returned Deferred cancels
// the wait for a, or f's Deferred once f has been called. RunDeferred panics
// if a or f is nil.
func RunDeferred[T, L any](a Acquirer[L], f func() *Deferred[T]) *Deferred[T] {
	if a == nil {
		panicMisuse("RunDeferred", errNilLock)
	}
	if f == nil {
		panicMisuse("RunDeferred", errNilFunc)
	}
	return onSuccess(a.Acquire(), func(_ L, out *Deferred[T]) {
		exited := true
		defer releaseIfExited(a, out, "RunDeferred", f, &exited)
		d := callHeld(f)
		exited = false
		out.follow(releaseAfter(a, d))
	})
}

// releaseIfExited releases a and fails out, naming f, the function given
// to op, if *exited is still set: deferred by Run and RunDeferred around
// the call of f, it gives the hold back when f ended the goroutine with
// runtime.Goexit.
func releaseIfExited[T, L any](a Acquirer[L], out *Deferred[T], op string, f any, exited *bool) {
	if *exited {
		a.Release()
		settleIfExited(out, op, f, exited)
	}
}

// callHeld calls f, turning a panic or a nil Deferred into a failed one, so
// that the hold taken for f is always given back.
func callHeld[T any](f func() *Deferred[T]) *Deferred[T] {
	d, err := callDeferred(func(struct{}) *Deferred[T] { return f() }, struct{}{})
	if err == nil && d == nil {
		err = &misuse{op: "RunDeferred", err: errNilDeferred}
	}
	if err != nil {
		return Fail[T](err)
	}
	return d
}

// releaseAfter releases a when d's chain reaches this point, and passes d's
// result on.
func releaseAfter[T, L any](a Acquirer[L], d *Deferred[T]) *Deferred[T] {
	return d.AddBoth(func(v T, err error) (T, error) {
		a.Release()
		return v, err
	})
}
