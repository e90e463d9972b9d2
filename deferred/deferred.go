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
// A Deferred[any] whose callback returns a *Deferred[any] pauses its chain
// until that Deferred fires, then goes on with its result, as in Twisted;
// typed chains do the same with [ThenDeferred]. Chains of such waits do not
// recurse: a million Deferreds each waiting on the next fire in bounded stack.
//
// A panic in a callback is recovered and becomes a [*PanicError] in the chain.
// An error still at the end of the chain when the Deferred becomes unreachable
// is reported once, through [OnUnhandledError]'s handler.
//
// The zero value is not usable: create Deferreds with [New] and its siblings.
type Deferred[T any] struct {
	// state holds the flags below. Its lock bit guards every other field,
	// except that the goroutine that set the running bit (the owner) reads
	// and writes result, err, first and second without it while it runs the
	// chain.
	state  atomic.Uint32
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

const (
	sLocked     uint32 = 1 << iota
	sCalled            // fired: result and err are set
	sRunning           // a goroutine owns the chain and is running it
	sSuppress          // the next late fire is ignored (cancelled without a canceller)
	sPaused            // ext.paused > 0
	sWaiting           // waitingOn is set
	sMore              // ext.links holds links
	sMarked            // an unhandled-error report is armed
	sCancelling        // Cancel is calling the canceller
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
)

// New returns a Deferred that has not fired.
func New[T any]() *Deferred[T] {
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
	return &Deferred[T]{ext: &extra[T]{canceller: canceller}}
}

// Succeed returns a Deferred that has already fired with v.
func Succeed[T any](v T) *Deferred[T] {
	checkNotDeferred("Succeed", v)
	d := &Deferred[T]{result: v}
	d.state.Store(sCalled)
	return d
}

// Fail returns a Deferred that has already failed with err. It panics if err
// is nil.
func Fail[T any](err error) *Deferred[T] {
	if err == nil {
		panicMisuse("Fail", errNilError)
	}
	d := &Deferred[T]{err: err}
	d.markLocked()
	d.state.Store(sCalled | sMarked)
	return d
}

// Callback fires the Deferred with v and runs the chain on the calling
// goroutine. Firing a Deferred twice panics with an error that wraps
// [ErrAlreadyCalled], except for the first late fire of a Deferred that was
// cancelled without a canceller, which is ignored. For a Deferred[any], v must
// not itself be a *Deferred[any].
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
// fired it panics naming op, or, for an empty op, reports false.
func (d *Deferred[T]) fire(v T, err error, op string) bool {
	if d.state.CompareAndSwap(0, sCalled|sRunning) {
		d.result, d.err = v, err
		run(d, nil)
		return true
	}
	s := d.lock()
	if s&sCalled != 0 {
		if s&sSuppress != 0 {
			d.unlock(s &^ sSuppress)
			return false
		}
		d.unlock(s)
		if op == "" {
			return false
		}
		panicMisuse(op, ErrAlreadyCalled)
	}
	d.result, d.err = v, err
	s |= sCalled
	if s&(sRunning|sPaused|sWaiting) == 0 {
		d.claimLocked(s)
		run(d, nil)
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
	return d.add(ebFunc[T](f))
}

// AddBoth adds f to the chain, to be called on either path with the result
// and the error (one of them the zero value). It returns d.
func (d *Deferred[T]) AddBoth(f func(T, error) (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Deferred.AddBoth", errNilFunc)
	}
	return d.add(bothFunc[T](f))
}

// AddCallbacks adds cb and eb as one step of the chain: cb runs on the
// success path, eb on the error path, and never both. It returns d.
func (d *Deferred[T]) AddCallbacks(cb func(T) (T, error), eb func(error) (T, error)) *Deferred[T] {
	if cb == nil || eb == nil {
		panicMisuse("Deferred.AddCallbacks", errNilFunc)
	}
	return d.add(&pairFunc[T]{cb: cb, eb: eb})
}

func (d *Deferred[T]) add(l any) *Deferred[T] {
	s := d.lock()
	if s&(sCalled|sMore) == 0 {
		if d.first == nil {
			d.first = l
			d.unlock(s)
			return d
		}
		if d.second == nil {
			d.second = l
			d.unlock(s)
			return d
		}
	}
	if s&(sCalled|sRunning|sPaused|sWaiting) == sCalled {
		// Fired and idle: run at once; a lone new link without storing it.
		if s&sMore == 0 && d.first == nil && d.second == nil {
			d.claimLocked(s)
			run(d, l)
			return d
		}
		d.pushLocked(l)
		d.claimLocked(s | sMore)
		run(d, nil)
		return d
	}
	d.pushLocked(l)
	d.unlock(s | sMore)
	return d
}

// pushLocked appends l to ext.links. Called with the lock held; the caller
// sets sMore.
func (d *Deferred[T]) pushLocked(l any) {
	e := d.extra()
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
	return d.state.Load()&sCalled != 0
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
		run(d, nil)
		return
	}
	d.unlock(s)
}

// lock takes the lock bit and returns the state with it set. Critical
// sections are a few instructions and never run user code.
func (d *Deferred[T]) lock() uint32 {
	for i := 0; ; i++ {
		s := d.state.Load()
		if s&sLocked == 0 && d.state.CompareAndSwap(s, s|sLocked) {
			return s | sLocked
		}
		if i >= 16 {
			runtime.Gosched()
		}
	}
}

// unlock stores s with the lock bit clear. Nobody else changes the state
// while the lock is held, so s is the whole truth.
func (d *Deferred[T]) unlock(s uint32) {
	d.state.Store(s &^ sLocked)
}

// claimLocked makes the calling goroutine the chain's owner and releases the
// lock. A report armed for an error at the end of the chain is disarmed: the
// error is about to be handed to a new link.
func (d *Deferred[T]) claimLocked(s uint32) {
	if s&sMarked != 0 {
		d.ext.cleanup.Stop()
		s &^= sMarked
	}
	d.state.Store((s | sRunning) &^ sLocked)
}

// run runs owned chains: it is entered by the owner of cur, without the
// lock, with l0 (if not nil) as a link to run before any stored one.
//
// Waits are not recursive: when a Deferred's result reaches the continuation
// of a Deferred that waits on it, the waiting one runs in this same loop, and
// the one it came from waits on an explicit stack if it has more to run, as
// in Twisted's _runCallbacks. A Deferred on the stack is not owned: as in
// Twisted, a callback added to it meanwhile runs at once, and a chain that
// waits on it meanwhile takes its current result.
func run[T any](cur *Deferred[T], l0 any) {
	var (
		stack []*Deferred[T]
		batch []any // links taken from cur.ext, not run yet
		done  []any // the emptied batch, for reuse
	)
	anyT := isAny[T]()
	for {
		var l any
		s := cur.state.Load()
		if s&(sPaused|sWaiting) == 0 {
			switch {
			case l0 != nil:
				l, l0 = l0, nil
			case cur.first != nil:
				l, cur.first = cur.first, nil
			case cur.second != nil:
				l, cur.second = cur.second, nil
			case len(batch) > 0:
				l = batch[0]
				batch[0] = nil
				batch = batch[1:]
			case s&sMore != 0:
				s = cur.lock()
				e := cur.ext
				batch, e.links = e.links, nil
				if done != nil && e.spare == nil {
					e.spare, done = done[:0], nil
				}
				cur.unlock(s &^ sMore)
				done = batch
				continue
			}
		}
		if l == nil {
			released := cur.release(batch)
			batch, done = nil, nil
			if !released {
				continue
			}
			if cur = resume(&stack); cur == nil {
				return
			}
			continue
		}
		if outer, ok := l.(*Deferred[T]); ok {
			// A continuation: hand the result to the Deferred waiting on
			// this one. When nothing follows it, it is a tail call and cur
			// is finished.
			v, err := cur.result, cur.err
			var zero T
			cur.result, cur.err = zero, nil
			last := l0 == nil && cur.first == nil && cur.second == nil && len(batch) == 0 && cur.tryRelease()
			so := outer.lock()
			outer.result, outer.err = v, err
			outer.waitingOn = nil
			so &^= sWaiting
			if so&(sRunning|sPaused) == 0 {
				outer.claimLocked(so)
				if !last {
					cur.suspend(batch)
					stack = append(stack, cur)
				}
				cur, batch, done = outer, nil, nil
				continue
			}
			// Its owner, or its Unpause, carries it on.
			outer.unlock(so)
			if last {
				if cur = resume(&stack); cur == nil {
					return
				}
				batch, done = nil, nil
			}
			continue
		}
		v, err := invoke[T](l, cur.result, cur.err)
		if anyT && err == nil {
			if inner, ok := any(v).(*Deferred[T]); ok {
				if inner != cur {
					cur.waitOn(inner)
					continue
				}
				var zero T
				v, err = zero, errReturnedSelf
			}
		}
		cur.result, cur.err = v, err
	}
}

// resume pops Deferreds off run's stack until it can claim one whose chain
// is ready to go on, and returns it owned; nil when the stack is empty. A
// popped Deferred that someone else runs, or that is paused or waits, is
// left to them.
func resume[T any](stack *[]*Deferred[T]) *Deferred[T] {
	for len(*stack) > 0 {
		st := *stack
		d := st[len(st)-1]
		st[len(st)-1] = nil
		*stack = st[:len(st)-1]
		s := d.lock()
		if s&(sCalled|sRunning|sPaused|sWaiting) == sCalled {
			d.claimLocked(s)
			return d
		}
		d.unlock(s)
	}
	return nil
}

// suspend gives up ownership of a chain that still has links to run, so that
// others may run it while a chain waiting on it runs. Links taken but not run
// go back in front of the stored ones.
func (d *Deferred[T]) suspend(batch []any) {
	s := d.lock()
	if len(batch) > 0 {
		d.putBackLocked(batch)
		s |= sMore
	}
	d.state.Store(s &^ (sLocked | sRunning))
}

func (d *Deferred[T]) putBackLocked(batch []any) {
	e := d.ext
	e.links = append(append(make([]any, 0, len(batch)+len(e.links)), batch...), e.links...)
}

// tryRelease gives up ownership if nothing is left to run and nothing holds
// the chain back; it reports whether it did.
func (d *Deferred[T]) tryRelease() bool {
	s := d.state.Load()
	if s&(sLocked|sMore|sPaused|sWaiting) != 0 || d.err != nil {
		return false
	}
	return d.state.CompareAndSwap(s, s&^sRunning)
}

// release gives up ownership of a chain that has run out of links, is paused
// or waits. Links taken but not run go back in front of the stored ones. It
// reports false, still owning the chain, when more work arrived meanwhile.
func (d *Deferred[T]) release(batch []any) bool {
	if len(batch) > 0 || d.err != nil {
		s := d.lock()
		if len(batch) > 0 {
			d.putBackLocked(batch)
			s |= sMore
		}
		if d.err != nil && s&(sMore|sPaused|sWaiting) == 0 && s&sMarked == 0 {
			d.markLocked()
			s |= sMarked
		}
		if s&(sMore|sPaused|sWaiting) == sMore {
			d.unlock(s)
			return false
		}
		d.state.Store(s &^ (sLocked | sRunning))
		return true
	}
	for {
		s := d.state.Load()
		switch {
		case s&sLocked != 0:
			runtime.Gosched()
			continue
		case s&(sMore|sPaused|sWaiting) == sMore:
			return false
		}
		if d.state.CompareAndSwap(s, s&^sRunning) {
			return true
		}
	}
}

// waitOn makes the owned d wait on inner, or takes inner's result at once
// when inner has one to give.
func (d *Deferred[T]) waitOn(inner *Deferred[T]) {
	var zero T
	s := d.lock()
	// Set before inner can see the continuation, so that a result handed
	// over by another goroutine is never lost.
	d.result, d.err = zero, nil
	d.waitingOn = inner
	d.unlock(s | sWaiting)

	si := inner.lock()
	if si&(sCalled|sRunning|sPaused|sWaiting) == sCalled {
		v, err := inner.result, inner.err
		inner.result, inner.err = zero, nil
		if si&sMarked != 0 {
			inner.ext.cleanup.Stop()
			si &^= sMarked
		}
		inner.unlock(si)
		s = d.lock()
		d.result, d.err = v, err
		d.waitingOn = nil
		d.unlock(s &^ sWaiting)
		return
	}
	inner.unlock(inner.linkLocked(si, d))
}

// invoke calls the link's function for the current result, turning a panic
// into a *PanicError.
func invoke[T any](l any, v T, err error) (rv T, rerr error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			rv, rerr = zero, NewPanicError(r)
		}
	}()
	switch f := l.(type) {
	case cbFunc[T]:
		if err == nil {
			return f(v)
		}
	case ebFunc[T]:
		if err != nil {
			return f(err)
		}
	case bothFunc[T]:
		return f(v, err)
	case *pairFunc[T]:
		if err == nil {
			return f.cb(v)
		}
		return f.eb(err)
	}
	return v, err
}

// isAny reports whether T is the empty interface, the one type whose values
// may hold a *Deferred[T] that the chain must wait on.
func isAny[T any]() bool {
	_, ok := any((*T)(nil)).(*any)
	return ok
}

func checkNotDeferred[T any](op string, v T) {
	if isAny[T]() {
		if _, ok := any(v).(*Deferred[T]); ok {
			panicMisuse(op, errFireDeferred)
		}
	}
}
