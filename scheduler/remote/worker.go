package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// Worker serves the functions registered with scheduler/process to the
// callers of [Pool]s, from a task queue: Celery's worker. Run it in any
// process, on any machine, that registers the same functions as the callers
// (the same build, or one that shares their package of functions); start as
// many as there are cores to use.
//
// A worker runs up to [WithConcurrency] tasks at once, each on a goroutine,
// and the broker hands it no more than that (its prefetch is its
// concurrency), so that tasks go to the workers that have room. For each
// task, it publishes the result (or the error) persistent, with publisher
// confirms, to the caller's result queue, and acknowledges the task only once
// the broker has confirmed the result: a worker that dies or loses its
// connection before then leaves the task to the broker, which delivers it
// again. A result the broker refuses is not acknowledged either: the task is
// handed back to run again. A result whose caller's queue is gone (the caller
// is gone) is dropped, and its task acknowledged.
//
// A task that cannot be run (not a twine task, another protocol version, an
// unknown function, another signature, a codec the worker lacks, an argument
// it cannot decode) is logged, answered with [ErrUnknownFunc] or
// [ErrMalformed] when it says where to, and rejected to the dead-letter
// queue; the worker goes on. A task delivered for the (limit+1)-th time
// ([WithDeliveryLimit]) is not run: its caller gets a [*DeadLetterError],
// and the broker moves it to the dead-letter queue.
//
// Callers can drop a task not yet started and cancel the context of one
// running: the worker hears their cancellations on a queue of its own,
// bound to the control exchange.
//
// The connection is watched with heartbeats; when it is lost, the worker
// connects again with backoff and jitter, for as long as it takes, and
// declares its queues, its prefetch and its consumers again. The tasks it was
// running finish, but their results are not sent: the broker delivers them
// again. When Run's context ends, the worker drains: it stops taking tasks,
// hands back those it has been given and not started, finishes those it runs
// within [WithDrainTimeout], and leaves the rest to the broker.
type Worker struct {
	cfg  config
	log  *slog.Logger
	topo topology
	name string
	ran  atomic.Bool

	// base is the parent of the tasks' contexts, cancelled when Run gives
	// up on them.
	base       context.Context
	cancelBase context.CancelFunc

	mu        sync.Mutex
	running   map[string][]context.CancelFunc // by task id
	cancelled recent                          // ids cancelled by their callers
	funcs     sync.Map                        // name → *process.Function, found before
	stats     workerCounters
}

// WorkerStats counts what a [Worker] has done.
type WorkerStats struct {
	Received   int64 // tasks delivered to it
	Ran        int64 // tasks it ran, to a result or an error
	Answered   int64 // tasks answered: result confirmed by the broker, the task's acknowledgement sent or due
	Rejected   int64 // tasks it could not run, rejected to the dead-letter queue
	Abandoned  int64 // tasks at their delivery limit, failed and dead-lettered
	Dropped    int64 // tasks cancelled by their callers before they started
	Requeued   int64 // tasks handed back to the broker unanswered: given while draining, or their result refused
	Reconnects int64 // connections made after the first
}

// NewWorker returns a worker with the options given; [Worker.Run] connects
// and serves. A nil Option panics.
func NewWorker(opts ...Option) *Worker {
	cfg := newConfig("NewWorker", opts)
	host, _ := os.Hostname()
	base, cancel := context.WithCancel(context.Background())
	return &Worker{
		cfg:        cfg,
		log:        cfg.logger,
		topo:       newTopology(&cfg),
		name:       fmt.Sprintf("%s:%d", host, os.Getpid()),
		base:       base,
		cancelBase: cancel,
		running:    make(map[string][]context.CancelFunc),
		cancelled:  newRecent(10000),
	}
}

// Stats returns the worker's counts so far. Each is read on its own, so
// that counts of tasks under way may be a step apart.
func (w *Worker) Stats() WorkerStats {
	st := &w.stats
	return WorkerStats{
		Received:   st.Received.Load(),
		Ran:        st.Ran.Load(),
		Answered:   st.Answered.Load(),
		Rejected:   st.Rejected.Load(),
		Abandoned:  st.Abandoned.Load(),
		Dropped:    st.Dropped.Load(),
		Requeued:   st.Requeued.Load(),
		Reconnects: st.Reconnects.Load(),
	}
}

// workerCounters are a Worker's stats as they are counted.
type workerCounters struct {
	Received, Ran, Answered, Rejected, Abandoned, Dropped, Requeued, Reconnects atomic.Int64
}

// wsession is one connection of a worker: a channel that consumes tasks,
// one in confirm mode that publishes results, one that consumes the
// callers' cancellations. When any of them fails, the session ends as a
// whole.
type wsession struct {
	conn       *amqp.Connection
	cork       *corkConn // conn's socket
	tasks      *amqp.Channel
	acks       *acker // settles the deliveries of tasks
	tag        string
	deliveries <-chan amqp.Delivery
	pub        *confirmer
	control    <-chan amqp.Delivery

	connClosed, tasksClosed, pubClosed, ctlClosed chan *amqp.Error
	consCancelled                                 chan string

	// A task's goroutine publishes its result itself when it is the only
	// task under way and the result channel is free; otherwise it leaves
	// the result to the session's publisher, which takes those that gather
	// meanwhile in one go, in one write, and ends. The confirmer
	// acknowledges the task.
	active atomic.Int64 // tasks taken and not yet answered
	qmu    sync.Mutex
	queue  []*answer     // results left to the publisher, in qmu
	over   bool          // the session is over: queue no more, in qmu
	kick   chan struct{} // wakes the publisher
	dead   chan struct{} // closed when the session is over
	wg     sync.WaitGroup
}

// answer is a result to publish, and what to do once the broker has had
// its word, or the session is lost first.
type answer struct {
	in     *incoming
	msg    amqp.Publishing
	settle func(outcome)
}

// Run connects to the broker and serves tasks until ctx ends, then drains
// (see [Worker]) and returns: nil if every task it ran was answered,
// [ErrDrainTimeout] if some were left to the broker. Run the worker with a
// context that SIGTERM ends:
//
//	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
//	defer stop()
//	err := remote.NewWorker(remote.WithConcurrency(8)).Run(ctx)
//
// The first connection is tried within [WithConnectTimeout]; if it cannot
// be made, Run returns an error wrapping [ErrUnreachable] (or
// [ErrAccessRefused], or [ErrTopology]). A connection lost later is made
// again for as long as it takes. Run may be called once.
func (w *Worker) Run(ctx context.Context) error {
	if w.ran.Swap(true) {
		panic("remote: Worker.Run called twice")
	}
	defer w.cancelBase()
	s, err := connect(ctx, &w.cfg, "worker on queue "+w.cfg.queue, w.open)
	if err != nil {
		return err
	}
	w.log.Info("remote: worker connected", "queue", w.cfg.queue, "concurrency", w.cfg.concurrency, "worker", w.name)
	var tasks sync.WaitGroup
	b := backoff{min: w.cfg.reconnectMin, max: w.cfg.reconnectMax}
	for {
		err := w.serve(ctx, s, &tasks)
		if err == nil {
			err = w.drain(s, &tasks)
			w.end(s)
			return err
		}
		w.end(s)
		w.log.Warn("remote: worker lost its connection", "queue", w.cfg.queue, "error", err)
		b.reset()
		for {
			delay := b.next()
			w.log.Info("remote: worker reconnecting", "queue", w.cfg.queue, "in", delay)
			if !sleep(delay, ctx.Done()) {
				return w.wait(&tasks)
			}
			if s, err = w.open(ctx); err == nil {
				break
			}
			w.log.Warn("remote: worker cannot reconnect", "queue", w.cfg.queue, "error", err)
		}
		w.stats.Reconnects.Add(1)
		w.log.Info("remote: worker reconnected", "queue", w.cfg.queue)
	}
}

// open connects and sets a session up.
func (w *Worker) open(ctx context.Context) (*wsession, error) {
	conn, cork, err := dialCorked(ctx, &w.cfg, connName(w.cfg.queue, "worker", w.name))
	if err != nil {
		return nil, err
	}
	s, err := w.setUp(conn, cork)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

var consumerSeq atomic.Uint64

func (w *Worker) setUp(conn *amqp.Connection, cork *corkConn) (*wsession, error) {
	s := &wsession{conn: conn, cork: cork}
	s.connClosed = conn.NotifyClose(make(chan *amqp.Error, 1))
	var err error
	if s.tasks, err = conn.Channel(); err != nil {
		return nil, err
	}
	if err := w.topo.declare(s.tasks); err != nil {
		return nil, err
	}
	// The callers' cancellations first, so that none is missed for a
	// task delivered at once.
	ctl, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	q, err := ctl.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return nil, err
	}
	if err := ctl.QueueBind(q.Name, "", w.topo.control, false, nil); err != nil {
		return nil, err
	}
	if s.control, err = ctl.Consume(q.Name, "", true, true, false, false, nil); err != nil {
		return nil, err
	}
	pub, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	s.acks = newAcker(s.tasks)
	// The acknowledgements that the confirms at hand make due go together.
	if s.pub, err = newConfirmer(pub, w.cfg.concurrency+64, cork, s.acks.flush); err != nil {
		return nil, err
	}
	if err := s.tasks.Qos(w.cfg.concurrency, 0, false); err != nil {
		return nil, err
	}
	s.tag = fmt.Sprintf("twine-worker-%s-%d", w.name, consumerSeq.Add(1))
	if s.deliveries, err = s.tasks.Consume(w.topo.queue, s.tag, false, false, false, false, nil); err != nil {
		return nil, err
	}
	s.tasksClosed = s.tasks.NotifyClose(make(chan *amqp.Error, 1))
	s.pubClosed = pub.NotifyClose(make(chan *amqp.Error, 1))
	s.ctlClosed = ctl.NotifyClose(make(chan *amqp.Error, 1))
	s.consCancelled = s.tasks.NotifyCancel(make(chan string, 1))
	s.kick = make(chan struct{}, 1)
	s.dead = make(chan struct{})
	s.wg.Add(1)
	go w.publishAnswers(s)
	return s, nil
}

// end ends a session: its connection is closed, and its goroutines ended;
// the results left unpublished are lost.
func (w *Worker) end(s *wsession) {
	close(s.dead)
	// A session may end on the failure of one channel while the connection
	// still works: the tasks answered are acknowledged, not run again.
	s.acks.flushAll()
	_ = s.conn.Close()
	s.wg.Wait()
	s.qmu.Lock()
	s.over = true
	left := s.queue
	s.queue = nil
	s.qmu.Unlock()
	for _, a := range left {
		a.settle(lost)
	}
}

// publishAnswers publishes the results that the tasks' goroutines leave
// to it, as they come.
func (w *Worker) publishAnswers(s *wsession) {
	defer s.wg.Done()
	for {
		s.qmu.Lock()
		batch := s.queue
		s.queue = nil
		s.qmu.Unlock()
		if len(batch) > 0 {
			s.cork.cork() // the batch in one write, or few
			for i, a := range batch {
				if err := s.pub.publish(context.Background(), "", a.in.replyTo, true, a.msg, a.settle); err != nil {
					s.cork.uncork()
					for _, a := range batch[i:] {
						a.settle(lost)
					}
					return
				}
			}
			s.cork.uncork()
		}
		select {
		case <-s.kick:
		case <-s.dead:
			return
		}
	}
}

// serve takes tasks and cancellations from s until ctx ends (nil) or s
// fails (its error).
func (w *Worker) serve(ctx context.Context, s *wsession, tasks *sync.WaitGroup) error {
	for {
		select {
		case d, ok := <-s.deliveries:
			if !ok {
				return errors.New("the task consumer ended")
			}
			w.handle(s, d, tasks)
		case d, ok := <-s.control:
			if !ok {
				return errors.New("the control consumer ended")
			}
			w.cancelTask(d.MessageId)
		case e := <-s.connClosed:
			return closeError(e)
		case e := <-s.tasksClosed:
			return fmt.Errorf("the task channel closed: %w", closeError(e))
		case e := <-s.pubClosed:
			return fmt.Errorf("the result channel closed: %w", closeError(e))
		case e := <-s.ctlClosed:
			return fmt.Errorf("the control channel closed: %w", closeError(e))
		case <-s.consCancelled:
			return errors.New("the broker cancelled the task consumer: the task queue was deleted")
		case <-ctx.Done():
			return nil
		}
	}
}

// handle looks at a task and starts it, or turns it away.
func (w *Worker) handle(s *wsession, d amqp.Delivery, tasks *sync.WaitGroup) {
	w.stats.Received.Add(1)
	s.acks.add(d.DeliveryTag)
	in, prob := readTask(&d)
	var f *process.Function
	var codec process.Codec
	if prob == nil {
		f, codec, prob = w.resolve(in)
	}
	tasks.Add(1)
	switch {
	case prob != nil:
		s.active.Add(1)
		go w.reject(s, &d, in, prob, tasks.Done)
	case w.wasCancelled(in.id):
		tasks.Done()
		w.stats.Dropped.Add(1)
		w.log.Debug("remote: dropping a task that its caller cancelled", "task", in.id, "func", in.fn)
		_ = s.acks.ackNow(d.DeliveryTag)
	case in.deliveries > w.cfg.deliveryLimit:
		s.active.Add(1)
		go w.abandon(s, &d, in, tasks.Done)
	default:
		s.active.Add(1)
		go w.runTask(s, &d, in, f, codec, tasks.Done)
	}
}

// resolve finds a task's function and codec.
func (w *Worker) resolve(in *incoming) (*process.Function, process.Codec, *problem) {
	var f *process.Function
	if v, ok := w.funcs.Load(in.fn); ok {
		f = v.(*process.Function)
	} else {
		if f, ok = process.Lookup(in.fn); !ok {
			return nil, nil, &problem{statusUnknown, fmt.Sprintf("worker %s has no function %q", w.name, in.fn)}
		}
		w.funcs.Store(in.fn, f)
	}
	if f.Signature() != in.sig {
		return nil, nil, &problem{statusMalformed, fmt.Sprintf("%q is %s for its caller and %s in worker %s", in.fn, in.sig, f.Signature(), w.name)}
	}
	if f.Stream() {
		return nil, nil, &problem{statusMalformed, fmt.Sprintf("%q is a stream function, which runs on a local pool only", in.fn)}
	}
	codec, ok := process.LookupCodec(in.codec)
	if !ok {
		return nil, nil, &problem{statusMalformed, fmt.Sprintf("worker %s has no codec %q (process.RegisterCodec must run in an init function)", w.name, in.codec)}
	}
	return f, codec, nil
}

// runTask runs a task and answers it; done runs once the task is over.
func (w *Worker) runTask(s *wsession, d *amqp.Delivery, in *incoming, f *process.Function, codec process.Codec, done func()) {
	arg, err := f.DecodeArg(in.arg, messageDecoder(codec))
	if err != nil {
		w.reject(s, d, in, &problem{statusMalformed, fmt.Sprintf("cannot decode the argument of %q: %v", in.fn, err)}, done)
		return
	}
	ctx, cancel := context.WithCancel(w.base)
	w.mu.Lock()
	w.running[in.id] = append(w.running[in.id], cancel)
	w.mu.Unlock()
	status, body, stack := w.call(ctx, f, arg, codec, in.timeout)
	w.mu.Lock()
	if cs := w.running[in.id]; len(cs) <= 1 {
		delete(w.running, in.id)
	} else {
		w.running[in.id] = cs[1:]
	}
	w.mu.Unlock()
	w.stats.Ran.Add(1)
	cancel()
	var msg amqp.Publishing
	if status == statusOK {
		msg = resultMessage(in.id, in.deliveries, body)
	} else {
		msg = errorMessage(in.id, status, in.deliveries, string(body), stack)
	}
	// If the connection is lost meanwhile, the task goes with it: the
	// broker delivers it again.
	w.answer(s, in, msg, func(o outcome) {
		if o == nacked {
			_ = s.acks.nack(d.DeliveryTag, true)
			w.stats.Requeued.Add(1)
			return
		}
		s.acks.ack(d.DeliveryTag)
		w.stats.Answered.Add(1)
	}, done)
}

// call runs f, within timeout if there is one, and returns the result's
// status, body and, for a panic, stack.
func (w *Worker) call(ctx context.Context, f *process.Function, arg any, codec process.Codec, timeout time.Duration) (string, []byte, []byte) {
	if w.cfg.taskTimeout > 0 && (timeout <= 0 || w.cfg.taskTimeout < timeout) {
		timeout = w.cfg.taskTimeout
	}
	if timeout <= 0 {
		v, err := f.Run(ctx, arg)
		return w.outcome(f, codec, v, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type ran struct {
		v   any
		err error
	}
	done := make(chan ran, 1)
	go func() {
		v, err := f.Run(ctx, arg)
		done <- ran{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return statusTimeout, fmt.Appendf(nil, "%q ran longer than %v in worker %s: %v", f.Name(), timeout, w.name, r.err), nil
		}
		return w.outcome(f, codec, r.v, r.err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			w.log.Warn("remote: a task outlived its time; answering for it, and leaving it to finish", "func", f.Name(), "timeout", timeout)
			return statusTimeout, fmt.Appendf(nil, "%q ran longer than %v in worker %s", f.Name(), timeout, w.name), nil
		}
		r := <-done // cancelled by its caller: it is told, and returns
		return w.outcome(f, codec, r.v, r.err)
	}
}

// outcome encodes what f returned.
func (w *Worker) outcome(f *process.Function, codec process.Codec, v any, err error) (string, []byte, []byte) {
	if err != nil {
		var pe *deferred.PanicError
		if errors.As(err, &pe) {
			stack := pe.Stack
			if len(stack) > maxStack {
				stack = stack[:maxStack]
			}
			return statusPanic, fmt.Append(nil, pe.Value), stack
		}
		return statusError, []byte(err.Error()), nil
	}
	body, err := f.EncodeResult(nil, messageEncoder(codec), v)
	if err != nil {
		return statusError, fmt.Appendf(nil, "remote: encoding the result of %q: %v", f.Name(), err), nil
	}
	if len(body) > w.cfg.maxMessage {
		return statusTooLarge, fmt.Appendf(nil, "the result of %q takes %d bytes; the limit is %d", f.Name(), len(body), w.cfg.maxMessage), nil
	}
	return statusOK, body, nil
}

// answer publishes a result to its caller and returns; once the broker has
// had its word, then runs with it on the confirmer's goroutine, and done
// after it. If the session is lost first, then does not run, and done
// does.
func (w *Worker) answer(s *wsession, in *incoming, msg amqp.Publishing, then func(outcome), done func()) {
	a := &answer{in: in, msg: msg, settle: func(o outcome) {
		if o == returned {
			w.log.Warn("remote: the caller's result queue is gone; dropping the result", "task", in.id, "func", in.fn, "queue", in.replyTo)
		}
		if o != lost {
			then(o)
		}
		done()
	}}
	s.acks.answered(in.tag)
	err := errBusy
	if s.active.Add(-1) == 0 {
		err = s.pub.tryPublish(context.Background(), "", in.replyTo, true, msg, a.settle)
	}
	switch {
	case err == errBusy:
		s.qmu.Lock()
		if s.over {
			s.qmu.Unlock()
			a.settle(lost)
			return
		}
		s.queue = append(s.queue, a)
		s.qmu.Unlock()
		select {
		case s.kick <- struct{}{}:
		default:
		}
	case err != nil:
		a.settle(lost)
	}
}

// reject answers a task that cannot run, if it says where to, and rejects
// it to the dead-letter queue.
func (w *Worker) reject(s *wsession, d *amqp.Delivery, in *incoming, prob *problem, done func()) {
	w.log.Warn("remote: rejecting a task to the dead-letter queue", "task", in.id, "func", in.fn, "queue", w.cfg.queue, "reason", prob.text)
	rejected := func(outcome) {
		if s.acks.reject(d.DeliveryTag) == nil {
			w.stats.Rejected.Add(1)
		}
	}
	if prob.status == "" {
		s.active.Add(-1)
		rejected(lost)
		done()
		return
	}
	// If the session is lost meanwhile, the task is delivered again, and
	// rejected again.
	w.answer(s, in, errorMessage(in.id, prob.status, in.deliveries, prob.text, nil), rejected, done)
}

// abandon fails a task delivered more times than the limit allows, and
// hands it back to the broker, which dead-letters it: its delivery count
// now exceeds the queue's limit.
func (w *Worker) abandon(s *wsession, d *amqp.Delivery, in *incoming, done func()) {
	w.log.Error("remote: a task reached its delivery limit; failing it and dead-lettering it",
		"task", in.id, "func", in.fn, "deliveries", in.deliveries, "dead_letter_queue", w.topo.dead)
	msg := errorMessage(in.id, statusDead, in.deliveries, fmt.Sprintf("delivered %d times without an answer", in.deliveries), []byte(w.topo.dead))
	w.answer(s, in, msg, func(outcome) {
		if s.acks.nack(d.DeliveryTag, true) == nil {
			w.stats.Abandoned.Add(1)
		}
	}, done)
}

// cancelTask acts on a caller's cancellation: the task's context is
// cancelled if it runs here, and it is dropped if it comes later.
func (w *Worker) cancelTask(id string) {
	if id == "" {
		return
	}
	w.mu.Lock()
	w.cancelled.add(id)
	running := w.running[id]
	for _, cancel := range running {
		cancel()
	}
	w.mu.Unlock()
	w.log.Debug("remote: a caller cancelled a task", "task", id, "running", len(running) > 0)
}

func (w *Worker) wasCancelled(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cancelled.has(id)
}

// drain stops taking tasks from s, hands back those given and not
// started, waits for those running within the drain bound, and closes the
// connection.
func (w *Worker) drain(s *wsession, tasks *sync.WaitGroup) error {
	if err := s.tasks.Cancel(s.tag, false); err != nil {
		_ = s.conn.Close()
		return w.wait(tasks)
	}
	w.log.Info("remote: worker draining", "queue", w.cfg.queue, "bound", w.cfg.drainTimeout)
	finished := make(chan struct{})
	go func() {
		tasks.Wait()
		close(finished)
	}()
	bound := closedTime
	if w.cfg.drainTimeout > 0 {
		t := time.NewTimer(w.cfg.drainTimeout)
		defer t.Stop()
		bound = t.C
	}
	deliveries := s.deliveries
	var err error
wait:
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				deliveries = nil
				continue
			}
			// Given before the consumer was cancelled, not started.
			s.acks.add(d.DeliveryTag)
			_ = s.acks.nack(d.DeliveryTag, true)
			w.stats.Received.Add(1)
			w.stats.Requeued.Add(1)
		case d, ok := <-s.control:
			if ok {
				w.cancelTask(d.MessageId)
			} else {
				s.control = nil
			}
		case <-finished:
			break wait
		case <-s.connClosed:
			// The broker has taken back what was not acknowledged.
			break wait
		case <-bound:
			err = ErrDrainTimeout
			break wait
		}
	}
	// The tasks answered are acknowledged before the connection goes.
	s.acks.flushAll()
	_ = s.conn.Close()
	w.cancelBase()
	if err != nil {
		w.log.Warn("remote: worker drain timed out; leaving its running tasks to the broker", "queue", w.cfg.queue)
		return err
	}
	w.log.Info("remote: worker drained", "queue", w.cfg.queue)
	return nil
}

var closedTime = func() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// wait ends a Run whose connection is gone: the tasks still running cannot
// be answered, and are cancelled; it waits for them within the drain bound.
func (w *Worker) wait(tasks *sync.WaitGroup) error {
	w.cancelBase()
	finished := make(chan struct{})
	go func() {
		tasks.Wait()
		close(finished)
	}()
	bound := closedTime
	if w.cfg.drainTimeout > 0 {
		t := time.NewTimer(w.cfg.drainTimeout)
		defer t.Stop()
		bound = t.C
	}
	select {
	case <-finished:
		return nil
	case <-bound:
		return ErrDrainTimeout
	}
}

// recent is a set of the latest ids added to it, up to a number.
type recent struct {
	ids  map[string]struct{}
	ring []string
	next int
}

func newRecent(n int) recent {
	return recent{ids: make(map[string]struct{}), ring: make([]string, n)}
}

func (r *recent) add(id string) {
	if _, ok := r.ids[id]; ok {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.ids, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
	r.ids[id] = struct{}{}
}

func (r *recent) has(id string) bool {
	_, ok := r.ids[id]
	return ok
}
