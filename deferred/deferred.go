package deferred

import (
	"runtime"
	"sync/atomic"
)

// Deferred is a result that is not there yet: Twisted's Deferred, typed.
//
// A Deferred holds a chain of callbacks. It is fired once, with [Deferred.Callback]
// or [Deferred.Errback]; the result then passes down the chain. Each callback
// receives the result of the one before: a callback that returns an error moves
// the chain to the errback path, an errback that returns a nil error moves it
// back. Callbacks added after the Deferred has fired run at once.
//
// Callbacks run on the goroutine that fires the Deferred, or on the goroutine
// that adds a callback to a Deferred that has already fired; never two at a
// time. All methods are safe to call from several goroutines.
//
// A Deferred[any] whose callback returns a Deferred, of any element type,
// pauses its chain until that Deferred fires, then goes on with its result
// (as an any), as in Twisted; typed chains do the same with [ThenDeferred].
// A callback that returns a nil Deferred fails the chain. Chains of waits
// between Deferred[any]s do not recurse: a million Deferreds each waiting
// on the next fire in bounded stack. (A wait on a Deferred of another type
// goes through a Deferred[any] of its own, one stack frame deeper.)
//
// A panic in a callback is recovered and becomes a [*PanicError] in the chain.
// A callback that calls [runtime.Goexit] (as t.FailNow does) ends the
// goroutine that runs it, but not the chain: before the goroutine ends, the
// chain goes on with an error wrapping [ErrGoexit] that names the callback,
// and later callbacks, and chains waiting on this one, run as they would
// after an error.
// An error still at the end of the chain when the Deferred becomes unreachable
// is reported once, through [OnUnhandledError]'s handler.
//
// The zero value is not usable: create Deferreds with [New] and its siblings.
type Deferred[T any] struct {
	// state holds the flags below. Its lock bit guards every other field,
	// except that the goroutine that set the running bit (the owner) reads
	// and writes result, err, first and second without it while it runs the
	// chain.
	state  uint32 // accessed only through sync/atomic
	result T
	err    error
	// The first two links live here, so that most chains cost one
	// allocation; later ones go to ext. Both are used only before the
	// Deferred fires, so the order of links is the order of the slots.
	first, second any
	waitingOn     *Deferred[T] // the Deferred this chain waits on, while it does
	ext           *extra[T]    // allocated when a chain needs more than the common case
}

// extra holds what few Deferreds need.
type extra[T any] struct {
	links     []any // links not yet taken by the owner, in order
	spare     []any // an emptied batch, kept for reuse
	paused    int32
	canceller func(*Deferred[T])
	cleanup   runtime.Cleanup // the unhandled-error report, while sMarked is set
}

// extraWithLinks is an extra allocated together with its first links.
type extraWithLinks[T any] struct {
	extra extra[T]
	room  [8]any
}

const (
	sLocked     uint32 = 1 << iota
	sCalled            // fired: result and err are set
	sRunning           // a goroutine owns the chain and is running it
	sSuppress          // the next late fire is ignored (cancelled without a canceller)
	sPaused            // ext.paused > 0
	sWaiting           // waitingOn is set
	sMore              // ext.links holds links
	sMarked            // an unhandled-error report is armed
	sCancelling        // Cancel has called, or is calling, the canceller
	sDebug             // created in debugging mode: see debug.go; never changes
)

// The link kinds. Each is a distinct type so that one interface slot can
// hold any of them without allocating; a *Deferred[T] link is the
// continuation that hands the result to a Deferred waiting on this one.
type (
	cbFunc[T any]   func(T) (T, error)
	ebFunc[T any]   func(error) (T, error)
	bothFunc[T any] func(T, error) (T, error)
	pairFunc[T any] struct {
		cb cbFunc[T]
		eb ebFunc[T]
	}
	// relayFunc hands the result on to another Deferred ([Then],
	// [Deferred.Chain]) and leaves the zero value: a runtime.Goexit in it
	// came from the chain it handed the result to, which saw to it.
	relayFunc[T any] func(T, error) (T, error)
)

// New returns a Deferred that has not fired.
func New[T any]() *Deferred[T] {
	if debugging.Load() {
		return newDebug[T](0, false)
	}
	return &Deferred[T]{}
}

// NewWithCanceller returns a Deferred that calls canceller when it is
// cancelled before it fires. The canceller may fire the Deferred (with an
// error of its choice, or even a result); if it does not, [Deferred.Cancel]
// fails the Deferred with [ErrCancelled], and a later Callback or Errback
// panics with [ErrAlreadyCalled] as in Twisted.
func NewWithCanceller[T any](canceller func(*Deferred[T])) *Deferred[T] {
	if canceller == nil {
		panicMisuse("NewWithCanceller", errNilFunc)
	}
	if debugging.Load() {
		d := newDebug[T](0, false)
		d.ext = &extra[T]{canceller: canceller}
		return d
	}
	return &Deferred[T]{ext: &extra[T]{canceller: canceller}}
}

// Succeed returns a Deferred that has already fired with v.
func Succeed[T any](v T) *Deferred[T] {
	checkNotDeferred("Succeed", v)
	if debugging.Load() {
		d := newDebug[T](sCalled, true)
		d.result = v
		return d
	}
	return &Deferred[T]{state: sCalled, result: v}
}

// Fail returns a Deferred that has already failed with err. It panics if err
// is nil.
func Fail[T any](err error) *Deferred[T] {
	if err == nil {
		panicMisuse("Fail", errNilError)
	}
	var d *Deferred[T]
	if debugging.Load() {
		d = newDebug[T](sCalled|sMarked, true)
		d.err = err
	} else {
		d = &Deferred[T]{state: sCalled | sMarked, err: err}
	}
	d.markLocked()
	return d
}

// Callback fires the Deferred with v and runs the chain on the calling
// goroutine. Firing a Deferred twice panics with an error that wraps
// [ErrAlreadyCalled], except for the first late fire of a Deferred that was
// cancelled without a canceller, which is ignored. For a Deferred[any], v must
// not itself be a Deferred, of any element type: Callback panics, as Twisted
// refuses a Deferred as a result.
func (d *Deferred[T]) Callback(v T) {
	checkNotDeferred("Deferred.Callback", v)
	d.fire(v, nil, "Deferred.Callback")
}

// Errback fires the Deferred with err and runs the chain on the calling
// goroutine. It panics if err is nil, and as [Deferred.Callback] does when the
// Deferred has already fired.
func (d *Deferred[T]) Errback(err error) {
	if err == nil {
		panicMisuse("Deferred.Errback", errNilError)
	}
	var zero T
	d.fire(zero, err, "Deferred.Errback")
}

// fire sets the result and runs the chain. When the Deferred had already
// fired it panics naming op, or, for an empty op (internal callers that may
// lose a race with a cancellation), reports false.
func (d *Deferred[T]) fire(v T, err error, op string) bool {
	if atomic.CompareAndSwapUint32(&d.state, 0, sCalled|sRunning) {
		d.result, d.err = v, err
		// The common case, a chain of one or two callbacks and nothing
		// else, runs here without the general loop.
		if !isAny[T]() && d.runSlot(&d.first) && d.runSlot(&d.second) && d.err == nil &&
			atomic.CompareAndSwapUint32(&d.state, sCalled|sRunning, sCalled) {
			return true
		}
		run(d, nil, nil)
		return true
	}
	// A Deferred in debugging mode never takes the path above.
	info := d.debug()
	var pcs []uintptr
	if info != nil {
		pcs = callers()
	}
	s := d.lock()
	if s&sCalled != 0 {
		if op == "" {
			// Internal plumbing losing a race: the late fire that a
			// cancellation without canceller forgives is the user's.
			d.unlock(s)
			return false
		}
		if s&sSuppress != 0 {
			d.unlock(s &^ sSuppress)
			return false
		}
		d.unlock(s)
		if info != nil {
			panic(&misuse{op: op, err: ErrAlreadyCalled, debug: info.text()})
		}
		panicMisuse(op, ErrAlreadyCalled)
	}
	if info != nil {
		info.noteFired(pcs)
	}
	d.result, d.err = v, err
	s |= sCalled
	if s&(sRunning|sPaused|sWaiting) == 0 {
		// Take the stored links while the lock is held anyway, rather
		// than lock again in run.
		batch := d.takeLinksLocked(s)
		d.claimLocked(s &^ sMore)
		run(d, nil, batch)
		return true
	}
	d.unlock(s)
	return true
}

// AddCallback adds f to the chain, to be called with the result when the
// chain is on its success path; an error passes it by. It returns d.
func (d *Deferred[T]) AddCallback(f func(T) (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Deferred.AddCallback", errNilFunc)
	}
	if d.addUnfired(cbFunc[T](f)) {
		return d
	}
	return d.add(cbFunc[T](f))
}

// AddErrback adds f to the chain, to be called with the error when the chain
// is on its error path; a result passes it by. Returning a nil error from f
// moves the chain back to the success path with the value f returned. It
// returns d.
func (d *Deferred[T]) AddErrback(f func(error) (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Deferred.AddErrback", errNilFunc)
	}
	if d.addUnfired(ebFunc[T](f)) {
		return d
	}
	return d.add(ebFunc[T](f))
}

// AddBoth adds f to the chain, to be called on either path with the result
// and the error (one of them the zero value). It returns d.
func (d *Deferred[T]) AddBoth(f func(T, error) (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Deferred.AddBoth", errNilFunc)
	}
	if d.addUnfired(bothFunc[T](f)) {
		return d
	}
	return d.add(bothFunc[T](f))
}

// AddCallbacks adds cb and eb as one step of the chain: cb runs on the
// success path, eb on the error path, and never both. It returns d.
//
// A nil cb or eb passes its path through unchanged, as Twisted's
// addCallbacks does for a missing errback: AddCallbacks(cb, nil) is
// [Deferred.AddCallback] and AddCallbacks(nil, eb) is [Deferred.AddErrback].
// Both nil is a misuse and panics, as Twisted refuses a step with no
// callable.
func (d *Deferred[T]) AddCallbacks(cb func(T) (T, error), eb func(error) (T, error)) *Deferred[T] {
	switch {
	case cb == nil && eb == nil:
		panicMisuse("Deferred.AddCallbacks", errNilFunc)
	case eb == nil:
		return d.AddCallback(cb)
	case cb == nil:
		return d.AddErrback(eb)
	}
	return d.add(&pairFunc[T]{cb: cb, eb: eb})
}

// runSlot runs the link in slot, first or second, for the owner of a chain
// that has just fired, and reports whether the chain may go on here: false
// when the link is a continuation, which only run knows how to hand a result
// to, or when the callback paused the chain.
func (d *Deferred[T]) runSlot(slot *any) bool {
	l := *slot
	if l == nil {
		return true
	}
	if _, ok := l.(*Deferred[T]); ok {
		return false
	}
	*slot = nil
	d.result, d.err = invoke(d, l, d.result, d.err, true)
	return atomic.LoadUint32(&d.state)&sPaused == 0
}

// addUnfired stores l in a chain that has not fired, when no other goroutine
// holds its lock at the moment, and reports whether it did: the common case
// of building a chain, without the general path of add. Its switch is
// linkLocked's, for an unfired chain, written out here because the call to
// linkLocked, which does not inline, cost chain10 about 4%.
func (d *Deferred[T]) addUnfired(l any) bool {
	s := atomic.LoadUint32(&d.state)
	if s&(sLocked|sCalled) != 0 || !atomic.CompareAndSwapUint32(&d.state, s, s|sLocked) {
		return false
	}
	switch {
	case s&sMore != 0:
		d.pushLocked(l)
	case d.first == nil:
		d.first = l
	case d.second == nil:
		d.second = l
	default:
		d.pushLocked(l)
		s |= sMore
	}
	atomic.StoreUint32(&d.state, s)
	return true
}

// addLink adds l to the chain, by the fast path when it can.
func (d *Deferred[T]) addLink(l any) *Deferred[T] {
	if d.addUnfired(l) {
		return d
	}
	return d.add(l)
}

func (d *Deferred[T]) add(l any) *Deferred[T] {
	s := d.lock()
	if s&(sCalled|sRunning|sPaused|sWaiting) != sCalled {
		// Not fired, or someone else carries the chain on: store it.
		d.unlock(d.linkLocked(s, l))
		return d
	}
	// Fired and idle: run at once; a lone new link without storing it.
	if s&sMore == 0 && d.first == nil && d.second == nil {
		d.claimLocked(s)
		run(d, l, nil)
		return d
	}
	d.pushLocked(l)
	batch := d.takeLinksLocked(s | sMore)
	d.claimLocked(s &^ sMore)
	run(d, nil, batch)
	return d
}

// takeLinksLocked takes the links stored in ext, for the caller to run, when
// the state s says there are any. Called with the lock held; the caller
// clears sMore.
func (d *Deferred[T]) takeLinksLocked(s uint32) []any {
	if s&sMore == 0 {
		return nil
	}
	e := d.ext
	batch := e.links
	e.links = nil
	return batch
}

// pushLocked appends l to ext.links. Called with the lock held; the caller
// sets sMore.
func (d *Deferred[T]) pushLocked(l any) {
	if d.ext == nil {
		// The first spill of a chain: its extra and room for eight more
		// links come in one allocation.
		x := &extraWithLinks[T]{}
		x.extra.links = x.room[:0]
		d.ext = &x.extra
	}
	e := d.ext
	if e.links == nil {
		if e.spare != nil {
			e.links, e.spare = e.spare, nil
		} else {
			e.links = make([]any, 0, 8)
		}
	}
	e.links = append(e.links, l)
}

// link adds l to an unfired or running chain, wherever it belongs in order.
// Called with the lock held and the state s; returns the new state.
func (d *Deferred[T]) linkLocked(s uint32, l any) uint32 {
	if s&(sCalled|sMore) == 0 {
		if d.first == nil {
			d.first = l
			return s
		}
		if d.second == nil {
			d.second = l
			return s
		}
	}
	d.pushLocked(l)
	return s | sMore
}

func (d *Deferred[T]) extra() *extra[T] {
	if d.ext == nil {
		d.ext = &extra[T]{}
	}
	return d.ext
}

// Called reports whether the Deferred has been fired.
func (d *Deferred[T]) Called() bool {
	return atomic.LoadUint32(&d.state)&sCalled != 0
}

// Pause stops the chain from running callbacks until a matching
// [Deferred.Unpause]; pauses count, as in Twisted.
func (d *Deferred[T]) Pause() {
	s := d.lock()
	d.extra().paused++
	d.unlock(s | sPaused)
}

// Unpause undoes one [Deferred.Pause]; when the last pause is undone and the
// Deferred has fired, the chain goes on, on the calling goroutine. Unpausing
// a Deferred that is not paused panics.
func (d *Deferred[T]) Unpause() {
	s := d.lock()
	if s&sPaused == 0 {
		d.unlock(s)
		panicMisuse("Deferred.Unpause", errNotPaused)
	}
	d.ext.paused--
	if d.ext.paused > 0 {
		d.unlock(s)
		return
	}
	s &^= sPaused
	if s&(sCalled|sRunning|sWaiting) == sCalled {
		d.claimLocked(s)
		run(d, nil, nil)
		return
	}
	d.unlock(s)
}
