package deferred

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// Async runs body as straight-line code that waits for Deferreds with
// [Await], and returns a Deferred that fires with body's result: Twisted's
// inlineCallbacks and ensureDeferred.
//
// Order. The body starts at once, and Async does not return until the body
// either returns or waits on a Deferred that has no result yet: everything
// the body did up to that point is visible to the caller when Async returns.
// Awaiting a Deferred that has its result takes it at once, with no goroutine
// switch. When a Deferred the body waits on fires, the body resumes, and the
// goroutine that fired it is blocked until the body waits again or returns. So
// the body's code never runs at the same time as its caller's or its firer's,
// and needs no more locking than a callback would.
//
// Result. The returned Deferred fires with what body returns. If the body
// never waited, it has fired when Async returns; otherwise it fires on the
// goroutine that resumed the body last, once the body has handed control
// back. A panic in the body fails it with a [*PanicError]; a body that calls
// [runtime.Goexit] (as t.FailNow does) fails it with an error wrapping
// [ErrGoexit].
// For a T of any, a Deferred of any element type returned by the body is
// waited on, as a callback's would be.
//
// Cancellation. Cancelling the returned Deferred cancels the Deferred the body
// waits on; the body sees that Deferred's error (usually [ErrCancelled]) from
// Await, on the cancelling goroutine, and may handle it. As in Twisted, the
// returned Deferred then fires with whatever the body goes on to return: if
// the body lets the error through, it fails before Cancel returns; if the
// body handles the error and waits on another Deferred, it goes on waiting,
// and a second Cancel cancels that other one. A Cancel is never lost: when it
// cannot end a wait (the body runs between waits, or the Deferred it waits on
// has fired already, for instance on another goroutine at the same moment),
// it cancels the next Deferred with no result that the body waits on, as
// soon as the body does. After the body has returned, Cancel does nothing. If
// the returned Deferred was fired by other means first, the body's result is
// dropped, and an error it returned is reported through [OnUnhandledError]'s
// handler.
//
// Goroutines. The body runs on a goroutine that Async starts and that belongs
// to this Async alone; it ends when the body returns, panics or exits, so no
// goroutine outlives a finished, failed or cancelled Async. Code that depends
// on the goroutine or the OS thread it runs on (such as
// [runtime.LockOSThread]) sees the body's goroutine, not the caller's or the
// firer's. While the body waits, its goroutine is parked, for as long as
// nothing fires or cancels what it waits on: a body that waits on a Deferred
// that never fires, in an Async that is never cancelled, holds its goroutine
// for ever, as a goroutine blocked on a channel would. Bound such waits with
// [WithContext] or [Deferred.AddTimeout] on the returned Deferred. (Async does
// not stop the goroutine when the Deferreds become unreachable: that would
// run the body's deferred calls at an arbitrary time, beside code they expect
// never to run beside.)
//
// Async panics if body is nil.
func Async[T any](body func(a *Awaiter) (T, error)) *Deferred[T] {
	if body == nil {
		panicMisuse("Async", errNilFunc)
	}
	s := &asyncRun[T]{a: Awaiter{state: stateRunning}, body: body}
	s.a.owner = s
	if debugging.Load() {
		s.out.state = sDebug
		s.out.noteCreated(false)
	}
	go s.main()
	s.awaitHandBack()
	if s.w != nil {
		// The body has waited: out was made ready then, and is where the
		// result goes (it may even be there already).
		if s.ended {
			s.deliver()
		}
		return &s.out
	}
	// The body returned without ever waiting: no one can cancel it, so a
	// fired Deferred will do.
	v, err := s.out.result, s.out.err
	if err != nil {
		return Fail[T](err)
	}
	if inner, ierr, ok := bodyDeferred(v); ok {
		if ierr != nil {
			return Fail[T](ierr)
		}
		return inner
	}
	// Fired with v, as Succeed(v) would be: v is in place already.
	if info := s.out.debug(); info != nil {
		info.noteFired(info.created)
	}
	s.out.state |= sCalled
	return &s.out
}

// bodyDeferred reports whether v, what a body returned without an error, is
// a Deferred for the Async's Deferred to wait on: only when T is any.
// A nil one is misuse, and err says so.
func bodyDeferred[T any](v T) (inner *Deferred[T], err error, ok bool) {
	if inner, ok = asDeferred(v); ok && inner == nil {
		err = &misuse{op: "Async", err: errNilDeferred}
	}
	return inner, err, ok
}

// Await waits until d fires and returns its result: Twisted's
// "x = yield d" in an inlineCallbacks function, or "x = await d" in a
// coroutine.
//
// If d has a result, Await takes it at once and returns. Otherwise the body
// parks, the goroutine that ran it goes on, and the body resumes, on its own
// goroutine, when d fires. Awaiting consumes d's result, as in Twisted: d's
// chain goes on with the zero value and no error, and an error returned by
// Await counts as handled.
//
// Await must be called by the body that a was given to, on the body's own
// goroutine: not in a goroutine the body starts, nor in the body of another
// Async. It panics if a or d is nil, after the body has returned, and when it
// is called while the body waits in another Await (which only another
// goroutine can do). Builds with the race detector also check the calling
// goroutine on every call.
func Await[T any](a *Awaiter, d *Deferred[T]) (T, error) {
	if a == nil {
		panicMisuse("Await", errNilAwaiter)
	}
	if d == nil {
		panicMisuse("Await", errNilDeferred)
	}
	a.check()
	if v, err, ok := d.take(); ok {
		return v, err
	}
	w := a.w
	if w == nil {
		// The body's first wait on a Deferred with no result. No other
		// goroutine can reach a.w before the body hands back.
		w = a.owner.prepare()
		a.w = w
	}
	c, ok := w.cell.(*awaitCell[T])
	if !ok {
		c = &awaitCell[T]{a: a}
		c.receiveFn = c.receive
		w.cell = c
	}
	return c.wait(d)
}

// Awaiter is the handle an [Async] body waits with: pass it to [Await]. It
// belongs to one run of one body and is valid only while that body runs; the
// zero value is not usable.
type Awaiter struct {
	state      uint32     // stateRunning and so on, accessed only through sync/atomic; changed with w.mu held once w is made
	handedBack bool       // the body has handed control back to Async's caller (body's goroutine only)
	w          *waits     // made at the body's first wait on a Deferred with no result
	owner      asyncOwner // the Async this Awaiter belongs to
	goid       uint64     // the body's goroutine, in race builds
}

// waits is what an Awaiter needs once its body waits on a Deferred that has
// no result: most bodies never do, or not before their Async returns.
type waits struct {
	mu   sync.Mutex
	cell any // the *awaitCell of the last wait, reused by the next of the same type (body's goroutine only)
	// The current wait, numbered waitSeq: awaited is the Deferred it waits
	// on, until its result comes.
	awaited interface{ Cancel() }
	waitSeq uint64
	// A Cancel that found no wait to cancel: the body's next wait is
	// cancelled at once.
	cancelPending bool
	// A Cancel sent to wait cancelSeq whose outcome is not known yet. While
	// its call to the awaited Deferred's Cancel runs (cancelling), a result
	// that comes on the calling goroutine, cancelG, is the Cancel's doing.
	cancelSeq    uint64
	cancelG      uint64
	cancelling   bool
	cancelLanded bool

	// The goroutine that resumes the body sends on resume, then receives on
	// yield the body's next hand-back: false when it parks again, true when
	// it has returned.
	resume chan struct{}
	yield  chan bool
}

// The states of an Awaiter.
const (
	stateRunning uint32 = iota + 1 // the body runs
	stateWaiting                   // the body waits on awaited: parked, or about to be
	stateDone                      // the body has returned
)

// The states of an awaitCell, for one wait.
const (
	cellPending uint32 = iota // no result yet
	cellDone                  // the result is in the cell
	cellParked                // the body has parked for it
)

// awaitCell receives the result of the Deferred the body waits on. Its
// callback is made once per Awaiter and type and reused by later waits.
type awaitCell[T any] struct {
	a         *Awaiter
	seq       uint64 // the wait it serves
	state     atomic.Uint32
	v         T
	err       error
	receiveFn func(T, error) (T, error)
}

// wait adds the cell's callback to d and parks the body until it runs: the
// slow path of Await.
func (c *awaitCell[T]) wait(d *Deferred[T]) (T, error) {
	a := c.a
	c.state.Store(cellPending)
	w := a.w
	w.mu.Lock()
	w.waitSeq++
	c.seq = w.waitSeq
	w.awaited = d
	atomic.StoreUint32(&a.state, stateWaiting)
	pending := w.cancelPending
	w.cancelPending = false
	w.mu.Unlock()

	d.AddBoth(c.receiveFn)
	if pending {
		g := goroutineID()
		w.mu.Lock()
		if !w.cancelWait(g) {
			w.cancelPending = true // d had its result already: cancel the next wait
		}
		w.mu.Unlock()
	}
	if c.state.CompareAndSwap(cellPending, cellParked) {
		a.handBack(false)
		<-w.resume // receive has set stateRunning
	} else {
		// The result came while the wait was being set up.
		w.mu.Lock()
		atomic.StoreUint32(&a.state, stateRunning)
		w.mu.Unlock()
	}
	v, err := c.v, c.err
	var zero T
	c.v, c.err = zero, nil
	return v, err
}

// receive is the callback a wait adds to the awaited Deferred: it keeps the
// result and, if the body has parked for it, resumes the body and blocks
// until the body parks again or returns. It consumes the result.
func (c *awaitCell[T]) receive(v T, err error) (T, error) {
	c.v, c.err = v, err
	a := c.a
	w := a.w
	w.mu.Lock()
	w.awaited = nil
	if w.cancelSeq == c.seq {
		if w.cancelling {
			w.cancelLanded = goroutineID() == w.cancelG
		} else {
			// The Cancel sent to this wait returned before the result
			// came: unless the result is the cancellation, it came by
			// other means, and the next wait is cancelled instead.
			w.cancelSeq = 0
			if !errors.Is(err, ErrCancelled) {
				w.cancelPending = true
			}
		}
	}
	parked := !c.state.CompareAndSwap(cellPending, cellDone)
	if parked {
		atomic.StoreUint32(&a.state, stateRunning)
	}
	w.mu.Unlock()
	if parked {
		w.resume <- struct{}{}
		if <-w.yield {
			a.owner.deliver()
		}
	}
	var zero T
	return zero, nil
}

// cancelWait cancels the current wait, if its result has not come, from
// goroutine g. It is called with mu held, and returns with it held, but
// releases it meanwhile. It reports whether the cancellation is spent: it
// made the result come, or the result has still not come (receive then
// tells). It reports false when there was no wait to cancel, or when the
// result came by other means first.
func (w *waits) cancelWait(g uint64) bool {
	if w.awaited == nil {
		return false
	}
	d, seq := w.awaited, w.waitSeq
	w.cancelSeq, w.cancelG, w.cancelling, w.cancelLanded = seq, g, true, false
	w.mu.Unlock()
	d.Cancel() // may run the body, here, until it waits again or returns
	w.mu.Lock()
	if w.cancelSeq != seq {
		return true // another Cancel of this wait took over
	}
	w.cancelling = false
	if w.waitSeq == seq && w.awaited != nil {
		return true
	}
	w.cancelSeq = 0
	return w.cancelLanded
}

// handBack gives control back to the goroutine that ran the body, which is
// blocked until then: Async's caller the first time, the last resumer after.
// ended says that the body has returned. Called on the body's goroutine.
func (a *Awaiter) handBack(ended bool) {
	if !a.handedBack {
		a.handedBack = true
		a.owner.release(ended)
		return
	}
	a.w.yield <- ended
}

// check panics unless the body that owns a is running: the guard of every
// Await. Its common case is inlined.
func (a *Awaiter) check() {
	if atomic.LoadUint32(&a.state) != stateRunning || checkAwaitGoroutine {
		a.checkSlow()
	}
}

func (a *Awaiter) checkSlow() {
	switch atomic.LoadUint32(&a.state) {
	case stateRunning:
		if checkAwaitGoroutine && goroutineID() != a.goid {
			panicMisuse("Await", errAwaiterGoroutine)
		}
	case stateWaiting:
		panicMisuse("Await", errAwaiterGoroutine)
	case stateDone:
		panicMisuse("Await", errAwaiterDone)
	default:
		panicMisuse("Await", errAwaiterZero)
	}
}

// asyncOwner is the typed side of an Awaiter: its Async.
type asyncOwner interface {
	prepare() *waits    // make the Async ready for waits, at the body's first (body's goroutine)
	release(ended bool) // let Async's caller go on
	deliver()           // fire the Async's Deferred with the body's result
}

// asyncRun is one call of Async.
type asyncRun[T any] struct {
	a    Awaiter
	body func(*Awaiter) (T, error) // until the body starts

	// hand tells Async's caller that the body has handed control back for
	// the first time (handBackDone), or tells the body that the caller has
	// gone to sleep on wake (handBackSleep).
	hand  atomic.Uint32
	ended bool          // the body had returned at its first hand-back
	wake  chan struct{} // made by the caller when it goes to sleep

	// out is Async's Deferred: made ready to be cancelled at the body's
	// first wait, or, when the body returns without waiting, fired by
	// Async with the result the body left in it.
	out Deferred[T]
	w   *asyncWaits[T] // made at the body's first wait
}

// asyncWaits is the side of an Async that only a body that waits needs.
type asyncWaits[T any] struct {
	waits
	outExt extra[T]     // out's
	target *Deferred[T] // where the result goes: out, or what out follows after a Cancel; guarded by mu
	v      T            // the body's result, once it has returned; guarded by mu
	err    error

	// dmu makes delivery whole: a Cancel that finds the body returned does
	// not return before the result is in target, so that Cancel never fails
	// target with ErrCancelled instead.
	dmu       sync.Mutex
	delivered bool
}

// main runs the body on the Async's goroutine.
func (s *asyncRun[T]) main() {
	a := &s.a
	if checkAwaitGoroutine {
		a.goid = goroutineID()
	}
	var (
		v        T
		err      error
		returned bool
	)
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				err = NewPanicError(r)
			} else {
				err = errBodyGoexit
			}
		}
		w := s.w
		if w == nil {
			// The body never waited: Async's caller is still blocked,
			// and no other goroutine can reach s. The result goes
			// straight into out, which Async fires.
			s.out.result, s.out.err = v, err
			atomic.StoreUint32(&a.state, stateDone)
			a.handedBack = true
			s.release(true)
			return
		}
		w.mu.Lock()
		w.v, w.err = v, err
		w.awaited = nil
		w.cell = nil
		atomic.StoreUint32(&a.state, stateDone)
		w.mu.Unlock()
		a.handBack(true)
	}()
	body := s.body
	s.body = nil
	v, err = body(a)
	returned = true
}

func (s *asyncRun[T]) prepare() *waits {
	w := &asyncWaits[T]{target: &s.out}
	w.resume = make(chan struct{})
	w.yield = make(chan bool)
	w.outExt.canceller = s.cancel
	s.out.ext = &w.outExt // as NewWithCanceller(s.cancel) would
	s.w = w
	return &w.waits
}

func (s *asyncRun[T]) release(ended bool) {
	s.ended = ended
	if !s.hand.CompareAndSwap(0, handBackDone) {
		close(s.wake) // the caller sleeps
	}
}

// The values of asyncRun.hand.
const (
	handBackDone uint32 = iota + 1
	handBackSleep
)

// awaitHandBack blocks Async's caller until the body first hands back: it
// sleeps, unless the body has handed back already. It does not yield to the
// body with runtime.Gosched, which would be cheaper still: a yield puts the
// caller behind every goroutine ready to run, where the body's wake-up puts
// it first, and a reactor that calls Async must not wait behind other
// goroutines' time slices.
func (s *asyncRun[T]) awaitHandBack() {
	if s.hand.Load() == handBackDone {
		return
	}
	s.wake = make(chan struct{})
	if s.hand.CompareAndSwap(0, handBackSleep) {
		<-s.wake
	}
}

// deliver fires the target with the body's result, once, for whoever calls
// it first: the goroutine the body handed control back to when it returned,
// or a Cancel that found it returned.
func (s *asyncRun[T]) deliver() {
	w := s.w
	w.dmu.Lock()
	defer w.dmu.Unlock()
	if w.delivered {
		return
	}
	w.delivered = true
	w.mu.Lock()
	t, v, err := w.target, w.v, w.err
	var zero T
	w.v, w.err = zero, nil
	w.mu.Unlock()
	if err == nil {
		if inner, ierr, ok := bodyDeferred(v); ok {
			if ierr == nil {
				t.follow(inner)
				return
			}
			v, err = zero, ierr
		}
	}
	if !t.fire(v, err, "") && err != nil {
		reportUnhandled(err)
	}
}

// cancel is the canceller of the Async's Deferred d (and of the ones it
// follows after a Cancel): it cancels what the body waits on, or else its
// next wait, and keeps d waiting for the body's result if the body goes on.
func (s *asyncRun[T]) cancel(d *Deferred[T]) {
	a, w := &s.a, s.w
	g := goroutineID()
	w.mu.Lock()
	for {
		if atomic.LoadUint32(&a.state) == stateDone {
			w.mu.Unlock()
			s.deliver()
			return
		}
		if w.awaited == nil {
			w.cancelPending = true // the body runs: cancel its next wait
			break
		}
		if w.cancelWait(g) {
			break
		}
		// The result came by other means first and the body went on: look
		// again at where it is now.
	}
	if atomic.LoadUint32(&a.state) == stateDone {
		w.mu.Unlock()
		s.deliver()
		return
	}
	if w.target != d {
		// The body, run by the Cancel above, cancelled d itself: d
		// already follows a newer target.
		w.mu.Unlock()
		return
	}
	next := NewWithCanceller(s.cancel)
	w.target = next
	w.mu.Unlock()
	d.follow(next)
}

// take consumes d's result if d has one to give now, as a callback added at
// the end of its chain that returns the zero value would; it reports false,
// and leaves d alone, if d has not fired or its chain is not at rest.
func (d *Deferred[T]) take() (v T, err error, ok bool) {
	if atomic.LoadUint32(&d.state) == sCalled && atomic.CompareAndSwapUint32(&d.state, sCalled, sCalled|sLocked) {
		// The common case, a fired Deferred at rest with nothing else to
		// look at, locked in one step.
		v, err = d.result, d.err
		var zero T
		d.result, d.err = zero, nil
		d.unlock(sCalled)
		return v, err, true
	}
	return d.takeSlow()
}

func (d *Deferred[T]) takeSlow() (v T, err error, ok bool) {
	if atomic.LoadUint32(&d.state)&sCalled == 0 {
		// Not fired: no need to lock it to know. If it fires now, the
		// wait that follows finds out.
		return v, nil, false
	}
	s := d.lock()
	if s&(sCalled|sRunning|sPaused|sWaiting) != sCalled {
		d.unlock(s)
		return v, nil, false
	}
	if s&sMarked != 0 {
		d.ext.cleanup.Stop()
		s &^= sMarked
	}
	v, err = d.result, d.err
	var zero T
	d.result, d.err = zero, nil
	d.unlock(s)
	return v, err, true
}

// checkAwaitGoroutine turns on the exact goroutine check of Await. Race
// builds set it: reading a goroutine's id costs a stack trace.
var checkAwaitGoroutine = false

// goroutineID returns the calling goroutine's id, read from the first line
// of its stack trace ("goroutine 12 [running]:"). It costs a stack trace, so
// it is used only where that is cheap enough: on every Await in race builds,
// and when an Async is cancelled, to tell whether the result of the wait
// came from the Cancel.
func goroutineID() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	const prefix = "goroutine "
	if n <= len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range buf[len(prefix):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// Errors of Async and Await.
var (
	errNilAwaiter             = errors.New("deferred: nil Awaiter")
	errAwaiterZero            = errors.New("deferred: Awaiter not made by Async")
	errAwaiterDone            = errors.New("deferred: Awaiter used after its Async body returned")
	errAwaiterGoroutine       = errors.New("deferred: Awaiter used outside its Async body's goroutine")
	errBodyGoexit       error = &goexitError{what: "Async body"}
)
