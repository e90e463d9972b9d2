package deferred

import (
	"runtime"
	"sync/atomic"
)

// lock takes the lock bit and returns the state with it set. Critical
// sections are a few instructions and never run user code.
func (d *Deferred[T]) lock() uint32 { return lockState(&d.state) }

// lockState is lock on the state word p. The uncontended case is small
// enough to inline.
func lockState(p *uint32) uint32 {
	s := atomic.LoadUint32(p) | sLocked
	if atomic.CompareAndSwapUint32(p, s&^sLocked, s) {
		return s
	}
	return lockStateSlow(p)
}

// lockStateSlow is lockState when another goroutine holds the lock, or
// takes it first.
func lockStateSlow(p *uint32) uint32 {
	for i := 0; ; i++ {
		s := atomic.LoadUint32(p)
		if s&sLocked == 0 && atomic.CompareAndSwapUint32(p, s, s|sLocked) {
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
	atomic.StoreUint32(&d.state, s&^sLocked)
}

// claimLocked makes the calling goroutine the chain's owner and releases the
// lock. A report armed for an error at the end of the chain is disarmed: the
// error is about to be handed to a new link.
func (d *Deferred[T]) claimLocked(s uint32) {
	if s&sMarked != 0 {
		d.ext.cleanup.Stop()
		s &^= sMarked
	}
	atomic.StoreUint32(&d.state, (s|sRunning)&^sLocked)
}

// run runs owned chains: it is entered by the owner of cur, without the
// lock, with l0 (if not nil) as a link to run before any stored one, and
// batch, links the owner took from cur.ext, to run after cur.first and
// cur.second and before any left in cur.ext.
//
// Waits are not recursive: when a Deferred's result reaches the continuation
// of a Deferred that waits on it, the waiting one runs in this same loop, and
// the one it came from waits on an explicit stack if it has more to run, as
// in Twisted's _runCallbacks. A Deferred on the stack is not owned: as in
// Twisted, a callback added to it meanwhile runs at once, and a chain that
// waits on it meanwhile takes its current result.
//
// A callback that calls runtime.Goexit ends the goroutine, and run with
// it; its deferred call then carries the chains on from where they stood,
// with the error that invoke put in cur's result, before the goroutine ends.
func run[T any](cur *Deferred[T], l0 any, batch []any) {
	runFrom(cur, l0, batch, nil)
}

// runFrom is run with the stack of Deferreds to resume after cur.
func runFrom[T any](cur *Deferred[T], l0 any, batch []any, stack []*Deferred[T]) {
	finished := false
	defer func() {
		if !finished {
			runFrom(cur, nil, batch, stack)
		}
	}()
	done := batch // the emptied batch, for reuse
	anyT := isAny[T]()
	for {
		var l any
		s := atomic.LoadUint32(&cur.state)
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
				finished = true
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
					finished = true
					return
				}
				batch, done = nil, nil
			}
			continue
		}
		v, err := invoke(cur, l, cur.result, cur.err, false)
		if anyT && err == nil {
			if inner, ok := asDeferred(v); ok {
				var zero T
				switch inner {
				case cur:
					v, err = zero, errReturnedSelf
				case nil:
					v, err = zero, errReturnedNil
				default:
					cur.waitOn(inner)
					continue
				}
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
	atomic.StoreUint32(&d.state, s&^(sLocked|sRunning))
}

func (d *Deferred[T]) putBackLocked(batch []any) {
	e := d.ext
	e.links = append(append(make([]any, 0, len(batch)+len(e.links)), batch...), e.links...)
}

// tryRelease gives up ownership if nothing is left to run and nothing holds
// the chain back; it reports whether it did.
func (d *Deferred[T]) tryRelease() bool {
	s := atomic.LoadUint32(&d.state)
	if s&(sLocked|sMore|sPaused|sWaiting) != 0 || d.err != nil {
		return false
	}
	return atomic.CompareAndSwapUint32(&d.state, s, s&^sRunning)
}

// release gives up ownership of a chain that has run out of links, is paused
// or waits. Links taken but not run go back in front of the stored ones. It
// reports false, still owning the chain, when the chain can go on after all:
// more work arrived, or the pause or the wait ended meanwhile (the Unpause
// or the Deferred waited on found the chain owned and left it to its owner).
//
// While the chain waits, the result and error belong to the continuation
// that will deliver the awaited result: they are read only once the state
// says the wait is over.
func (d *Deferred[T]) release(batch []any) bool {
	for {
		s := atomic.LoadUint32(&d.state)
		if s&sLocked != 0 {
			runtime.Gosched()
			continue
		}
		free := s&(sPaused|sWaiting) == 0
		if len(batch) == 0 && free && (s&sMore != 0 || d.first != nil || d.second != nil) {
			return false
		}
		if len(batch) > 0 || (free && d.err != nil && s&sMarked == 0) {
			s = d.lock()
			if len(batch) > 0 {
				d.putBackLocked(batch)
				batch = nil
				s |= sMore
			}
			if s&(sPaused|sWaiting) == 0 {
				if s&sMore != 0 || d.first != nil || d.second != nil {
					d.unlock(s)
					return false
				}
				if d.err != nil && s&sMarked == 0 {
					d.markLocked()
					s |= sMarked
				}
			}
			atomic.StoreUint32(&d.state, s&^(sLocked|sRunning))
			return true
		}
		if atomic.CompareAndSwapUint32(&d.state, s, s&^sRunning) {
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

// invoke calls the link's function for the current result of d, which the
// caller owns, turning a panic into a *PanicError.
//
// A function that calls runtime.Goexit never returns: the error that says
// so goes into d's result, where the caller's run finds it as it carries
// the chain on (see run). With alone set, no run is above: the caller is
// fire's fast path, and invoke carries d's chain on itself.
func invoke[T any](d *Deferred[T], l any, v T, err error, alone bool) (rv T, rerr error) {
	returned := false
	defer func() {
		if !returned {
			rv, rerr = d.unwound(l, alone, recover())
		}
	}()
	switch f := l.(type) {
	case cbFunc[T]:
		if err == nil {
			rv, rerr = f(v)
			returned = true
			return rv, rerr
		}
	case ebFunc[T]:
		if err != nil {
			rv, rerr = f(err)
			returned = true
			return rv, rerr
		}
	case bothFunc[T]:
		rv, rerr = f(v, err)
		returned = true
		return rv, rerr
	case *pairFunc[T]:
		if err == nil {
			rv, rerr = f.cb(v)
		} else {
			rv, rerr = f.eb(err)
		}
		returned = true
		return rv, rerr
	case relayFunc[T]:
		rv, rerr = f(v, err)
		returned = true
		return rv, rerr
	}
	returned = true
	return v, err
}

// unwound is invoke's deferred call for a link l that did not return: it
// panicked with r, or, for a nil r, called runtime.Goexit. d's result and
// error are still the ones l was given.
func (d *Deferred[T]) unwound(l any, alone bool, r any) (T, error) {
	var zero T
	if r != nil {
		return zero, NewPanicError(r)
	}
	var err error
	if _, ok := l.(relayFunc[T]); !ok {
		err = linkGoexit[T](l, d.err)
	}
	// A relay had handed the result on: the Goexit belongs to the chain
	// it went to, which has seen to it, and d goes on with nothing.
	d.result, d.err = zero, err
	if alone {
		// d is no longer this goroutine's once run returns.
		run(d, nil, nil)
	}
	return zero, err
}
