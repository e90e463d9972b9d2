package remote

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// Pool runs the functions registered with scheduler/process on [Worker]s
// anywhere, through a RabbitMQ broker: a [process.Runner], so that
// fn.Call(pool, x) returns a Deferred that fires on the pool's loop with the
// result, as for a local process pool. It is Celery's app with a result
// backend, seen from the caller's side.
//
// Each call becomes a task, published persistent and mandatory, with
// publisher confirms, to the task queue ([WithQueue]); the result comes back
// on a durable queue of this pool's own, matched to its task by id. What the
// Deferred fails with: a *process.RemoteError for an error the function
// returned, a *deferred.PanicError for a panic, [ErrTimeout] when the task
// had no answer in time ([WithTaskTimeout]), a [*DeadLetterError] when it
// reached its delivery limit, [ErrUnknownFunc] or [ErrMalformed] when the
// worker could not run it, [ErrTooLarge] for an argument or result too
// large, [ErrUnroutable] or [ErrNotAccepted] when the broker would not take
// it, [ErrClosed] after [Pool.Close].
//
// Delivery is at least once. A task is kept until the broker confirms it;
// one unconfirmed when the connection is lost is published again, with the
// same id, on the next connection. A worker acknowledges a task only once
// its result is confirmed, so a task whose worker dies or disconnects is
// delivered again, to another worker or the same one: a task may run more
// than once, and its function should be safe to repeat. Its Deferred fires
// once all the same: the first result settles it, and later ones are
// counted ([Stats].Duplicates) and dropped. The connection is watched with
// heartbeats; when it is lost, the pool connects again with backoff and
// jitter ([WithReconnect]), declares its queues again and goes on, and the
// tasks that were waiting keep waiting. If its result queue was deleted
// meanwhile (the pool was gone longer than [WithResultExpiry]), it
// publishes again every task still unanswered.
//
// At most [WithMaxInFlight] tasks are out at once; later calls wait in the
// pool, in the order they came. Cancelling a call's Deferred drops a call
// still waiting in the pool; for one already published, the workers are told
// to drop the task if it has not started, or to cancel its context if it
// runs. A task's argument is encoded in Call, on the calling goroutine.
//
// All methods are safe to use from any goroutine. Call [Pool.Close] to stop
// it: it waits for the tasks out, deletes the result queue and closes the
// connection.
type Pool struct {
	loop   scheduler.Loop
	cfg    config
	log    *slog.Logger
	topo   topology
	id     string
	reply  string
	stop   chan struct{} // closed by Close: the pool's goroutines end
	ctx    context.Context
	cancel context.CancelFunc // ends ctx, with stop
	kick   chan struct{}      // wakes the publisher
	wg     sync.WaitGroup
	closed sync.Once

	envelopes sync.Map // function name → the envelope of its tasks

	mu      sync.Mutex
	tasks   map[string]*task // admitted and not settled, by id
	waiting []*task          // over the in-flight limit, oldest first, from whead
	whead   int
	outbox  []*task  // admitted, to publish, oldest first
	cancels []string // ids of tasks to tell the workers about
	evs     []event  // outcomes to deliver on the loop
	seq     uint64
	closing bool
	drained chan struct{} // closed once closing and nothing is left
	isDrain bool
	stats   Stats
}

// The states of a task, in the pool's lock.
type taskState uint8

const (
	stWaiting   taskState = iota // over the in-flight limit
	stOutbox                     // to publish
	stSending                    // taken by a session's publisher, not yet confirmed
	stConfirmed                  // the broker has it
	stDone                       // settled, cancelled or timed out
)

// task is one call on the pool.
type task struct {
	c     *process.Call
	id    string
	seq   uint64
	msg   amqp.Publishing
	state taskState
	sess  *session // the session that last took it to publish
	again bool     // it is to be published again
	timer scheduler.Call
}

// event is an outcome to deliver on the loop.
type event struct {
	c   *process.Call
	err error
}

// Stats counts what a [Pool] has done.
type Stats struct {
	Calls       int64 // calls made on the pool
	Published   int64 // tasks published, publishes again included
	Republished int64 // tasks published again, after a connection was lost unconfirmed, or their result queue
	Results     int64 // results that settled a call
	Redelivered int64 // of those, results of a task delivered more than once
	Duplicates  int64 // results that found no call waiting: a task's second run, the late answer of one cancelled or timed out, or a result delivered again after a reconnect, not yet acknowledged when the connection was lost
	Reconnects  int64 // connections made after the first
	InFlight    int   // tasks out now: published or to be, unanswered
	Waiting     int   // calls waiting now for room ([WithMaxInFlight])
}

// NewPool connects to the broker, declares the task queue and its
// dead-letter queue and this pool's result queue, and returns a pool that
// fires the Deferreds of its calls on loop (the reactor, typically).
//
// It blocks while it connects: if the broker cannot be reached, it logs the
// failure and tries again, with backoff, for as long as
// [WithConnectTimeout] allows and ctx lets it, then returns an error
// wrapping [ErrUnreachable] and the last failure. A refused login fails at
// once ([ErrAccessRefused]), as does a queue that exists with other settings
// ([ErrTopology]). A nil loop, or a codec not registered with
// process.RegisterCodec, panics.
func NewPool(ctx context.Context, loop scheduler.Loop, opts ...Option) (*Pool, error) {
	if loop == nil {
		panic("remote: NewPool: nil Loop")
	}
	cfg := newConfig("NewPool", opts)
	checkCodec("NewPool", cfg.codec)
	var b [8]byte
	_, _ = rand.Read(b[:])
	p := &Pool{
		loop:    loop,
		cfg:     cfg,
		log:     cfg.logger,
		topo:    newTopology(&cfg),
		id:      hex.EncodeToString(b[:]),
		stop:    make(chan struct{}),
		kick:    make(chan struct{}, 1),
		tasks:   make(map[string]*task),
		drained: make(chan struct{}),
	}
	p.reply = p.topo.replyQueue(p.id)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	s, err := connect(ctx, &p.cfg, "pool on queue "+p.cfg.queue, p.open)
	if err != nil {
		p.cancel()
		return nil, err
	}
	p.log.Info("remote: pool connected", "queue", p.cfg.queue, "results", p.reply)
	p.wg.Add(1)
	go p.run(s)
	return p, nil
}

// checkCodec panics if c is not the codec registered under its name: the
// workers would not find it.
func checkCodec(method string, c process.Codec) {
	if r, ok := process.LookupCodec(c.Name()); !ok || r != c {
		panic(fmt.Sprintf("remote: %s: codec %q is not registered: call process.RegisterCodec in an init function", method, c.Name()))
	}
}

// ID returns the pool's id: its tasks' ids start with it, and its result
// queue's name ends with it.
func (p *Pool) ID() string { return p.id }

// Stats returns the pool's counts so far.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stats
	st.InFlight = len(p.tasks)
	for _, t := range p.waiting[p.whead:] {
		if t.state == stWaiting {
			st.Waiting++
		}
	}
	return st
}

// RunCall runs c on a worker, as fn.Call(p, x) does: see [Pool]. Its
// Deferred fires on p's loop, never inside RunCall. A nil p panics.
func (p *Pool) RunCall(c *process.Call) {
	if p == nil {
		panic("remote: Pool.RunCall: nil Pool")
	}
	envelope := p.envelope(c)
	// The argument follows the envelope, in a slice of the message's own.
	body := make([]byte, len(envelope), len(envelope)+64)
	copy(body, envelope)
	body, err := c.AppendArg(body, messageEncoder(p.cfg.codec))
	if err != nil {
		err = fmt.Errorf("remote: encoding the argument of %q: %w", c.Func(), err)
	} else if n := len(body) - len(envelope); n > p.cfg.maxMessage {
		err = fmt.Errorf("%w: the argument of %q takes %d bytes; the limit is %d", ErrTooLarge, c.Func(), n, p.cfg.maxMessage)
	}
	t := &task{c: c}
	if err == nil && p.cfg.taskTimeout > 0 {
		t.timer = p.loop.CallLater(p.cfg.taskTimeout, func() { p.expire(t) })
	}
	p.mu.Lock()
	p.stats.Calls++
	if err == nil && p.closing {
		err = ErrClosed
	}
	if err != nil {
		if t.timer != nil {
			_ = t.timer.Cancel()
		}
		p.evs = append(p.evs, event{c, err})
		p.mu.Unlock()
		p.flush()
		return
	}
	p.seq++
	t.seq = p.seq
	t.id = taskID(p.id, p.seq)
	t.msg = taskMessage(c, t.id, p.reply, p.cfg.codec.Name(), body)
	c.OnCancel(func() { p.cancelTask(t) })
	p.waiting = append(p.waiting, t)
	p.admitLocked()
	p.mu.Unlock()
}

// envelope returns the start of the body of c's function's tasks (see
// taskEnvelope), made once per function.
func (p *Pool) envelope(c *process.Call) []byte {
	if e, ok := p.envelopes.Load(c.Func()); ok {
		return e.([]byte)
	}
	e, _ := p.envelopes.LoadOrStore(c.Func(), taskEnvelope(c, p.cfg.taskTimeout))
	return e.([]byte)
}

// admitLocked moves waiting tasks to the outbox while there is room, and
// wakes the publisher if it did.
func (p *Pool) admitLocked() {
	admitted := false
	for len(p.tasks) < p.cfg.maxInFlight && p.whead < len(p.waiting) {
		t := p.waiting[p.whead]
		p.waiting[p.whead] = nil
		p.whead++
		if t.state != stWaiting {
			continue // cancelled or timed out while it waited
		}
		t.state = stOutbox
		p.tasks[t.id] = t
		p.outbox = append(p.outbox, t)
		admitted = true
	}
	if admitted {
		p.wake()
	}
	if p.whead == len(p.waiting) {
		p.waiting, p.whead = p.waiting[:0], 0
	} else if p.whead > 1024 && p.whead > len(p.waiting)/2 {
		p.waiting = append(p.waiting[:0], p.waiting[p.whead:]...)
		p.whead = 0
	}
}

// finishLocked ends t with err (nil: its result is to be decoded by the
// caller, which then adds the event), and makes room for the next.
func (p *Pool) finishLocked(t *task) {
	if t.state != stWaiting {
		delete(p.tasks, t.id)
	}
	t.state = stDone
	p.admitLocked()
	if p.closing && len(p.tasks) == 0 && p.whead == len(p.waiting) && !p.isDrain {
		p.isDrain = true
		close(p.drained)
	}
}

// cancelTask is the Call's cancellation: a task still in the pool is
// dropped; for one that left, the workers are told.
func (p *Pool) cancelTask(t *task) {
	p.mu.Lock()
	state := t.state
	if state == stDone {
		p.mu.Unlock()
		return
	}
	p.finishLocked(t)
	if state == stSending || state == stConfirmed {
		p.cancels = append(p.cancels, t.id)
	}
	p.mu.Unlock()
	if t.timer != nil {
		_ = t.timer.Cancel()
	}
	p.wake()
}

// expire runs on the loop when t's time is up.
func (p *Pool) expire(t *task) {
	p.mu.Lock()
	state := t.state
	if state == stDone {
		p.mu.Unlock()
		return
	}
	p.finishLocked(t)
	if state == stSending || state == stConfirmed {
		p.cancels = append(p.cancels, t.id)
	}
	p.mu.Unlock()
	p.wake()
	t.c.Settle(fmt.Errorf("%w: no answer to task %s (%s) within %v", ErrTimeout, t.id, t.c.Func(), p.cfg.taskTimeout))
}

// wake tells the publisher that there is something to publish.
func (p *Pool) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// flush hands the outcomes gathered so far to the loop.
func (p *Pool) flush() {
	p.mu.Lock()
	evs := p.evs
	p.evs = nil
	p.mu.Unlock()
	if len(evs) > 0 {
		deliver(p.loop, evs)
	}
}

// deliver settles the calls of evs on loop. If the loop has stopped for
// good, they fail with scheduler.ErrLoopStopped here instead: their
// callbacks can no longer run on it, and must not be left waiting.
func deliver(loop scheduler.Loop, evs []event) {
	run := func() {
		for _, ev := range evs {
			ev.c.Settle(ev.err)
		}
	}
	sl, ok := loop.(scheduler.StoppableLoop)
	if !ok {
		loop.CallSoon(run)
		return
	}
	if !sl.TryCallSoon(run) {
		for _, ev := range evs {
			ev.c.Settle(fmt.Errorf("remote: the result of %q came after its loop stopped: %w", ev.c.Func(), scheduler.ErrLoopStopped))
		}
	}
}

// Close stops the pool. New calls fail with [ErrClosed] from then on; the
// calls already made, waiting in the pool or out, are waited for. If ctx
// ends first, those still unanswered fail with ErrClosed, and Close returns
// ctx's error. Close then deletes the pool's result queue, closes the
// connection, and returns once every goroutine of the pool has ended. The
// Deferreds fire on the loop, so their callbacks run when the loop runs;
// Close does not need the loop to run meanwhile. Calling Close again
// waits again, with the new ctx.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		if len(p.tasks) == 0 && p.whead == len(p.waiting) {
			p.isDrain = true
			close(p.drained)
		}
	}
	p.mu.Unlock()
	var err error
	select {
	case <-p.drained:
	case <-ctx.Done():
		err = ctx.Err()
		p.abandon()
	}
	p.closed.Do(func() {
		close(p.stop)
		p.cancel()
	})
	p.wg.Wait()
	p.flush()
	return err
}

// abandon fails every call still waiting or out with ErrClosed.
func (p *Pool) abandon() {
	p.mu.Lock()
	var left []*task
	for _, t := range p.tasks {
		left = append(left, t)
	}
	for _, t := range p.waiting[p.whead:] {
		if t.state == stWaiting {
			left = append(left, t)
		}
	}
	slices.SortFunc(left, func(a, b *task) int { return cmp.Compare(a.seq, b.seq) })
	for _, t := range left {
		p.finishLocked(t)
		p.evs = append(p.evs, event{t.c, fmt.Errorf("%w: task %s (%s) unanswered", ErrClosed, t.id, t.c.Func())})
	}
	p.mu.Unlock()
	for _, t := range left {
		if t.timer != nil {
			_ = t.timer.Cancel()
		}
	}
	p.flush()
}
