package process

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
			if t.dead {
				p.qdead--
			}
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
	// A call that a callback on the loop makes while the loop reads the
	// worker's output is most likely one of a chain, the next made as soon
	// as its answer is in: the worker may spin for it.
	fromLoop := p.lr != nil && p.inEvents.Load()
	if err := w.sendCall(t, !direct, fromLoop && w.lown); err != nil {
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
	if fromLoop {
		w.wantLoop = true // its answer may be read on the loop
	}
	if p.cfg.taskTimeout > 0 {
		t.timer = p.afterFunc(p.cfg.taskTimeout, func() { p.timeout(t) })
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
			if (w.state == workerReady || w.state == workerRetiring) && len(w.tasks) == w.stuck {
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

// retireLocked stops giving w tasks and, once it has none left but those
// stuck past their cancel grace, closes its input, after which it exits on
// its own (and does not wait for those).
func (p *Pool) retireLocked(w *worker) {
	if w.state != workerReady && w.state != workerRetiring {
		return
	}
	w.state = workerRetiring
	if len(w.tasks) == w.stuck && !w.inputClosed {
		w.inputClosed = true
		w.closeInput()
		p.handBackLocked(w) // its reader must see it end
	}
}

// killLocked kills w, recording reason as the cause its tasks fail with
// (the first reason sticks).
func (p *Pool) killLocked(w *worker, reason error) {
	if w.killErr == nil {
		w.killErr = reason
	}
	w.state = workerDying
	p.handBackLocked(w) // its reader must see it end
	if w.cmd != nil && w.cmd.Process != nil {
		w.kill(w.cmd.Process)
	}
}

// kill is killLocked for the worker's own goroutines.
func (p *Pool) kill(w *worker, reason error) {
	p.mu.Lock()
	p.killLocked(w, reason)
	p.unlock()
}

// finishLocked takes t off w once its final answer has come; then
// settleWorkerLocked must be called.
func (p *Pool) finishLocked(w *worker, t *task) {
	delete(w.tasks, t.id)
	if t.stuck {
		w.stuck--
	}
	p.stopTimersLocked(t)
}

// settleWorkerLocked acts on w's load after tasks have finished: it
// retires a retiring worker with none left (but stuck ones), marks idle a
// ready worker with none, and gives out queued tasks.
func (p *Pool) settleWorkerLocked(w *worker) {
	switch {
	case w.state == workerRetiring && len(w.tasks) == w.stuck:
		p.retireLocked(w)
	case w.state == workerReady && len(w.tasks) == 0:
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
	w.idleTimer = nil
	if stop := p.idleDueLocked(w); !stop {
		p.unlock()
		return
	}
	p.retireLocked(w)
	pid := w.pid
	p.unlock()
	p.log.Debug("process: stopping idle worker", "pid", pid)
}

// idleDueLocked reports whether w, idle, must stop now; if it must stop
// later, it sets the timer again for the rest.
func (p *Pool) idleDueLocked(w *worker) bool {
	if w.state != workerReady || len(w.tasks) > 0 {
		return false
	}
	serving := 0
	for _, o := range p.workers {
		if o.state == workerReady || o.state == workerStarting {
			serving++
		}
	}
	if serving <= p.cfg.minWorkers {
		return false
	}
	if left := p.cfg.idleTimeout - p.loop.Now().Sub(w.idleSince); left > 0 {
		w.idleTimer = p.loop.CallLater(left, func() { p.idleCheck(w) })
		return false
	}
	return true
}

// handBackLocked makes w's reader goroutine read its output again, if the
// loop reads it: at once, or as soon as the loop has done reading. It wakes
// the loop, which may be waiting for w.
func (p *Pool) handBackLocked(w *worker) {
	if w.lown {
		p.lr.giveBackLocked(w)
		p.lr.Wake()
	}
}
