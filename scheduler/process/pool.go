package process

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twinego/twine/scheduler"
)

// Pool runs registered functions in worker processes: Twisted's ampoule
// ProcessPool. Workers are this executable started again; [Main] turns them
// into workers. The pool starts workers as tasks need them, up to a maximum,
// keeps a minimum, stops idle ones, recycles them after a number of tasks and
// replaces those that die. Results come back as Deferreds fired on the loop
// given to [NewPool].
//
// Tasks go to the ready worker with the fewest tasks in flight, as long as it
// has fewer than [WithMaxInFlight]; the others wait in the pool's queue, in
// the order they came, and a new worker is started when they cannot all be
// taken. A worker that dies fails the tasks it was running with a
// [*WorkerError]; queued tasks are not lost, they go to the other workers or
// to its replacement. A task is never retried on another worker.
//
// All methods are safe to use from any goroutine. Call [Pool.Close] to stop
// the workers: it waits for their tasks, then for every process and
// goroutine of the pool to end.
type Pool struct {
	loop scheduler.Loop
	cfg  config
	exe  string
	env  []string
	log  *slog.Logger

	mu      sync.Mutex
	workers []*worker
	queue   []*task // tasks waiting for a worker, oldest first, from qhead on
	qhead   int
	qdead   int // cancelled tasks still in the queue
	evs     []event
	direct  *worker // an idle worker that was just given a task: unlock writes to it
	seq     int
	closing bool
	aborted bool
	// startErr is why the last worker start failed, until one succeeds.
	// While it is set, the pool does not restart workers to keep the
	// minimum, so that a broken executable is not started in a loop.
	startErr error
	done     chan struct{} // closed when closing and all has ended
	isDone   bool

	wg sync.WaitGroup // the workers' supervising goroutines
}

// Worker states, in p.mu.
type workerState int

const (
	workerStarting workerState = iota // started, before its handshake
	workerReady                       // takes tasks
	workerRetiring                    // takes no tasks; its input is closed once it has none
	workerDying                       // killed, or found broken: waiting for its end
)

// NewPool returns a pool that runs tasks in workers started from this
// executable and fires their Deferreds on loop (the reactor, typically).
// It starts the minimum number of workers ([WithMinWorkers]) in the
// background and returns at once; calls made before a worker is ready wait
// in the queue.
//
// It returns [ErrNoMain] if [Main] has not been called, and an error wrapping
// [ErrStart] if the executable cannot be found. A nil loop panics, as do
// options that conflict (a minimum above the maximum) or a codec not
// registered with [RegisterCodec].
func NewPool(loop scheduler.Loop, opts ...Option) (*Pool, error) {
	if loop == nil {
		panic("process: NewPool: nil Loop")
	}
	cfg := newConfig(opts)
	if c, ok := lookupCodec(cfg.codec.Name()); !ok || c != cfg.codec {
		panic(fmt.Sprintf("process: NewPool: codec %q is not registered: call RegisterCodec in an init function", cfg.codec.Name()))
	}
	if !mainCalled.Load() {
		return nil, ErrNoMain
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	p := &Pool{
		loop: loop,
		cfg:  cfg,
		exe:  exe,
		env:  workerEnv(cfg.procs, cfg.env),
		log:  cfg.logger,
		done: make(chan struct{}),
	}
	p.mu.Lock()
	p.scaleLocked()
	p.unlock()
	return p, nil
}

// workerEnv is this process's environment with GOMAXPROCS, the extra
// entries and the mark that makes Main serve; later entries win.
func workerEnv(procs int, extra []string) []string {
	env := os.Environ()
	if procs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	env = append(env, extra...)
	env = append(env, envWorker+"="+envWorkerValue)
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		k := env[i]
		for j := 0; j < len(k); j++ {
			if k[j] == '=' && j > 0 {
				k = k[:j]
				break
			}
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, env[i])
		}
	}
	slices.Reverse(out)
	return out
}

// Workers returns the process ids of the pool's worker processes that are
// running, oldest first, including those starting and those about to stop.
// It is meant for monitoring, and for tests that need to signal a worker.
func (p *Pool) Workers() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for _, w := range p.workers {
		if w.pid != 0 {
			pids = append(pids, w.pid)
		}
	}
	return pids
}

// Close stops the pool. New calls fail with [ErrClosed] from then on;
// tasks already accepted, queued or running, are run to the end, then the
// workers are stopped (their input is closed and they exit). If ctx is done
// first, Close kills the workers: their running tasks fail with a
// [*WorkerError] wrapping [ErrClosed], and queued tasks with ErrClosed.
//
// Close returns once every worker process has been waited for and every
// goroutine of the pool has ended: nil if the tasks were drained, ctx's error
// if it had to kill. The Deferreds of the tasks are fired on the loop, so
// their callbacks run when the loop runs. Stream values need the loop to run
// while Close waits (the worker waits for the caller to take them), so do
// not block the loop in Close while streams are running; calls do not.
// Calling Close again waits again, with the new ctx.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		p.drainLocked()
	}
	p.unlock()
	var err error
	select {
	case <-p.done:
	case <-ctx.Done():
		err = ctx.Err()
		p.mu.Lock()
		p.abortLocked()
		p.unlock()
		<-p.done
	}
	p.wg.Wait()
	return err
}

// unlock releases p.mu and hands the loop the events gathered under it.
func (p *Pool) unlock() {
	evs, w := p.evs, p.direct
	p.evs, p.direct = nil, nil
	p.mu.Unlock()
	if w != nil {
		w.flushNow()
	}
	if len(evs) > 0 {
		p.loop.CallSoon(func() { runEvents(evs) })
	}
}

// submit sends t to a worker, or queues it.
func (p *Pool) submit(t *task) {
	p.mu.Lock()
	switch {
	case p.closing:
		p.evs = append(p.evs, event{t: t, err: ErrClosed})
	case p.qlen() == 0:
		if w := p.pickLocked(); w != nil {
			p.sendLocked(w, t)
			break
		}
		fallthrough
	default:
		t.queued = true
		p.queue = append(p.queue, t)
		p.dispatchLocked()
	}
	p.unlock()
}

// qlen is the number of live tasks in the queue.
func (p *Pool) qlen() int { return len(p.queue) - p.qhead - p.qdead }

// popLocked takes the oldest live task out of the queue.
func (p *Pool) popLocked() *task {
	for p.qhead < len(p.queue) {
		t := p.queue[p.qhead]
		p.queue[p.qhead] = nil
		p.qhead++
		t.queued = false
		if t.state.Load() == stateCancelled {
			p.qdead--
			continue
		}
		if p.qhead == len(p.queue) {
			p.queue, p.qhead = p.queue[:0], 0
		} else if p.qhead >= 1024 && p.qhead*2 >= len(p.queue) {
			n := copy(p.queue, p.queue[p.qhead:])
			clear(p.queue[n:])
			p.queue, p.qhead = p.queue[:n], 0
		}
		return t
	}
	p.queue, p.qhead, p.qdead = p.queue[:0], 0, 0
	return nil
}

// pickLocked returns the ready worker with the fewest tasks in flight, if
// it has room for one more.
func (p *Pool) pickLocked() *worker {
	var best *worker
	for _, w := range p.workers {
		if w.state == workerReady && len(w.tasks) < p.cfg.maxInFlight && (best == nil || len(w.tasks) < len(best.tasks)) {
			best = w
		}
	}
	return best
}

// dispatchLocked sends queued tasks to workers with room, then starts or
// stops workers as the load and the state of the pool require.
func (p *Pool) dispatchLocked() {
	for p.qlen() > 0 {
		w := p.pickLocked()
		if w == nil {
			break
		}
		t := p.popLocked()
		if t == nil {
			break
		}
		p.sendLocked(w, t)
	}
	p.scaleLocked()
	if p.closing {
		p.drainLocked()
	}
}

// sendLocked gives t to w: it gets a request id and its call frame goes into
// w's output.
func (p *Pool) sendLocked(w *worker, t *task) {
	w.nextID++
	t.w, t.id = w, w.nextID
	// A task for an idle worker is written at once, on unlock; others go
	// to the writer goroutine, which batches them.
	direct := len(w.tasks) == 0 && p.direct == nil
	if err := w.sendCall(t, !direct); err != nil {
		// Only this task is affected: its argument cannot cross.
		t.w = nil
		p.evs = append(p.evs, event{t: t, err: err})
		return
	}
	if direct {
		p.direct = w
	}
	w.tasks[t.id] = t
	w.sent++
	if p.cfg.taskTimeout > 0 {
		t.timer = p.loop.CallLater(p.cfg.taskTimeout, func() { p.timeout(t) })
	}
	if p.cfg.recycleAfter > 0 && w.sent >= p.cfg.recycleAfter {
		w.state = workerRetiring
	}
}

// scaleLocked starts workers for the queue and for the minimum.
func (p *Pool) scaleLocked() {
	if p.aborted {
		return
	}
	var alive, starting, serving, ready int
	for _, w := range p.workers {
		alive++
		switch w.state {
		case workerStarting:
			starting++
			serving++
		case workerReady:
			ready++
			serving++
		}
	}
	// One new worker for every maxInFlight queued tasks that the workers
	// being started will not take; after a failed start, only if no worker
	// is ready to take them.
	if p.startErr == nil || ready == 0 {
		for q := p.qlen(); q > starting*p.cfg.maxInFlight && alive < p.cfg.maxWorkers; {
			p.startLocked()
			starting++
			alive++
			serving++
		}
	}
	if p.closing || p.startErr != nil {
		return
	}
	for serving < p.cfg.minWorkers && alive < p.cfg.maxWorkers {
		p.startLocked()
		alive++
		serving++
	}
}

func (p *Pool) startLocked() {
	p.seq++
	w := newWorker(p, p.seq)
	p.workers = append(p.workers, w)
	p.wg.Add(1)
	go w.run()
}

// drainLocked, once the pool is closing, retires the workers that have
// nothing left to do, and marks the pool done when none is left.
func (p *Pool) drainLocked() {
	if p.qlen() == 0 {
		for _, w := range p.workers {
			if (w.state == workerReady || w.state == workerRetiring) && len(w.tasks) == 0 {
				p.retireLocked(w)
			}
		}
	}
	if len(p.workers) == 0 && p.qlen() == 0 && !p.isDone {
		p.isDone = true
		close(p.done)
	}
}

// abortLocked gives up on draining: queued tasks fail and workers are
// killed.
func (p *Pool) abortLocked() {
	if p.aborted {
		return
	}
	p.aborted = true
	for t := p.popLocked(); t != nil; t = p.popLocked() {
		p.evs = append(p.evs, event{t: t, err: ErrClosed})
	}
	for _, w := range p.workers {
		p.killLocked(w, ErrClosed)
	}
	p.drainLocked()
}

// retireLocked stops giving w tasks and closes its input, after which it
// exits on its own.
func (p *Pool) retireLocked(w *worker) {
	if w.state != workerReady && w.state != workerRetiring {
		return
	}
	w.state = workerRetiring
	if len(w.tasks) == 0 && !w.inputClosed {
		w.inputClosed = true
		w.closeInput()
	}
}

// killLocked kills w, recording reason as the cause its tasks fail with
// (the first reason sticks).
func (p *Pool) killLocked(w *worker, reason error) {
	if w.killErr == nil {
		w.killErr = reason
	}
	w.state = workerDying
	if w.cmd != nil && w.cmd.Process != nil {
		_ = w.cmd.Process.Kill() // an error means it has already gone
	}
}

// kill is killLocked for the worker's own goroutines.
func (p *Pool) kill(w *worker, reason error) {
	p.mu.Lock()
	p.killLocked(w, reason)
	p.unlock()
}

// timeout fires on the loop when t has run for the task timeout.
func (p *Pool) timeout(t *task) {
	p.mu.Lock()
	defer p.unlock()
	// A worker already being killed (for another task's timeout, say) is
	// not killed again, and its tasks keep the first reason.
	if w := t.w; w != nil && w.tasks[t.id] == t && w.state != workerDying {
		t.timedOut = true
		p.log.Warn("process: task timed out; killing its worker", "func", t.e.name, "pid", w.pid, "timeout", p.cfg.taskTimeout)
		p.killLocked(w, ErrKilled)
	}
}

// cancel is the canceller of a task's Deferred.
func (p *Pool) cancel(t *task) {
	t.fmu.Lock()
	ok := t.state.CompareAndSwap(statePending, stateCancelled)
	t.fmu.Unlock()
	if ok {
		p.cancelRemote(t)
	}
}

// cancelRemote makes t's worker cancel it, or drops it from the queue. Its
// worker keeps it in flight until it answers, so that the pool's count of
// the worker's load stays true.
func (p *Pool) cancelRemote(t *task) {
	p.mu.Lock()
	defer p.unlock()
	if t.queued {
		p.qdead++
		return
	}
	if w := t.w; w != nil && w.tasks[t.id] == t {
		w.sendControl(kindCancel, t.id, 0)
	}
}

// grant gives t's worker credit for n more stream values.
func (p *Pool) grant(t *task, n uint64) {
	p.mu.Lock()
	defer p.unlock()
	if w := t.w; w != nil && w.tasks[t.id] == t {
		w.sendControl(kindCredit, t.id, n)
	}
}

// finishLocked takes t off w once its final answer has come.
func (p *Pool) finishLocked(w *worker, t *task) {
	delete(w.tasks, t.id)
	if t.timer != nil {
		_ = t.timer.Cancel()
		t.timer = nil
	}
	switch {
	case len(w.tasks) > 0:
	case w.state == workerRetiring:
		p.retireLocked(w)
	case w.state == workerReady:
		p.idleLocked(w)
	}
	p.dispatchLocked()
}

// idleLocked notes that w has no task, and arranges for it to be stopped if
// it stays so for the idle timeout while the pool has more than the minimum
// of workers. One timer per worker serves every idle spell: when it fires
// early (the worker worked meanwhile), it is set again for the rest.
func (p *Pool) idleLocked(w *worker) {
	if p.cfg.idleTimeout <= 0 || p.closing || len(p.workers) <= p.cfg.minWorkers {
		return
	}
	w.idleSince = p.loop.Now()
	if w.idleTimer == nil {
		w.idleTimer = p.loop.CallLater(p.cfg.idleTimeout, func() { p.idleCheck(w) })
	}
}

func (p *Pool) idleCheck(w *worker) {
	p.mu.Lock()
	defer p.unlock()
	w.idleTimer = nil
	if w.state != workerReady || len(w.tasks) > 0 {
		return
	}
	serving := 0
	for _, o := range p.workers {
		if o.state == workerReady || o.state == workerStarting {
			serving++
		}
	}
	if serving <= p.cfg.minWorkers {
		return
	}
	if left := p.cfg.idleTimeout - p.loop.Now().Sub(w.idleSince); left > 0 {
		w.idleTimer = p.loop.CallLater(left, func() { p.idleCheck(w) })
		return
	}
	p.log.Debug("process: stopping idle worker", "pid", w.pid)
	p.retireLocked(w)
}

// started records w's pid; it reports false if w must be killed at once
// (the pool was aborted while it started).
func (p *Pool) started(w *worker, cmd *exec.Cmd) bool {
	p.mu.Lock()
	defer p.unlock()
	w.cmd, w.pid = cmd, cmd.Process.Pid
	return w.state != workerDying
}

// ready puts w to work after its handshake.
func (p *Pool) ready(w *worker) {
	p.mu.Lock()
	defer p.unlock()
	if w.state != workerStarting {
		return
	}
	w.state = workerReady
	p.startErr = nil
	p.dispatchLocked()
	if len(w.tasks) == 0 {
		p.idleLocked(w)
	}
}

// startFailed removes a worker that could not start. If no other worker can
// take the queued tasks, they fail with err, rather than wait for a start
// that may never succeed.
func (p *Pool) startFailed(w *worker, err error) {
	p.mu.Lock()
	defer p.unlock()
	p.removeLocked(w)
	if p.aborted {
		err = ErrClosed
	} else {
		p.log.Error("process: cannot start worker", "error", err)
		p.startErr = err
	}
	usable := false
	for _, o := range p.workers {
		if o.state == workerReady || o.state == workerStarting {
			usable = true
		}
	}
	if !usable {
		for t := p.popLocked(); t != nil; t = p.popLocked() {
			p.evs = append(p.evs, event{t: t, err: err})
		}
	}
	p.dispatchLocked()
}

// gone removes a worker that has ended, failing the tasks it still had.
func (p *Pool) gone(w *worker, werr WorkerError) {
	p.mu.Lock()
	defer p.unlock()
	p.removeLocked(w)
	werr.Err = w.killErr
	if len(w.tasks) > 0 || (werr.Err != nil && werr.Err != ErrClosed) || w.state != workerRetiring {
		p.log.Warn("process: worker went away", "pid", werr.PID, "tasks", len(w.tasks), "error", &werr)
	}
	for _, t := range w.tasks {
		e := werr
		if t.timedOut {
			e.Err = ErrTimeout
		}
		if t.timer != nil {
			_ = t.timer.Cancel()
			t.timer = nil
		}
		p.evs = append(p.evs, event{t: t, err: &e})
	}
	clear(w.tasks)
	p.dispatchLocked()
}

func (p *Pool) removeLocked(w *worker) {
	if i := slices.Index(p.workers, w); i >= 0 {
		p.workers = slices.Delete(p.workers, i, i+1)
	}
	if w.idleTimer != nil {
		_ = w.idleTimer.Cancel()
		w.idleTimer = nil
	}
	if p.closing {
		p.drainLocked()
	}
}

// exitGrace is how long a worker whose output has ended may take to exit
// before it is killed, and how long its stderr may stay open after it exited
// (a process it started may hold it).
const exitGrace = 2 * time.Second
