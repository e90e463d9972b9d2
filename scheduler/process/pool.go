package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

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
// to its replacement, and so does a worker that dies before its handshake
// (see [ErrStart]). A task is never retried on another worker.
//
// All methods are safe to use from any goroutine. Call [Pool.Close] to stop
// the workers: it waits for their tasks, then for every process and
// goroutine of the pool to end.
//
// The pool's Deferreds fire on its loop. If the loop is a
// [scheduler.StoppableLoop] (the reactor is one) and stops for good while
// tasks are still running, their results can no longer be delivered there:
// [Pool.Close] then fires their Deferreds, failed with an error wrapping
// [scheduler.ErrLoopStopped], and says how many there were; a call made
// once the loop has stopped fails at once. Close the pool before the loop
// stops, from a before-shutdown trigger, as Close's documentation shows.
type Pool struct {
	loop      scheduler.Loop
	stoppable scheduler.StoppableLoop // loop, if it may stop for good
	cfg       config
	exe       string
	env       []string
	log       *slog.Logger

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
	// startErr is why the last worker start failed for a reason that lies
	// with the executable, until one succeeds; startFails counts those
	// failures in a row. While startErr is set, the pool does not restart
	// workers to keep the minimum, so that a broken executable is not
	// started in a loop.
	startErr   error
	startFails int
	done       chan struct{} // closed when closing and all has ended
	isDone     bool
	// lost holds the events that the loop refused, having stopped for
	// good, for Close to run (see keep).
	lost []event

	wg     sync.WaitGroup // the workers' supervising goroutines
	timers sync.WaitGroup // the task timeouts and cancel graces set (see afterFunc)
	// undelivered counts the Deferreds failed because the loop had
	// stopped, for Close to report.
	undelivered atomic.Int64

	lr *loopReader // reads answers on the loop, if the loop lends its idle time
	// inEvents is set while the loop runs the pool's events: calls made
	// then come from callbacks on the loop, whose answers the loop may read.
	inEvents atomic.Bool
}

// NewPool returns a pool that runs tasks in workers started from this
// executable and fires their Deferreds on loop (the reactor, typically).
// It starts the minimum number of workers ([WithMinWorkers]) in the
// background and returns at once; calls made before a worker is ready wait
// in the queue.
//
// It returns an error wrapping [scheduler.ErrLoopStopped] if loop is a
// [scheduler.StoppableLoop] that has already stopped (a reactor whose Run
// has returned), since the pool's Deferreds could never fire on it;
// [ErrNoMain] if [Main] has not been called; and an error wrapping
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
	stoppable, _ := loop.(scheduler.StoppableLoop)
	if stoppable != nil && stoppable.Stopped() {
		return nil, fmt.Errorf("process: NewPool: the loop cannot run the pool's callbacks: %w", scheduler.ErrLoopStopped)
	}
	if !mainCalled.Load() {
		return nil, ErrNoMain
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	p := &Pool{
		loop:      loop,
		stoppable: stoppable,
		cfg:       cfg,
		exe:       exe,
		env:       workerEnv(cfg.procs, cfg.nice, cfg.env),
		log:       cfg.logger,
		done:      make(chan struct{}),
	}
	p.lr = newLoopReader(p, loop)
	p.mu.Lock()
	p.scaleLocked()
	p.unlock()
	return p, nil
}

// workerEnv is this process's environment with GOMAXPROCS, the extra
// entries, the nice increment and the mark that makes Main serve; later
// entries win.
func workerEnv(procs, nice int, extra []string) []string {
	env := os.Environ()
	if procs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	env = append(env, extra...)
	env = append(env, envNice+"="+strconv.Itoa(nice))
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
// goroutine of the pool has ended: nil if the tasks were drained, ctx's
// error if it had to kill. The Deferreds of the tasks are fired on the
// loop, so their callbacks run when the loop runs. Calls drain whatever the
// loop does meanwhile, even while Close blocks the loop itself: the
// workers' answers are read off the loop, and task timeouts
// ([WithTaskTimeout]) and cancel graces ([WithCancelGrace]) run on timers
// of their own. Stream values need the loop to run while Close waits (the
// worker waits for the caller to take them), so do not block the loop in
// Close while streams are running. Calling Close again waits again, with
// the new ctx.
//
// Close the pool before its loop stops, so that every result reaches the
// loop. With a reactor, close it from a before-shutdown trigger, on a
// goroutine, so that the reactor goes on running the results' callbacks
// while Close waits, and its shutdown waits for Close (within
// reactor.WithShutdownTimeout):
//
//	r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferred.Deferred[struct{}] {
//		return reactor.DeferToGoroutine(r, func() (struct{}, error) {
//			return struct{}{}, pool.Close(ctx)
//		})
//	})
//
// If the loop stops for good first ([scheduler.StoppableLoop]), it refuses
// the results that come later. Close then still drains and stops the
// workers, and before it returns it fires, on its own goroutine, the
// Deferreds whose results the loop refused, failed with an error wrapping
// [scheduler.ErrLoopStopped] (and the task's own error, if it failed); its
// own error then wraps ErrLoopStopped too and says how many results could
// not be delivered. The pool's own goroutines never run those callbacks:
// Close waits for them, and a callback that called Close would wait for
// itself.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		// Close may be called on the loop, which then cannot read: the
		// workers' reader goroutines take their outputs back.
		if p.lr != nil {
			p.lr.giveAllBackLocked()
			p.lr.Wake()
		}
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
	p.timers.Wait()
	if p.lr != nil {
		p.lr.close()
	}
	p.runLost()
	if n := p.undelivered.Load(); n > 0 {
		err = errors.Join(err, undeliveredError(n))
	}
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
		p.post(evs)
	}
}

// submit sends t to a worker, or queues it. If the loop has stopped for
// good, t fails at once: its result could never be delivered.
func (p *Pool) submit(t *task) {
	if p.stoppable != nil && p.stoppable.Stopped() {
		if t.settle(notRunError(t.e.name)) {
			p.undelivered.Add(1)
		}
		return
	}
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
	p.cancelRemoteLocked(t)
}

func (p *Pool) cancelRemoteLocked(t *task) {
	if t.queued {
		if !t.dead {
			// Counted here, under p.mu, not when its state changed: the
			// queue may have skipped it in between.
			t.dead = true
			p.qdead++
		}
		return
	}
	if w := t.w; w != nil && w.tasks[t.id] == t && !t.stopping {
		t.stopping = true
		w.sendControl(kindCancel, t.id, 0)
		p.graceLocked(t)
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
