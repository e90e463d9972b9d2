package cooperate

import (
	"errors"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// Parallel runs body on every value of seq, with at most n of the Deferreds
// it returns unfired at a time, and hands each result to each, on the loop,
// as it arrives: Twisted's parallel(iterable, count, callable) idiom, in
// which count cooperative tasks share one iterator. body starts the work for
// one element somewhere else (a worker process with fn.Call(pool, v), a
// goroutine with reactor.DeferToGoroutine, a network call) and returns the
// Deferred of its result; the returned Deferred fires once every element has
// been handed over.
//
// seq is advanced by a task of c, one element per step, inside c's slices:
// an iterator that is slow to produce takes turns with the loop's other work
// as any task does, and no element is taken from seq while n are in flight.
// body is called right after its element is taken, in the same step. Both
// run on the loop, or on a lane with [WithLanes]. each(i, v) is called on
// c's loop with the element's index in seq (counting from 0) and its result,
// in the order the results arrive, whichever goroutine fires the Deferreds;
// each may be nil.
//
// By default the first failure ends the loop: an error or a panic of body, a
// nil Deferred from body, a Deferred that fails, or an error or a panic of
// each. The Deferreds still in flight are cancelled, seq is released
// (running its pending defers), each is not called again, and the returned
// Deferred fails with an [*ElementError] holding the element's index and
// the error (a *deferred.PanicError for a panic, [ErrNilDeferred] for a nil
// Deferred). With [CollectErrors] the loop goes on instead, and once every
// element has been handed over it fails with an [*ElementErrors] listing
// each failed element, or succeeds if none failed.
//
// Whatever the policy, a panic of seq itself ends the loop as above and
// fails it with the *deferred.PanicError, as do [Cooperator.Stop] (with
// [ErrSchedulerStopped]) and a Stop of the loop's task while seq is still
// being advanced. So does a body or an each that calls [runtime.Goexit] (as
// t.FailNow does), with an [*ElementError] whose error wraps [ErrGoexit]:
// body ends the task's iterator (see [Task]); each ends the loop's goroutine,
// after the returned Deferred has failed. Cancelling the returned Deferred fails it with
// deferred.ErrCancelled at once; on the loop soon after, the Deferreds in
// flight are cancelled and seq is released. From then on each is not
// called (from the loop; a call under way on the loop while another
// goroutine cancels still finishes).
//
// The returned Deferred fires on the loop, after seq has been released, and
// never inside Parallel; but a result that arrives once the loop has
// stopped for good (a [scheduler.StoppableLoop] that refuses it) fails it
// with scheduler.ErrLoopStopped on the goroutine that delivers it, and on a
// loop that had stopped for good before Parallel was called, it has failed
// with an error wrapping scheduler.ErrLoopStopped when Parallel returns.
//
// [WithProgress] counts the elements as they go, for a progress bar. Call
// Parallel on the loop's goroutine, as every method of c. A nil c, seq or
// body, and an n below 1, panic.
func Parallel[T, R any](c *Cooperator, seq iter.Seq[T], n int, body func(T) *deferred.Deferred[R], each func(i int, v R) error, opts ...ParallelOption) *deferred.Deferred[struct{}] {
	s := newParallel("Parallel", c, seq, n, body, opts)
	s.each = each
	out := deferred.NewWithCanceller(func(*deferred.Deferred[struct{}]) { s.cancel() })
	s.fire = func(err error) {
		if err != nil {
			out.Errback(err)
			return
		}
		out.Callback(struct{}{})
	}
	s.start()
	return out
}

// Map runs body on every value of seq, at most n at a time, as [Parallel]
// does, and fires with the results in the order of seq. It fails as Parallel
// does: with the [*ElementError] of the first failure by default, with an
// [*ElementErrors] under [CollectErrors] (the results of the elements that
// succeeded are then not handed over: use Parallel to see them). A nil c,
// seq or body, and an n below 1, panic.
func Map[T, R any](c *Cooperator, seq iter.Seq[T], n int, body func(T) *deferred.Deferred[R], opts ...ParallelOption) *deferred.Deferred[[]R] {
	s := newParallel("Map", c, seq, n, body, opts)
	s.keep = true
	out := deferred.NewWithCanceller(func(*deferred.Deferred[[]R]) { s.cancel() })
	s.fire = func(err error) {
		if err != nil {
			out.Errback(err)
			return
		}
		results := s.results
		s.results = nil
		if results == nil {
			results = []R{}
		}
		out.Callback(results)
	}
	s.start()
	return out
}

// ErrNilDeferred is the error (inside an [*ElementError]) of an element
// whose body, given to [Parallel] or [Map], returned a nil Deferred.
var ErrNilDeferred = errors.New("cooperate: body returned a nil Deferred")

// A ParallelOption changes how [Parallel] and [Map] run. Make them with
// [CollectErrors] and [WithProgress].
type ParallelOption func(*parallelConfig)

type parallelConfig struct {
	collect  bool
	progress *Progress
}

// CollectErrors makes [Parallel] and [Map] go on when an element fails,
// and fail at the end with an [*ElementErrors] that lists every failed
// element, instead of stopping at the first failure.
func CollectErrors() ParallelOption {
	return func(c *parallelConfig) { c.collect = true }
}

// WithProgress makes [Parallel] or [Map] count its elements in p as they
// start and settle. A nil p panics.
func WithProgress(p *Progress) ParallelOption {
	if p == nil {
		panic("cooperate: WithProgress: nil Progress")
	}
	return func(c *parallelConfig) { c.progress = p }
}

// parallel is the state of one Parallel or Map. The step (the task's
// iterator, on the loop or on a lane) and the Deferreds' callbacks (on any
// goroutine) share what mu guards; the rest belongs to the loop.
type parallel[T, R any] struct {
	op   string // "Parallel" or "Map", to name body
	c    *Cooperator
	seq  iter.Seq[T]
	n    int
	body func(T) *deferred.Deferred[R]
	each func(int, R) error
	keep bool // Map: gather the results
	cfg  parallelConfig
	fire func(err error) // fires the returned Deferred, once, on the loop

	// stopping tells the step to take no more elements: the loop has
	// failed, or has been cancelled.
	stopping atomic.Bool

	// fmu is held while the returned Deferred is fired, so that a
	// cancellation on another goroutine either comes first (and the loop
	// does not fire it) or finds it fired.
	fmu       sync.Mutex
	cancelled atomic.Bool // the returned Deferred was cancelled; set under fmu
	outFired  bool        // the loop has fired it; under fmu

	mu       sync.Mutex
	slots    []*slot[R]   // every slot made, busy or free
	free     []*slot[R]   // the free ones
	running  int          // Deferreds in flight
	arrived  []arrival[R] // results not yet handed over
	spare    []arrival[R] // a drained batch, kept for reuse
	draining bool         // a drain is scheduled on the loop
	waiter   func(error)  // the task waits for a free slot
	results  []R          // Map: by index

	// exited is the error of an element whose body called runtime.Goexit,
	// in a step of the task: the task fails, and the loop with this
	// error. Written by the step, read on the loop once the task has ended.
	exited *ElementError

	// On the loop.
	task      *Task
	taskEnded bool
	failure   error // why the loop failed, once it has
	errs      []*ElementError
	fired     bool
}

// An arrival is an element's outcome, waiting to be handed over on the loop.
type arrival[R any] struct {
	i   int
	v   R
	err error
}

func newParallel[T, R any](op string, c *Cooperator, seq iter.Seq[T], n int, body func(T) *deferred.Deferred[R], opts []ParallelOption) *parallel[T, R] {
	switch {
	case c == nil:
		panic("cooperate: " + op + ": nil Cooperator")
	case seq == nil:
		panic("cooperate: " + op + ": nil iterator")
	case body == nil:
		panic("cooperate: " + op + ": nil body")
	case n < 1:
		panic("cooperate: " + op + ": at most n in flight: n must be at least 1")
	}
	s := &parallel[T, R]{op: op, c: c, seq: seq, n: n, body: body}
	for _, o := range opts {
		if o == nil {
			panic("cooperate: " + op + ": nil option")
		}
		o(&s.cfg)
	}
	return s
}

// start adds the loop's task to the Cooperator.
func (s *parallel[T, R]) start() {
	stopped := !s.c.Running()
	s.task = s.c.Cooperate(s.steps)
	done := s.task.Done()
	follow := func() {
		done.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			s.taskDone(err)
			return struct{}{}, nil
		})
	}
	if stopped && s.post(follow) {
		// The task has failed already: fire on the loop, not inside
		// Parallel or Map.
		return
	}
	// On a loop stopped for good, nothing else would run it.
	follow()
}

// steps is the task's iterator: one step per element, and a wait for a
// free slot whenever n are in flight.
func (s *parallel[T, R]) steps(yield func(any) bool) {
	i := 0
	for v := range s.seq {
		if s.stopping.Load() {
			return
		}
		var w Waitable
		if s.startOne(i, v) {
			w = slotWait[T, R]{s}
		}
		i++
		if !yield(w) || s.stopping.Load() {
			return
		}
	}
}

// startOne calls body on element i and follows its Deferred. It reports
// whether n elements are in flight.
func (s *parallel[T, R]) startOne(i int, v T) (full bool) {
	if p := s.cfg.progress; p != nil {
		p.started.Add(1)
	}
	d, err := s.call(i, v)
	s.mu.Lock()
	if s.keep {
		var zero R
		s.results = append(s.results, zero)
	}
	if err != nil {
		s.mu.Unlock()
		s.arrive(nil, i, *new(R), err)
		return false
	}
	var sl *slot[R]
	if k := len(s.free); k > 0 {
		sl = s.free[k-1]
		s.free = s.free[:k-1]
	} else {
		sl = newSlot(s)
		s.slots = append(s.slots, sl)
	}
	sl.i, sl.d = i, d
	s.running++
	full = s.running >= s.n
	s.mu.Unlock()
	d.AddBoth(sl.settled)
	return full
}

// A slot follows one element in flight at a time. Its callback is made
// once, so that following an element costs no allocation.
type slot[R any] struct {
	i       int                   // the element
	d       *deferred.Deferred[R] // its Deferred, nil while the slot is free
	settled func(R, error) (R, error)
}

func newSlot[T, R any](s *parallel[T, R]) *slot[R] {
	sl := &slot[R]{}
	sl.settled = func(v R, err error) (R, error) {
		s.arrive(sl, sl.i, v, err)
		var zero R
		return zero, nil
	}
	return sl
}

// call calls body on element i, turning a panic or a nil Deferred into an
// error. A body that calls runtime.Goexit ends the task's iterator, and so
// the loop, with the element's error (see taskDone).
func (s *parallel[T, R]) call(i int, v T) (d *deferred.Deferred[R], err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			d, err = nil, deferred.NewPanicError(r)
			return
		}
		s.stopping.Store(true)
		s.exited = &ElementError{Index: i, Err: funcGoexit(s.op+" body", s.body)}
		if p := s.cfg.progress; p != nil {
			p.failed.Add(1)
		}
	}()
	d = s.body(v)
	returned = true
	if d == nil {
		return nil, ErrNilDeferred
	}
	return d, nil
}

// arrive records element i's outcome, on whichever goroutine it comes, frees
// its slot (nil for an element that failed before it had one), wakes the
// task if it waits for a slot, and has the loop hand the outcome over.
func (s *parallel[T, R]) arrive(sl *slot[R], i int, v R, err error) {
	if err != nil && !s.cfg.collect {
		s.stopping.Store(true)
	}
	s.mu.Lock()
	if sl != nil {
		sl.d = nil
		s.free = append(s.free, sl)
		s.running--
	}
	s.arrived = append(s.arrived, arrival[R]{i: i, v: v, err: err})
	wake := s.waiter
	s.waiter = nil
	schedule := !s.draining
	s.draining = true
	s.mu.Unlock()
	if wake != nil {
		wake(nil)
	}
	if schedule && !s.post(s.drain) {
		// Nothing will run on the loop again: fail rather than wait.
		s.stopping.Store(true)
		s.deliver(scheduler.ErrLoopStopped)
	}
}

// post asks the loop to run f, and reports false if the loop has stopped
// for good and never will.
func (s *parallel[T, R]) post(f func()) bool {
	if l, ok := s.c.loop.(scheduler.StoppableLoop); ok {
		return l.TryCallSoon(f)
	}
	s.c.loop.CallSoon(f)
	return true
}

// drain hands the outcomes that have arrived over, on the loop.
func (s *parallel[T, R]) drain() {
	s.mu.Lock()
	batch := s.arrived
	s.arrived, s.spare = s.spare[:0], nil
	s.draining = false
	s.mu.Unlock()
	p := s.cfg.progress
	k, handing := 0, false
	defer func() {
		if handing {
			s.eachExited(batch[k:])
		}
	}()
	for ; k < len(batch); k++ {
		a := &batch[k]
		err := a.err
		if err == nil && !s.over() {
			handing = true
			err = s.handOver(a.i, a.v)
			handing = false
		}
		if p != nil {
			if err != nil {
				p.failed.Add(1)
			} else {
				p.done.Add(1)
			}
		}
		if err != nil && !s.over() {
			s.elementFailed(a.i, err)
		}
	}
	clear(batch)
	s.mu.Lock()
	s.spare = batch[:0]
	s.mu.Unlock()
	s.finishIfDone()
}

// eachExited runs on the loop's goroutine as it ends, each having called
// runtime.Goexit on the first of rest: the loop fails with that element's
// error, now, and the elements not handed over count as failed.
func (s *parallel[T, R]) eachExited(rest []arrival[R]) {
	if p := s.cfg.progress; p != nil {
		p.failed.Add(int64(len(rest)))
	}
	s.fail(&ElementError{Index: rest[0].i, Err: funcGoexit(s.op+" each function", s.each)})
	s.finishIfDone()
}

// over reports whether the loop has been decided: nothing more is handed
// over.
func (s *parallel[T, R]) over() bool {
	return s.failure != nil || s.fired || s.cancelled.Load()
}

// handOver gives element i's result to each, or keeps it for Map.
func (s *parallel[T, R]) handOver(i int, v R) (err error) {
	if s.keep {
		s.mu.Lock()
		s.results[i] = v
		s.mu.Unlock()
		return nil
	}
	if s.each == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = deferred.NewPanicError(r)
		}
	}()
	return s.each(i, v)
}

// elementFailed records the failure of element i: the end of the loop, or
// one more error to collect.
func (s *parallel[T, R]) elementFailed(i int, err error) {
	ee := &ElementError{Index: i, Err: err}
	if s.cfg.collect {
		s.errs = append(s.errs, ee)
		return
	}
	s.fail(ee)
}

// fail ends the loop with err: the Deferreds in flight are cancelled and
// the task is stopped, which releases seq.
func (s *parallel[T, R]) fail(err error) {
	if s.failure != nil || s.fired {
		return
	}
	s.failure = err
	s.halt()
}

// halt stops taking elements, cancels the Deferreds in flight and stops the
// task, on the loop.
func (s *parallel[T, R]) halt() {
	s.stopping.Store(true)
	s.mu.Lock()
	var ds []*deferred.Deferred[R]
	for _, sl := range s.slots {
		if sl.d != nil {
			ds = append(ds, sl.d)
		}
	}
	s.mu.Unlock()
	for _, d := range ds {
		d.Cancel()
	}
	if !s.taskEnded {
		_ = s.task.Stop()
	}
}

// cancel is the canceller of the returned Deferred, on any goroutine: the
// Deferred fails with deferred.ErrCancelled as it returns, and the loop
// halts soon after, on its goroutine.
func (s *parallel[T, R]) cancel() {
	s.fmu.Lock()
	if s.outFired {
		s.fmu.Unlock()
		return
	}
	s.cancelled.Store(true)
	s.fmu.Unlock()
	s.stopping.Store(true)
	s.c.loop.CallSoon(func() {
		if !s.fired {
			s.fired = true // Cancel has failed it with ErrCancelled
			s.halt()
		}
	})
}

// deliver fires the returned Deferred with err, unless it was cancelled or
// has fired.
func (s *parallel[T, R]) deliver(err error) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.cancelled.Load() || s.outFired {
		return
	}
	s.outFired = true
	s.fire(err)
}

// taskDone runs on the loop when the task has finished and released seq:
// exhausted, stopped by fail or cancel, or failed by a panic of seq, by
// Cooperator.Stop or by a Stop from elsewhere.
func (s *parallel[T, R]) taskDone(err error) {
	s.taskEnded = true
	if s.exited != nil {
		err = s.exited // rather than the task's: its step called Goexit
	}
	if err != nil && !s.over() {
		s.fail(err)
	}
	s.finishIfDone()
}

// finishIfDone fires the returned Deferred once the loop is over: seq
// released, and, unless the loop failed, every element handed over.
func (s *parallel[T, R]) finishIfDone() {
	if s.fired || !s.taskEnded {
		return
	}
	if s.failure == nil {
		s.mu.Lock()
		busy := s.running > 0 || len(s.arrived) > 0 || s.draining
		s.mu.Unlock()
		if busy {
			return
		}
		if len(s.errs) > 0 {
			s.failure = newElementErrors(s.errs)
			s.errs = nil
		}
	}
	s.fired = true
	s.deliver(s.failure)
}

// slotWait is what the task waits on while n elements are in flight: it
// completes when one of them settles, or at once if one has meanwhile.
type slotWait[T, R any] struct{ s *parallel[T, R] }

func (w slotWait[T, R]) OnComplete(done func(error)) {
	s := w.s
	s.mu.Lock()
	if s.running < s.n || s.stopping.Load() {
		s.mu.Unlock()
		done(nil)
		return
	}
	s.waiter = done
	s.mu.Unlock()
}
