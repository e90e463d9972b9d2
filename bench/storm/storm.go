package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// squared is a task's result: the square, and which worker computed it.
type squared struct{ Square, PID int }

// stormSquare is the storm's task. It is registered in a package variable,
// so that the workers (this executable, started again) register it too.
var stormSquare = process.Register("storm.square", func(_ context.Context, n int) (squared, error) {
	return squared{Square: n * n, PID: os.Getpid()}, nil
})

// storm is one run: the pool, the tasks' fates and the killer's doings.
type storm struct {
	cfg config
	p   *process.Pool

	// The loop's.
	next     int     // the next task to call
	fired    []uint8 // how many times each task's callback ran, up to 255
	settled  int     // tasks whose Deferred has fired
	done     chan struct{}
	progress chan struct{} // a Deferred fired; capacity 1

	mu       sync.Mutex
	killed   map[int]bool // pids the storm killed
	missed   int          // kills that found the process gone
	answered map[int]bool // pids that answered a task
	t        tally

	log *poolLog
}

// runStorm runs the storm that cfg describes and returns its tallies; an
// error means it could not run.
func runStorm(ctx context.Context, cfg config) (*tally, error) {
	s := &storm{
		cfg:      cfg,
		fired:    make([]uint8, cfg.tasks),
		done:     make(chan struct{}),
		progress: make(chan struct{}, 1),
		killed:   map[int]bool{},
		answered: map[int]bool{},
		log:      &poolLog{startFailed: map[int]bool{}, wentAway: map[int]bool{}},
		t:        tally{tasks: cfg.tasks, other: map[string]int{}, otherExample: map[string]string{}},
	}
	ll := &loopLog{}
	r := reactor.New(reactor.WithLogger(slog.New(ll)), reactor.WithWatchdog(0))
	p, err := process.NewPool(r,
		process.WithMinWorkers(0),
		process.WithMaxWorkers(cfg.workers),
		process.WithMaxInFlight(cfg.inFlight),
		process.WithRecycleAfter(cfg.recycle),
		process.WithLogger(slog.New(s.log)))
	if err != nil {
		return nil, err
	}
	s.p = p
	start := time.Now()
	ran := make(chan error, 1)
	r.CallWhenRunning(func() {
		for s.next < min(cfg.window, cfg.tasks) {
			s.call()
		}
	})
	go func() { ran <- r.Run() }()

	stopKiller, killerDone := make(chan struct{}), make(chan struct{})
	go s.killer(stopKiller, killerDone)
	stalled := s.wait(ctx)
	close(stopKiller)
	<-killerDone

	closeCtx, cancel := context.WithTimeout(context.Background(), cfg.close)
	s.t.closeErr = p.Close(closeCtx)
	cancel()
	_ = r.Stop()
	if err := <-ran; err != nil {
		return nil, err
	}
	s.t.elapsed = time.Since(start)
	s.t.panics, s.t.twice = ll.counts()
	s.t.stalled = stalled
	s.count()
	return &s.t, nil
}

// wait waits for every Deferred to fire; it gives up after cfg.stall
// without any firing, or when ctx ends, and then reports true.
func (s *storm) wait(ctx context.Context) bool {
	stall := time.NewTimer(s.cfg.stall)
	defer stall.Stop()
	for {
		select {
		case <-s.done:
			return false
		case <-s.progress:
			stall.Reset(s.cfg.stall)
		case <-stall.C:
			return true
		case <-ctx.Done():
			return true
		}
	}
}

// call makes the next task's call, on the loop.
func (s *storm) call() {
	i := s.next
	s.next++
	stormSquare.Call(s.p, i).AddBoth(func(v squared, err error) (squared, error) {
		s.settle(i, v, err)
		return v, nil
	})
}

// settle records task i's outcome, on the loop, and makes the next call.
func (s *storm) settle(i int, v squared, err error) {
	if s.fired[i] < 255 {
		s.fired[i]++
	}
	if s.fired[i] > 1 {
		return // counted as fired twice
	}
	if err == nil && v.Square != i*i {
		err = fmt.Errorf("storm: square(%d) = %d", i, v.Square)
	}
	s.mu.Lock()
	if err == nil {
		s.t.succeeded++
		s.answered[v.PID] = true
	} else {
		s.classifyLocked(err)
	}
	s.mu.Unlock()
	if s.settled++; s.settled == s.cfg.tasks {
		close(s.done)
	}
	select {
	case s.progress <- struct{}{}:
	default:
	}
	if s.next < s.cfg.tasks {
		s.call()
	}
}

// classifyLocked counts a failure by its reason. The one a task may fail
// with is the *WorkerError of a worker the storm killed while it had the
// task: a SIGKILL that the pool did not send.
func (s *storm) classifyLocked(err error) {
	var we *process.WorkerError
	reason := "other error"
	switch {
	case errors.As(err, &we) && we.Err == nil && we.Signal == syscall.SIGKILL && s.killed[we.PID]:
		s.t.killedWith++
		return
	case errors.As(err, &we) && we.Err != nil:
		reason = "worker stopped by the pool: " + we.Err.Error()
	case errors.As(err, &we):
		reason = "worker ended, not by the storm"
	case errors.Is(err, process.ErrStart):
		reason = "worker starts failed"
	case errors.Is(err, process.ErrClosed):
		reason = "pool closed"
	case errors.Is(err, scheduler.ErrLoopStopped):
		reason = "loop stopped"
	case errors.As(err, new(*process.RemoteError)):
		reason = "the function failed"
	}
	s.t.other[reason]++
	if _, ok := s.t.otherExample[reason]; !ok {
		s.t.otherExample[reason] = err.Error()
	}
}

// killer kills workers until stop is closed: one of every cfg.early
// workers as soon as it shows up in the pool, which is most often before
// its handshake, and every cfg.every a random worker that has answered
// tasks.
func (s *storm) killer(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	rng := rand.New(rand.NewPCG(s.cfg.seed, 0))
	poll := time.NewTicker(min(s.cfg.every, pollEvery))
	defer poll.Stop()
	next := time.Now().Add(s.cfg.every)
	seen := map[int]bool{}
	starts := 0
	var serving []int
	for {
		select {
		case <-stop:
			return
		case <-poll.C:
		}
		pids := s.p.Workers()
		s.mu.Lock()
		for _, pid := range pids {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			if starts++; s.cfg.early > 0 && starts%s.cfg.early == 0 && !s.answered[pid] {
				s.killLocked(pid)
			}
		}
		if now := time.Now(); !now.Before(next) {
			next = now.Add(s.cfg.every)
			serving = serving[:0]
			for _, pid := range pids {
				if s.answered[pid] && !s.killed[pid] {
					serving = append(serving, pid)
				}
			}
			if len(serving) > 0 {
				s.killLocked(serving[rng.IntN(len(serving))])
			}
		}
		s.mu.Unlock()
	}
}

// pollEvery is how often the killer looks for new workers.
const pollEvery = 500 * time.Microsecond

// killLocked sends pid SIGKILL, once.
func (s *storm) killLocked(pid int) {
	if s.killed[pid] {
		return
	}
	s.killed[pid] = true
	if syscall.Kill(pid, syscall.SIGKILL) != nil {
		s.missed++ // it has gone, and been waited for
	}
}

// count fills in the tallies that the end of the run tells.
func (s *storm) count() {
	t := &s.t
	for _, n := range s.fired {
		switch {
		case n == 0:
			t.lost++
		case n == 1:
			t.once++
		default:
			t.once++ // it fired; once more than that is counted apart
			t.twice++
		}
	}
	t.kills = len(s.killed)
	for pid := range s.killed {
		switch {
		case s.log.saw(s.log.startFailed, pid):
			t.before++
		case s.log.saw(s.log.wentAway, pid):
			t.after++
		}
	}
	t.missed = t.kills - t.before - t.after
	t.failed = t.tasks - t.lost - t.succeeded
}

// poolLog is the pool's logger: it notes which workers the pool saw end
// before their handshake, and which after (its two reports of a worker's
// unexpected end). Everything else it drops.
type poolLog struct {
	mu          sync.Mutex
	startFailed map[int]bool
	wentAway    map[int]bool
}

func (l *poolLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelWarn }
func (l *poolLog) WithAttrs([]slog.Attr) slog.Handler               { return l }
func (l *poolLog) WithGroup(string) slog.Handler                    { return l }

func (l *poolLog) Handle(_ context.Context, r slog.Record) error {
	var m map[int]bool
	switch r.Message {
	case "process: cannot start worker":
		m = l.startFailed
	case "process: worker went away":
		m = l.wentAway
	default:
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "pid" {
			l.mu.Lock()
			m[int(a.Value.Int64())] = true
			l.mu.Unlock()
			return false
		}
		return true
	})
	return nil
}

func (l *poolLog) saw(m map[int]bool, pid int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return m[pid]
}

// loopLog is the reactor's logger: it counts the panics the reactor caught
// in callbacks, and among them the second firings of a Deferred.
type loopLog struct {
	mu            sync.Mutex
	panics, twice int
}

func (l *loopLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }
func (l *loopLog) WithAttrs([]slog.Attr) slog.Handler               { return l }
func (l *loopLog) WithGroup(string) slog.Handler                    { return l }

func (l *loopLog) Handle(_ context.Context, r slog.Record) error {
	twice := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && errors.Is(err, deferred.ErrAlreadyCalled) {
			twice = true
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if twice {
		l.twice++
	} else {
		l.panics++
	}
	return nil
}

// counts returns the panics other than second firings, and those.
func (l *loopLog) counts() (panics, twice int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.panics, l.twice
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
