package process

import "time"

// The pool's time limits on tasks, the task timeout ([WithTaskTimeout]) and
// the cancel grace ([WithCancelGrace]), run on timers of their own, not on
// the loop: they must fire whatever the loop does, even while it waits in
// Close for the very task they end.

// afterFunc runs f once d has passed, on a goroutine of its own. Close
// waits for a call of f under way (p.timers).
func (p *Pool) afterFunc(d time.Duration, f func()) *time.Timer {
	p.timers.Add(1)
	return time.AfterFunc(d, func() {
		defer p.timers.Done()
		f()
	})
}

// stopTimer stops the timer *tp of afterFunc, if any, and clears it.
func (p *Pool) stopTimer(tp **time.Timer) {
	if tm := *tp; tm != nil {
		if tm.Stop() {
			p.timers.Done() // f will never run
		}
		*tp = nil
	}
}

// stopTimersLocked stops t's timers, once it has ended.
func (p *Pool) stopTimersLocked(t *task) {
	p.stopTimer(&t.timer)
	p.stopTimer(&t.grace)
}

// timeout runs when t has run for the task timeout: it kills t's worker. A
// worker already being killed (for another task's timeout, say) is not
// killed again, and its tasks keep the first reason. The timers of tasks
// sent together may run in any order: the task that timed out is the
// worker's first one due, the one sent first (its request id is the
// lowest), as it would be had the timers run in order.
func (p *Pool) timeout(t *task) {
	p.mu.Lock()
	w := t.w
	if w == nil || w.tasks[t.id] != t || w.state == workerDying {
		p.unlock()
		return
	}
	first := t
	for _, o := range w.tasks {
		if o.id < first.id && o.timer != nil {
			first = o
		}
	}
	first.timedOut = true
	p.killLocked(w, ErrKilled)
	pid := w.pid
	p.unlock()
	p.log.Warn("process: task timed out; killing its worker", "func", first.e.name, "pid", pid, "timeout", p.cfg.taskTimeout)
}

// graceLocked gives t, whose worker has just been told to stop it, the
// cancel grace to end. The task timeout no longer applies to it: its
// Deferred has fired, and the grace ends its hold on the worker without
// killing the worker's other tasks.
func (p *Pool) graceLocked(t *task) {
	if p.cfg.cancelGrace <= 0 {
		return
	}
	p.stopTimer(&t.timer)
	t.grace = p.afterFunc(p.cfg.cancelGrace, func() { p.graceOver(t) })
}

// graceOver runs when t, told to stop, has not ended within the cancel
// grace: its function ignores its context. Its worker takes no more tasks,
// and is stopped once it has only such tasks left (see retireLocked): its
// input closes, and the worker exits without waiting for them.
func (p *Pool) graceOver(t *task) {
	p.mu.Lock()
	w := t.w
	if w == nil || w.tasks[t.id] != t || t.stuck {
		p.unlock()
		return
	}
	t.stuck = true
	w.stuck++
	if w.state == workerReady {
		w.state = workerRetiring
	}
	pid := w.pid
	p.settleWorkerLocked(w)
	p.unlock()
	p.log.Warn("process: a cancelled task has not ended; its worker takes no more tasks",
		"func", t.e.name, "pid", pid, "grace", p.cfg.cancelGrace)
}
