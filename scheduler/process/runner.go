package process

import (
	"sync"

	"github.com/twinego/twine/deferred"
)

// Runner runs the calls of registered functions, wherever it keeps its
// workers: a [*Pool] runs them in worker processes of this machine, the Pool
// of scheduler/remote on workers reached through a message broker. [Func.Call]
// takes any Runner, so the same function, and the code built on its
// Deferreds (a parallel loop, say), runs on one or the other unchanged.
//
// RunCall is given each call once, from the goroutine that called
// Func.Call, and must settle it exactly once ([Call.Settle]), with its
// result or an error, on the goroutine that the Runner promises its
// callbacks to (its loop, for the pools here), and never inside RunCall
// itself: the Deferred that Func.Call returns does not fire before Func.Call
// has returned it. A Runner that can drop a call still waiting, or stop one
// running, says so with [Call.OnCancel]. RunCall must be safe to use from any
// goroutine.
type Runner interface {
	RunCall(c *Call)
}

// The states of a Call: it leaves callPending once, for callCancelled when
// its Deferred is cancelled, for callSettled when its outcome is delivered.
const (
	callPending = iota
	callCancelled
	callSettled
)

// Call is one call of a registered function on a [Runner]: what a Runner
// needs to send the argument somewhere, to take the result back, and to fire
// the Deferred that [Func.Call] returned. Its methods are safe to use from
// any goroutine, except as noted. Calls are made by Func.Call only; the zero
// value is not usable.
type Call struct {
	e    *entry
	impl callImpl

	// mu is held while the outcome is delivered, so that a cancellation
	// racing with it on another goroutine waits, then finds the Deferred
	// fired and does nothing.
	mu       sync.Mutex
	state    int
	onCancel func()
}

// callImpl is the typed half of a Call.
type callImpl interface {
	argPtr() any
	decode(dec Decoder, data []byte) error
	fire(err error)
}

// typedCall is a call made through a Runner other than *Pool.
type typedCall[A, R any] struct {
	Call
	d   *deferred.Deferred[R]
	arg A
	val R
}

func (c *typedCall[A, R]) argPtr() any { return &c.arg }

func (c *typedCall[A, R]) decode(dec Decoder, data []byte) error {
	return dec.Decode(data, &c.val)
}

func (c *typedCall[A, R]) fire(err error) {
	if err != nil {
		c.d.Errback(err)
		return
	}
	v := c.val
	var zero R
	c.val = zero
	c.d.Callback(v)
}

// newTypedCall makes the call of e with arg, and its Deferred, whose
// cancellation goes through the Call.
func newTypedCall[A, R any](e *entry, arg A) *typedCall[A, R] {
	c := &typedCall[A, R]{arg: arg}
	c.e, c.impl = e, c
	c.d = deferred.NewWithCanceller(func(*deferred.Deferred[R]) { c.cancel() })
	return c
}

// Func returns the name the function was registered under.
func (c *Call) Func() string { return c.entry("Call.Func").name }

// Signature returns the function's type as the registry writes it, such as
// "func(int) (int, error)": two processes that agree on a name and a
// signature agree on the function.
func (c *Call) Signature() string { return c.entry("Call.Signature").sig }

// AppendArg appends the encoding of the call's argument by enc to dst and
// returns the extended slice, or dst and the encoder's error. An argument of
// a zero-size type encodes as nothing at all. The argument is the value given
// to Func.Call, read now: a Runner that encodes it later has to say so to
// its users, as [Func.Call] does.
func (c *Call) AppendArg(dst []byte, enc Encoder) ([]byte, error) {
	e := c.entry("Call.AppendArg")
	if enc == nil {
		panic("process: Call.AppendArg: nil Encoder")
	}
	if e.argEmpty {
		return dst, nil
	}
	return enc.Encode(dst, c.impl.argPtr())
}

// DecodeResult decodes data, the encoding of the function's result made by
// the peer of dec, and keeps the result for [Call.Settle]. A result of a
// zero-size type is not decoded at all. It may be called on any goroutine,
// but by one at a time, and before Settle.
func (c *Call) DecodeResult(data []byte, dec Decoder) error {
	e := c.entry("Call.DecodeResult")
	if dec == nil {
		panic("process: Call.DecodeResult: nil Decoder")
	}
	if e.resEmpty {
		return nil
	}
	return c.impl.decode(dec, data)
}

// Settle fires the call's Deferred: with the result that DecodeResult kept
// (the zero value of the result type if none was) when err is nil, with err
// otherwise. The Deferred's callbacks run inside Settle, on its goroutine:
// call it on the Runner's loop. It reports whether it fired the Deferred; it
// does nothing and returns false once the call has been settled or
// cancelled.
func (c *Call) Settle(err error) bool {
	c.entry("Call.Settle")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != callPending {
		return false
	}
	c.state = callSettled
	c.impl.fire(err)
	return true
}

// OnCancel sets f to run when the call's Deferred is cancelled before the
// call is settled: on the goroutine that cancels, before the Deferred fails
// with deferred.ErrCancelled. A Runner sets it in RunCall, to drop the call
// if it is still waiting or to tell its worker to stop it; a later
// [Call.Settle] does nothing. A nil f panics; setting it again replaces it.
func (c *Call) OnCancel(f func()) {
	c.entry("Call.OnCancel")
	if f == nil {
		panic("process: Call.OnCancel: nil function")
	}
	c.mu.Lock()
	c.onCancel = f
	c.mu.Unlock()
}

// cancel is the canceller of the call's Deferred.
func (c *Call) cancel() {
	c.mu.Lock()
	if c.state != callPending {
		c.mu.Unlock()
		return
	}
	c.state = callCancelled
	f := c.onCancel
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

func (c *Call) entry(method string) *entry {
	if c == nil || c.e == nil {
		panic("process: " + method + ": Call not made by Func.Call")
	}
	return c.e
}

// RunCall runs c on a worker of p, as [Func.Call] with p does: a Pool is a
// [Runner], so that a Runner that wraps another (one that counts or limits
// calls, say) can hand its calls on to a Pool. A nil p or c panics.
func (p *Pool) RunCall(c *Call) {
	if p == nil {
		panic("process: Pool.RunCall: nil Pool")
	}
	e := c.entry("Pool.RunCall")
	t := &runnerTask{c: c}
	t.init(p, e, c.impl.argPtr(), t)
	c.OnCancel(func() { p.cancel(&t.task) })
	p.submit(&t.task)
}

// runnerTask is the pool's task for a Call given to RunCall.
type runnerTask struct {
	task
	c *Call
}

func (t *runnerTask) decode(dec Decoder, data []byte, item bool) error {
	if item {
		return nil
	}
	return t.c.DecodeResult(data, dec)
}

func (t *runnerTask) fire(err error) { t.c.Settle(err) }
func (t *runnerTask) deliver()       {}
func (t *runnerTask) dropArg()       {}
