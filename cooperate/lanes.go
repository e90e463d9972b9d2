package cooperate

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/scheduler"
)

// The lanes of a Cooperator made with WithLanes.
//
// A lane is a goroutine that is a small loop of its own: a timer queue of
// functions to run (a scheduler.Timers), and a Cooperator that runs slices
// of the lane's tasks on it, exactly as a Cooperator without lanes runs them
// on its loop. Only the lane's goroutine touches its Cooperator and the
// tasks in it; everyone else sends it functions to run. The slicing, the
// turns, the weights and the waits on Deferreds are thus the very code that
// runs on the loop without lanes.
//
// What lanes add:
//   - Placement: the loop gives a new task to the lane with the fewest
//     runnable tasks (load, which counts tasks on their way to it too).
//   - Control: the loop records what the user asked for a task (paused,
//     stopped, weight) in the task's laneTask and sends the lane that holds
//     it a function that applies it (see laneTask).
//   - Balance: a lane left with no runnable task marks itself idle and
//     nudges the busiest lane; at the end of each slice, a lane with two
//     runnable tasks or more hands one to an idle lane, if there is one.
//   - Interruption: a function sent to a lane raises its pending flag, which
//     its Cooperator reads at every checkpoint, and pokes the running task
//     so that it reaches a checkpoint after its step: the slice ends there,
//     and the lane runs the function between two slices, never during a
//     step.
//   - Yielding: a lane gives up its processor between slices and after
//     handing the loop a finished task, so that the loop's goroutine, woken,
//     does not wait for the runtime to preempt a lane when lanes hold every
//     processor.
//   - Goexit: a step that calls runtime.Goexit fails its task and the lane
//     goes on (see goexit.go); should other code of the user's end a
//     lane's goroutine, a new goroutine takes the lane over.
//   - Shutdown: each lane stops its Cooperator (releasing its tasks'
//     iterators on its own goroutine), waits until every lane has, so that
//     no task can be handed to it any more, runs what is left in its queue
//     (a task handed over just before), and exits.

// lanePool is the lanes of one Cooperator, the one the user holds.
type lanePool struct {
	c   *Cooperator
	all []*lane

	started bool // the lanes' goroutines run; loop-owned
	next    int  // the lane adopt looks at first; loop-owned

	idle     atomic.Int32 // lanes in state laneIdle
	quitLeft atomic.Int32 // lanes that have not stopped their Cooperator yet
	allQuit  chan struct{}
	wg       sync.WaitGroup
}

// Lane states, for balancing.
const (
	laneBusy    int32 = iota // has runnable tasks, or has not said otherwise
	laneIdle                 // has none; a busy lane may claim it
	laneClaimed              // claimed: a task is on its way to it
)

// lane is one worker goroutine and its Cooperator.
type lane struct {
	p      *lanePool
	index  int         // its place in p.all
	coop   *Cooperator // the lane's own; only the lane's goroutine uses it
	timers *scheduler.Timers
	epoch  time.Time
	wake   chan struct{}

	pending atomic.Bool  // functions sent with send wait: end the slice
	load    atomic.Int64 // runnable tasks, and tasks placed on it not yet attached
	state   atomic.Int32 // laneBusy, laneIdle or laneClaimed

	// Owned by the lane's goroutine.
	published int  // the part of load that counts its runnable tasks
	quit      bool // its Cooperator is stopped: exit after this pass
}

func newLanePool(c *Cooperator) *lanePool {
	p := &lanePool{c: c, all: make([]*lane, c.cfg.lanes)}
	for i := range p.all {
		l := &lane{p: p, index: i, epoch: time.Now(), wake: make(chan struct{}, 1)}
		l.timers = scheduler.NewTimers(l.epoch, l.elapsed, l.signal)
		cfg := c.cfg
		cfg.lanes = 0
		cfg.schedule = l.schedule
		l.coop = newCooperator(l, cfg)
		l.coop.interrupt = &l.pending
		p.all[i] = l
	}
	return p
}

// adopt makes the new task inner a task of the lanes and returns its handle
// on the loop; it runs on the loop.
func (p *lanePool) adopt(inner *Task) *Task {
	c := p.c
	h := c.newTask()
	lt := &laneTask{outer: h, inner: inner}
	h.lt, inner.lt = lt, lt
	lt.ctl.Store(1 << ctlWeightShift)
	c.linkLive(h)
	if c.stopped {
		lt.settle(stateSchedulerStopped, c.stopErr)
		return h
	}
	if !p.started {
		p.start()
	}
	best := p.pick()
	best.load.Add(1)
	best.send(func() { best.attach(lt, true) })
	return h
}

// pick chooses the lane for a new task: the least loaded; on a tie, the
// first from the lane after the one chosen last. A lane publishes its load
// between slices, so a task that has just finished may still count there:
// taking turns on a tie keeps one-step tasks (Run) from piling on the
// first lane meanwhile. It runs on the loop.
func (p *lanePool) pick() *lane {
	n := len(p.all)
	best := p.all[p.next]
	least := best.load.Load()
	for k := 1; k < n; k++ {
		l := p.all[(p.next+k)%n]
		if m := l.load.Load(); m < least {
			best, least = l, m
		}
	}
	p.next = (best.index + 1) % n
	return best
}

// start starts the lanes' goroutines; it runs on the loop.
func (p *lanePool) start() {
	p.started = true
	p.allQuit = make(chan struct{})
	p.quitLeft.Store(int32(len(p.all)))
	for _, l := range p.all {
		p.wg.Add(1)
		go l.run()
	}
}

// stop stops the lanes and waits for them to exit; it runs on the loop.
func (p *lanePool) stop() {
	if !p.started {
		return
	}
	for _, l := range p.all {
		l.send(l.stop)
	}
	p.wg.Wait()
}

// The lane is the scheduler.Loop of its Cooperator: functions it is given
// run on the lane's goroutine, between slices.

func (l *lane) elapsed() time.Duration { return time.Since(l.epoch) }

// Now implements [scheduler.Clock].
func (l *lane) Now() time.Time { return time.Now() }

// CallLater implements [scheduler.Clock].
func (l *lane) CallLater(d time.Duration, f func()) scheduler.Call {
	return l.timers.Schedule(d, f)
}

// CallSoon implements [scheduler.Loop]. Its Cooperator uses it to resume a
// task whose Deferred has fired, which may happen on any goroutine: as on
// the loop without lanes, the task resumes after the current slice, which is
// left to run.
func (l *lane) CallSoon(f func()) {
	l.timers.Schedule(0, f)
}

// schedule is the lane Cooperator's scheduler: the next slice runs after
// whatever the lane has been sent.
func (l *lane) schedule(tick func()) scheduler.Call {
	return l.timers.Schedule(0, tick)
}

// send has the lane run f at its next slice boundary, which comes after the
// step under way: f is queued, then the running task is asked to reach a
// checkpoint, where it finds pending raised and ends the slice. Queueing
// before raising the flag matters: a pass lowers the flag before it takes
// the mark of what it runs, so f is either in that pass or flags the next.
func (l *lane) send(f func()) {
	l.timers.Schedule(0, f)
	l.pending.Store(true)
	l.coop.attn.Or(pokeBit)
}

// signal wakes the lane's goroutine if it sleeps; the timer queue calls it
// when a call becomes the earliest.
func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run is the lane's goroutine. Each pass runs the functions due when it
// starts (a slice among them), then balances the load with the other lanes,
// then sleeps until something is due.
func (l *lane) run() {
	var sleep *time.Timer
	returned := false
	defer func() {
		if sleep != nil {
			sleep.Stop()
		}
		if !returned {
			// A function of the user's that the lane ran outside a
			// task's iterator (a termination predicate, a Waitable's
			// OnComplete) called runtime.Goexit, and the slice has been
			// wound up (see endTick): the lane goes on, on a new
			// goroutine, with what is left in its queue.
			l.p.wg.Add(1)
			go l.run()
		}
		l.p.wg.Done()
	}()
	for {
		l.pending.Store(false)
		mark := l.timers.Mark()
		now := l.elapsed()
		for {
			f, ok := l.timers.PopDueBefore(now, mark)
			if !ok {
				break
			}
			f()
		}
		if l.quit {
			l.exit()
			returned = true
			return
		}
		l.balance()
		next, ok := l.timers.Next()
		if !ok {
			<-l.wake
			continue
		}
		d := next - l.elapsed()
		if d <= 0 {
			// Between two slices the loop runs everything else; a lane
			// lets the rest of the program have its processor, which
			// it would otherwise only lose when the runtime preempts it.
			runtime.Gosched()
			continue
		}
		if sleep == nil {
			sleep = time.NewTimer(d)
		} else {
			sleep.Reset(d)
		}
		select {
		case <-l.wake:
		case <-sleep.C:
		}
	}
}

// stop stops the lane's Cooperator: its tasks fail with ErrSchedulerStopped
// and their iterators are released here.
func (l *lane) stop() {
	l.quit = true
	l.coop.Stop()
	if l.p.quitLeft.Add(-1) == 0 {
		close(l.p.allQuit)
	}
}

// exit waits until no lane can hand a task to this one any more, then runs
// what is left in its queue (a task handed over just before is released
// by being attached to the stopped Cooperator) and closes it.
func (l *lane) exit() {
	<-l.p.allQuit
	for {
		f, ok := l.timers.PopDue(math.MaxInt64)
		if !ok {
			break
		}
		f()
	}
	l.timers.Close()
}

// attach makes the task of lt a task of this lane, placed by the loop or
// handed over by another lane, and applies what the loop asks of it.
func (l *lane) attach(lt *laneTask, placed bool) {
	if placed {
		l.published++ // the loop counted it in load already
	}
	t := lt.inner
	t.c = l.coop
	lt.home.Store(l)
	l.busy()
	l.coop.add(t)
	l.apply(lt)
}

// detach takes t, runnable, out of this lane, to hand it to another.
func (l *lane) detach(t *Task) *laneTask {
	l.coop.dropRunnable(t)
	l.coop.dropLive(t)
	t.lt.home.Store(nil)
	return t.lt
}

// apply brings the task of lt in line with what the loop asks of it, if
// this lane holds it; otherwise the lane that attaches it will.
func (l *lane) apply(lt *laneTask) {
	if lt.home.Load() != l {
		return
	}
	t := lt.inner
	if t.state != stateActive {
		return
	}
	ctl := lt.ctl.Load()
	if ctl&ctlStop != 0 {
		_ = t.Stop()
		return
	}
	t.weight = int(ctl >> ctlWeightShift)
	paused := ctl&ctlPause != 0
	switch {
	case paused && t.pauses == 0:
		_ = t.Pause()
	case !paused && t.pauses > 0:
		_ = t.Resume()
	}
}

// balance runs between slices: it hands runnable tasks to idle lanes,
// publishes the lane's load, and marks the lane idle when it has nothing to
// run, nudging the busiest lane to share.
func (l *lane) balance() {
	p := l.p
	if l.coop.runnable > 1 && p.idle.Load() > 0 {
		l.share()
	}
	n := l.coop.runnable
	if d := n - l.published; d != 0 {
		l.load.Add(int64(d))
		l.published = n
	}
	if n > 0 {
		l.busy()
		return
	}
	if l.quit || !l.state.CompareAndSwap(laneBusy, laneIdle) {
		return // idle already, or claimed: a task is on its way
	}
	p.idle.Add(1)
	var busiest *lane
	most := int64(1)
	for _, m := range p.all {
		if n := m.load.Load(); m != l && n > most {
			busiest, most = m, n
		}
	}
	if busiest != nil {
		busiest.send(busiest.balance)
	}
}

// busy records that the lane has, or is about to have, a task to run.
func (l *lane) busy() {
	if l.state.Swap(laneBusy) == laneIdle {
		l.p.idle.Add(-1)
	}
}

// share hands one runnable task to each idle lane it can claim, as long as
// it keeps two or more.
func (l *lane) share() {
	p := l.p
	for _, m := range p.all {
		if l.coop.runnable < 2 || p.idle.Load() == 0 {
			return
		}
		if m == l || !m.state.CompareAndSwap(laneIdle, laneClaimed) {
			continue
		}
		p.idle.Add(-1)
		lt := l.detach(l.gift())
		m.send(func() { m.attach(lt, false) })
	}
}

// gift picks the runnable task to hand over: the one whose turn comes last,
// so that the turn under way is not cut short and the task would have waited
// longest.
func (l *lane) gift() *Task {
	c := l.coop
	if c.cursor != nil && c.cursor.rprev != nil {
		return c.cursor.rprev
	}
	return c.tail
}
