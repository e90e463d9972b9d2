package process

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/deferred"
)

// A task's state. It leaves pending once: for cancelled when its Deferred is
// cancelled, for done when its outcome is delivered.
const (
	statePending int32 = iota
	stateCancelled
	stateDone
)

// task is one call or stream, from Call to the delivery of its outcome.
type task struct {
	p     *Pool
	e     *entry
	arg   any
	state atomic.Int32
	impl  taskImpl

	// fmu is held while the outcome is delivered, so that a Cancel racing
	// with the delivery on another goroutine waits for it to finish, and
	// then finds the Deferred fired (and does nothing) instead of failing it
	// just before the result arrives.
	fmu sync.Mutex

	// Guarded by p.mu.
	w        *worker     // the worker it was sent to, or nil while queued
	id       uint64      // its request id on that worker
	queued   bool        // in the pool's queue
	dead     bool        // cancelled while queued, and counted in p.qdead
	timer    *time.Timer // the task timeout, if any
	timedOut bool
	stopping bool        // its worker has been told to cancel it
	grace    *time.Timer // the cancel grace, once stopping
	stuck    bool        // stopping for longer than the grace, and counted in w.stuck
}

// taskImpl is the typed half of a task.
type taskImpl interface {
	// decode decodes a result (item false) or a stream value (item true)
	// into the task, on the worker's reader goroutine.
	decode(dec Decoder, data []byte, item bool) error
	// fire fires the Deferred, on the loop, with fmu held.
	fire(err error)
	// deliver passes the oldest decoded stream value on, on the loop.
	deliver()
	// dropArg lets go of the argument once it has been encoded.
	dropArg()
}

func (t *task) init(p *Pool, e *entry, arg any, impl taskImpl) {
	t.p, t.e, t.impl = p, e, impl
	if !e.argEmpty {
		t.arg = arg
	}
}

// settle delivers the task's outcome, on the loop, unless it was cancelled
// or has already been settled; it reports whether it did.
func (t *task) settle(err error) bool {
	t.fmu.Lock()
	defer t.fmu.Unlock()
	if t.state.CompareAndSwap(statePending, stateDone) {
		t.impl.fire(err)
		return true
	}
	return false
}

// event is something the loop must do for a task: settle it with err, or
// deliver its next stream value.
type event struct {
	t    *task
	err  error
	item bool
}

// runEvents runs events on the loop.
func (p *Pool) runEvents(evs []event) {
	p.inEvents.Store(true)
	defer p.inEvents.Store(false)
	for _, ev := range evs {
		ev.run()
	}
}

// runEvent runs one event on the loop.
func (p *Pool) runEvent(ev event) {
	p.inEvents.Store(true)
	defer p.inEvents.Store(false)
	ev.run()
}

func (ev event) run() {
	if ev.item {
		ev.t.impl.deliver()
	} else {
		ev.t.settle(ev.err)
	}
}

// callTask is a call's task. It holds the argument itself, so that a call
// costs one allocation less than one for the task and one for the argument.
type callTask[A, R any] struct {
	task
	d   *deferred.Deferred[R]
	arg A
	val R
}

func (c *callTask[A, R]) dropArg() {
	var zero A
	c.arg = zero
}

func (c *callTask[A, R]) decode(dec Decoder, data []byte, _ bool) error {
	if c.e.resEmpty {
		return nil
	}
	return dec.Decode(data, &c.val)
}

func (c *callTask[A, R]) fire(err error) {
	if err != nil {
		c.d.Errback(err)
		return
	}
	v := c.val
	var zero R
	c.val = zero
	c.d.Callback(v)
}

func (c *callTask[A, R]) deliver() {}

type streamTask[R any] struct {
	task
	d    *deferred.Deferred[struct{}]
	each func(R)

	imu   sync.Mutex
	items []R // decoded, not yet delivered

	delivered int // on the loop: values passed to each since the last credit
}

func (s *streamTask[R]) decode(dec Decoder, data []byte, item bool) error {
	if !item {
		return nil
	}
	var v R
	if !s.e.resEmpty {
		if err := dec.Decode(data, &v); err != nil {
			return err
		}
	}
	s.imu.Lock()
	s.items = append(s.items, v)
	s.imu.Unlock()
	return nil
}

func (s *streamTask[R]) dropArg() {} // task.arg held the only reference

func (s *streamTask[R]) fire(err error) {
	s.imu.Lock()
	s.items = nil
	s.imu.Unlock()
	if err != nil {
		s.d.Errback(err)
		return
	}
	s.d.Callback(struct{}{})
}

func (s *streamTask[R]) deliver() {
	s.imu.Lock()
	if len(s.items) == 0 {
		s.imu.Unlock()
		return
	}
	v := s.items[0]
	var zero R
	s.items[0] = zero
	s.items = s.items[1:]
	s.imu.Unlock()
	if s.state.Load() != statePending {
		return
	}
	if perr := s.callEach(v); perr != nil {
		s.settle(perr)
		s.p.cancelRemote(&s.task)
		return
	}
	if s.delivered++; s.delivered == creditWindow/2 {
		s.delivered = 0
		s.p.grant(&s.task, creditWindow/2)
	}
}

func (s *streamTask[R]) callEach(v R) (perr *deferred.PanicError) {
	defer func() {
		if r := recover(); r != nil {
			perr = deferred.NewPanicError(r)
		}
	}()
	s.each(v)
	return nil
}
