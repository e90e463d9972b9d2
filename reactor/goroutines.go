package reactor

import (
	"sync"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/internal/funcinfo"
)

// DeferToGoroutine runs f on a goroutine of the reactor's bounded set and
// returns a Deferred that fires with f's result on the reactor goroutine:
// Twisted's deferToThread. At most [WithMaxGoroutines] functions run at once;
// the others wait their turn, in the order given. A goroutine is started
// only when a function is waiting and a place is free, and ends when no
// function waits, so an idle reactor holds none.
//
// A panic in f is recovered and fails the Deferred with a
// [*deferred.PanicError]; an f that calls [runtime.Goexit] fails it with a
// [*GoexitError], and another goroutine takes its place. f itself must not
// touch reactor-owned state: it runs concurrently with the reactor. It is
// safe to call DeferToGoroutine from any goroutine, before Run too.
//
// Shutdown waits for the functions already running and delivers their
// results before [Reactor.Run] returns; functions still waiting when the
// shutdown event has fired never start, and their Deferreds fail with
// [ErrStopped] on the reactor goroutine. Called after that, DeferToGoroutine
// returns a Deferred that has already failed with [ErrStopped]. A nil r or f
// panics.
func DeferToGoroutine[T any](r *Reactor, f func() (T, error)) *deferred.Deferred[T] {
	if r == nil {
		panic("reactor: DeferToGoroutine: nil reactor")
	}
	if f == nil {
		panic("reactor: DeferToGoroutine: nil function")
	}
	j := &goJob[T]{r: r, f: f, d: deferred.New[T]()}
	if !r.pool.submit(j) {
		return deferred.Fail[T](ErrStopped)
	}
	return j.d
}

// CallInGoroutine runs f on a goroutine of the reactor's bounded set, as
// [DeferToGoroutine] does, for work whose result nobody waits for:
// Twisted's callInThread. f shares the set's places and its order with
// DeferToGoroutine's functions, and must not touch reactor-owned state.
//
// Nothing is lost without a word: a panic in f is recovered and logged
// through the reactor's logger with f's name and the stack, and so is an f
// that calls [runtime.Goexit] (another goroutine takes its place). It is
// safe from any goroutine, before Run too. Once the reactor's shutdown
// event has fired it returns [ErrStopped] and f never runs; an f still
// waiting for a place then never starts either, and the log says so. A nil
// f panics.
func (r *Reactor) CallInGoroutine(f func()) error {
	if f == nil {
		panic("reactor: Reactor.CallInGoroutine: nil function")
	}
	if !r.pool.submit(&callJob{r: r, f: f}) {
		return ErrStopped
	}
	return nil
}

// callJob is a CallInGoroutine function.
type callJob struct {
	r *Reactor
	f func()
}

func (j *callJob) run() {
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			j.r.logPanic("reactor: CallInGoroutine function panicked", v, "func", funcinfo.String(j.f))
			return
		}
		e := newGoexitError(j.f, "CallInGoroutine function")
		j.r.log.Error("reactor: CallInGoroutine function called runtime.Goexit",
			"func", funcinfo.String(j.f), "stack", stackValue(e.Stack))
	}()
	j.f()
	returned = true
}

func (j *callJob) stop() {
	j.r.log.Warn("reactor: CallInGoroutine function dropped at shutdown", "func", funcinfo.String(j.f))
}

// job is a function waiting for, or running on, a pool goroutine.
type job interface {
	run()  // on a pool goroutine
	stop() // on the reactor goroutine, for a job that will never run
}

type goJob[T any] struct {
	r   *Reactor
	f   func() (T, error)
	d   *deferred.Deferred[T]
	v   T
	err error
}

func (j *goJob[T]) run() {
	returned := false
	defer func() {
		if !returned { // runtime.Goexit: report it, as the goroutine ends
			j.err = newGoexitError(j.f, "DeferToGoroutine function")
			j.f = nil
			j.r.enqueue(j.deliver)
		}
	}()
	j.v, j.err = callGuarded(j.f)
	returned = true
	j.f = nil
	// The pool is still busy with this job, so shutdown has not closed the
	// queue: the result is delivered.
	j.r.enqueue(j.deliver)
}

func (j *goJob[T]) deliver() {
	if j.err != nil {
		j.d.Errback(j.err)
		return
	}
	j.d.Callback(j.v)
}

func (j *goJob[T]) stop() { j.d.Errback(ErrStopped) }

// callGuarded calls f, turning a panic into a *deferred.PanicError.
func callGuarded[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = deferred.NewPanicError(p)
		}
	}()
	return f()
}

// callDeferred calls f, turning a panic into a Deferred failed with a
// *deferred.PanicError; it returns nil if f does.
func callDeferred[T any](f func() *deferred.Deferred[T]) *deferred.Deferred[T] {
	d, err := callGuarded(func() (*deferred.Deferred[T], error) { return f(), nil })
	if err != nil {
		return deferred.Fail[T](err)
	}
	return d
}

// pool runs jobs on at most max goroutines. The waiting jobs and the count
// of running goroutines change together under mu, so a goroutine that finds
// no job and leaves cannot strand a job queued at that moment.
type pool struct {
	max     int
	mu      sync.Mutex
	waiting []job
	head    int
	running int
	closed  bool
	idleNow func() // called when the last goroutine of a closed pool ends
	wg      sync.WaitGroup
}

func (p *pool) init(max int, idleNow func()) {
	p.max = max
	p.idleNow = idleNow
}

// submit starts j on a new goroutine if a place is free, or queues it; it
// reports false if the pool is closed.
func (p *pool) submit(j job) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.running == p.max {
		p.waiting = append(p.waiting, j)
		return true
	}
	p.running++
	p.wg.Add(1)
	go p.work(j)
	return true
}

// work runs j (if not nil), then every job that waits, then leaves. A job
// that ends the goroutine with runtime.Goexit has reported it itself; a new
// goroutine takes this one's place and goes on with the jobs that wait.
func (p *pool) work(j job) {
	left := false
	defer func() {
		if !left {
			p.wg.Add(1)
			go p.work(nil)
		}
		p.wg.Done()
	}()
	for {
		if j != nil {
			j.run()
		}
		if j = p.next(); j == nil {
			left = true
			return
		}
	}
}

// next takes the next waiting job for a pool goroutine, or returns nil if
// none waits: the goroutine then leaves, and the last to leave a closed
// pool tells the reactor.
func (p *pool) next() job {
	p.mu.Lock()
	if p.head < len(p.waiting) {
		j := p.waiting[p.head]
		p.waiting[p.head] = nil
		p.head++
		if p.head == len(p.waiting) {
			p.waiting, p.head = p.waiting[:0], 0
		}
		p.mu.Unlock()
		return j
	}
	p.running--
	last := p.closed && p.running == 0
	p.mu.Unlock()
	if last {
		p.idleNow()
	}
	return nil
}

// close refuses further jobs and returns those that never started.
func (p *pool) close() []job {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	js := p.waiting[p.head:]
	p.waiting, p.head = nil, 0
	return js
}

// idle reports whether no job is running.
func (p *pool) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running == 0
}

// counts reports how many jobs run and how many wait.
func (p *pool) counts() (running, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running, len(p.waiting) - p.head
}

// wait waits for every pool goroutine to return.
func (p *pool) wait() { p.wg.Wait() }
