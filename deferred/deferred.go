package deferred

import (
	"sync"
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
	mu     sync.Mutex
	paused int32 // Pause calls not yet undone by Unpause
	next   int32 // index in links of the next link to run
	flags  uint8

	result T
	err    error

	links  []link[T]
	inline [1]link[T] // backing array for the first link: no allocation for short chains

	canceller func(*Deferred[T])
	waitingOn *Deferred[T]   // the Deferred this chain waits on, while it does
	fail      *unhandledMark // set while an error sits unhandled at the end of the chain
}

const (
	flagCalled   uint8 = 1 << iota // fired: result and err are set
	flagRunning                    // a goroutine owns the chain and is running it
	flagSuppress                   // the next late fire is ignored (cancelled without a canceller)
)

// link is one entry of the chain: either a pair of functions, or a
// continuation that hands the result to the Deferred waiting on this one.
type link[T any] struct {
	cb   func(T) (T, error)
	eb   func(error) (T, error)
	both func(T, error) (T, error)
	cont *Deferred[T]
}

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
	return &Deferred[T]{canceller: canceller}
}

// Succeed returns a Deferred that has already fired with v.
func Succeed[T any](v T) *Deferred[T] {
	d := &Deferred[T]{result: v, flags: flagCalled}
	checkNotDeferred("Succeed", v)
	return d
}

// Fail returns a Deferred that has already failed with err. It panics if err
// is nil.
func Fail[T any](err error) *Deferred[T] {
	if err == nil {
		panicMisuse("Fail", errNilError)
	}
	d := &Deferred[T]{err: err, flags: flagCalled}
	d.markUnhandled()
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

// fire sets the result and runs the chain. It reports false, without
// panicking, when the Deferred had already fired and op is empty.
func (d *Deferred[T]) fire(v T, err error, op string) bool {
	d.mu.Lock()
	if d.flags&flagCalled != 0 {
		if d.flags&flagSuppress != 0 {
			d.flags &^= flagSuppress
			d.mu.Unlock()
			return false
		}
		d.mu.Unlock()
		if op == "" {
			return false
		}
		panicMisuse(op, ErrAlreadyCalled)
	}
	d.flags |= flagCalled
	d.result, d.err = v, err
	d.runLocked()
	return true
}

// AddCallback adds f to the chain, to be called with the result when the
// chain is on its success path; an error passes it by. It returns d.
func (d *Deferred[T]) AddCallback(f func(T) (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Deferred.AddCallback", errNilFunc)
	}
	return d.add(link[T]{cb: f})
}

// AddErrback adds f to the chain, to be called with the error when the chain
// is on its error path; a result passes it by. Returning a nil error from f
// moves the chain back to the success path with the value f returned. It
// returns d.
func (d *Deferred[T]) AddErrback(f func(error) (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Deferred.AddErrback", errNilFunc)
	}
	return d.add(link[T]{eb: f})
}

// AddBoth adds f to the chain, to be called on either path with the result
// and the error (one of them the zero value). It returns d.
func (d *Deferred[T]) AddBoth(f func(T, error) (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Deferred.AddBoth", errNilFunc)
	}
	return d.add(link[T]{both: f})
}

// AddCallbacks adds cb and eb as one step of the chain: cb runs on the
// success path, eb on the error path, and never both. It returns d.
func (d *Deferred[T]) AddCallbacks(cb func(T) (T, error), eb func(error) (T, error)) *Deferred[T] {
	if cb == nil || eb == nil {
		panicMisuse("Deferred.AddCallbacks", errNilFunc)
	}
	return d.add(link[T]{cb: cb, eb: eb})
}

func (d *Deferred[T]) add(l link[T]) *Deferred[T] {
	d.mu.Lock()
	d.appendLocked(l)
	if d.flags&flagCalled != 0 {
		d.runLocked()
		return d
	}
	d.mu.Unlock()
	return d
}

func (d *Deferred[T]) appendLocked(l link[T]) {
	if d.links == nil {
		d.links = d.inline[:0:1]
	}
	d.links = append(d.links, l)
}

// Called reports whether the Deferred has been fired.
func (d *Deferred[T]) Called() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flags&flagCalled != 0
}

// Pause stops the chain from running callbacks until a matching
// [Deferred.Unpause]; pauses count, as in Twisted.
func (d *Deferred[T]) Pause() {
	d.mu.Lock()
	d.paused++
	d.mu.Unlock()
}

// Unpause undoes one [Deferred.Pause]; when the last pause is undone and the
// Deferred has fired, the chain goes on, on the calling goroutine. Unpausing
// a Deferred that is not paused panics.
func (d *Deferred[T]) Unpause() {
	d.mu.Lock()
	if d.paused == 0 {
		d.mu.Unlock()
		panicMisuse("Deferred.Unpause", errNotPaused)
	}
	d.paused--
	if d.paused == 0 && d.flags&flagCalled != 0 {
		d.runLocked()
		return
	}
	d.mu.Unlock()
}

// runLocked runs the chain if nobody else is running it and nothing holds it
// back. It is called with d.mu held and returns with it released.
func (d *Deferred[T]) runLocked() {
	if d.flags&flagRunning != 0 || d.paused > 0 || d.waitingOn != nil {
		d.mu.Unlock()
		return
	}
	d.flags |= flagRunning
	d.clearUnhandledLocked()
	run(d)
}

// run runs the chains of owned Deferreds. It is entered with cur.mu held and
// cur owned (flagRunning set by this goroutine); it returns with no lock held.
//
// Waits are not recursive: when a Deferred's result reaches the continuation
// of a Deferred that waits on it, the waiting one is pushed on an explicit
// stack and run in this same loop, as Twisted's _runCallbacks does.
func run[T any](cur *Deferred[T]) {
	var stack []*Deferred[T]
	anyT := isAny[T]()
	for {
		// cur.mu is held and cur is owned here.
		if cur.paused == 0 && cur.waitingOn == nil && int(cur.next) < len(cur.links) {
			l := cur.links[cur.next]
			cur.links[cur.next] = link[T]{}
			cur.next++
			v, err := cur.result, cur.err
			if l.cont != nil {
				outer := l.cont
				var zero T
				cur.result, cur.err = zero, nil
				// A continuation that ends the chain is a tail call: cur is
				// finished and need not wait on the stack for outer.
				last := int(cur.next) == len(cur.links)
				if last {
					cur.links = cur.links[:0]
					cur.next = 0
					cur.flags &^= flagRunning
				}
				cur.mu.Unlock()
				outer.mu.Lock()
				outer.result, outer.err = v, err
				outer.waitingOn = nil
				if outer.flags&flagRunning == 0 && outer.paused == 0 {
					outer.flags |= flagRunning
					if !last {
						stack = append(stack, cur)
					}
					cur = outer
					continue
				}
				// Its owner, or its Unpause, will carry it on.
				outer.mu.Unlock()
				if last {
					if len(stack) == 0 {
						return
					}
					cur = pop(&stack)
				}
				cur.mu.Lock()
				continue
			}
			cur.mu.Unlock()
			v, err = invoke(&l, v, err)
			if anyT && err == nil {
				if inner, ok := any(v).(*Deferred[T]); ok {
					if inner == cur {
						var zero T
						v, err = zero, errReturnedSelf
					} else {
						cur.mu.Lock()
						cur.waitOnLocked(inner)
						continue
					}
				}
			}
			cur.mu.Lock()
			cur.result, cur.err = v, err
			continue
		}
		// Done for now: the chain ran out, is paused, or waits.
		if int(cur.next) == len(cur.links) {
			cur.links = cur.links[:0]
			cur.next = 0
			if cur.err != nil && cur.paused == 0 && cur.waitingOn == nil {
				cur.markUnhandled()
			}
		}
		cur.flags &^= flagRunning
		cur.mu.Unlock()
		if len(stack) == 0 {
			return
		}
		cur = pop(&stack)
		cur.mu.Lock()
	}
}

func pop[T any](stack *[]*Deferred[T]) *Deferred[T] {
	s := *stack
	d := s[len(s)-1]
	s[len(s)-1] = nil
	*stack = s[:len(s)-1]
	return d
}

// waitOnLocked makes the owned d wait on inner, or takes inner's result at
// once when inner has one to give. Entered and left with d.mu held.
func (d *Deferred[T]) waitOnLocked(inner *Deferred[T]) {
	var zero T
	d.result, d.err = zero, nil
	// Set before inner can see the continuation, so that a result handed over
	// by another goroutine is never lost.
	d.waitingOn = inner
	d.mu.Unlock()

	inner.mu.Lock()
	if inner.flags&(flagCalled|flagRunning) == flagCalled && inner.paused == 0 && inner.waitingOn == nil {
		v, err := inner.result, inner.err
		inner.result, inner.err = zero, nil
		inner.clearUnhandledLocked()
		inner.mu.Unlock()
		d.mu.Lock()
		d.waitingOn = nil
		d.result, d.err = v, err
		return
	}
	inner.appendLocked(link[T]{cont: d})
	inner.mu.Unlock()
	d.mu.Lock()
}

// invoke calls the link's function for the current result, turning a panic
// into a *PanicError.
func invoke[T any](l *link[T], v T, err error) (rv T, rerr error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			rv, rerr = zero, NewPanicError(r)
		}
	}()
	switch {
	case l.both != nil:
		return l.both(v, err)
	case err == nil:
		if l.cb != nil {
			return l.cb(v)
		}
	default:
		if l.eb != nil {
			return l.eb(err)
		}
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
