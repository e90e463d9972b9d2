package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twinego/twine/scheduler"
)

// worker is the pool's side of one worker process. Its goroutines: run
// (supervises the process and reads its output), writeLoop (writes its
// input) and stderrLoop (forwards its stderr); run starts the other two and
// waits for them before it reports the worker's end to the pool.
type worker struct {
	p   *Pool
	seq int

	// Guarded by p.mu.
	state       workerState
	pid         int
	cmd         *exec.Cmd
	tasks       map[uint64]*task // in flight, by request id
	nextID      uint64
	sent        int   // tasks sent, for WithRecycleAfter
	killErr     error // why the pool killed it, or nil
	inputClosed bool
	stuck       int // tasks in tasks cancelled longer ago than the cancel grace
	idleTimer   scheduler.Call
	idleSince   time.Time

	signalled atomic.Bool // the pool has sent the process a kill

	// The input side, guarded by wmu: frames are appended to wbuf (under
	// p.mu too, for calls and cancels, so that they go out in the order the
	// pool decided), and the writer goroutine writes them out in batches.
	wmu     sync.Mutex
	enc     Encoder
	wbuf    []byte
	spare   []byte
	wbusy   bool // the writer has been kicked and has not yet emptied wbuf
	closeIn bool // close the input once wbuf is written
	werr    error
	kickc   chan struct{}
	raw     rawWrite // tryWrite's, while wbusy

	// The output side. Its reader is the goroutine run, or the loop's
	// goroutine while lown is set (see loopReader), never both at once.
	lown         bool          // p.mu: the loop reads the output; run waits on rback
	wantLoop     bool          // p.mu: a call was made from a callback on the loop
	lerr         error         // the loop's, then the reader's: how the worker broke the protocol
	lreads       int           // the loop's, then the reader's: reads while the loop had it
	offerSkip    int           // the reader's: see backOff
	offerBackoff int           // the reader's: see backOff
	rback        chan struct{} // the loop hands the output back to run; capacity 1
	fr           *frameReader
	outBase      *os.File // our end of the output pipe; out reads it, or the loop
	lio          loopIO   // the loop's side of the output
	frames       []frame

	dec        Decoder // the reader's
	rtasks     []*task // the reader's scratch space, per batch of frames
	rerrs      []error
	revs       []event
	in, out    *os.File // out: what the reader goroutine reads the output through
	inConn     syscall.RawConn
	errp       *os.File
	tail       tail
	writerDone chan struct{}
	stderrDone chan struct{}
}

func newWorker(p *Pool, seq int) *worker {
	w := &worker{
		p:          p,
		seq:        seq,
		tasks:      make(map[uint64]*task),
		enc:        p.cfg.codec.NewEncoder(),
		dec:        p.cfg.codec.NewDecoder(),
		kickc:      make(chan struct{}, 1),
		rback:      make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		stderrDone: make(chan struct{}),
	}
	w.raw.fn = w.raw.write
	return w
}

// run starts the worker process and supervises it to its end.
func (w *worker) run() {
	p := w.p
	defer p.wg.Done()
	cmd, err := w.start()
	if err != nil {
		p.startFailed(w, fmt.Errorf("%w: %w", ErrStart, err), nil)
		return
	}
	go w.writeLoop()
	go w.stderrLoop(cmd.Process.Pid)
	if !p.started(w, cmd) {
		w.kill(cmd.Process)
	}
	fr := newFrameReader(w.out, "the worker", helloMax)
	w.fr = fr
	herr, killNow := w.handshake(fr)
	if herr == nil {
		p.ready(w)
		fr.limit = p.cfg.maxFrame
		if reason := w.readLoop(fr); reason != nil {
			p.kill(w, reason)
		}
	} else if killNow {
		w.kill(cmd.Process)
	}

	// The worker's output has ended: it is exiting, or was killed. Give it
	// a moment, then make sure.
	kill := time.AfterFunc(exitGrace, func() { w.kill(cmd.Process) })
	_ = cmd.Wait()
	kill.Stop()
	w.closeInput()
	<-w.writerDone
	select {
	case <-w.stderrDone:
	case <-time.After(exitGrace):
		// A process the worker started still holds its stderr.
		_ = w.errp.SetReadDeadline(time.Now())
		<-w.stderrDone
	}
	w.closeOutput()
	_ = w.errp.Close()

	werr := WorkerError{PID: cmd.Process.Pid, StderrTail: w.tail.String()}
	werr.ExitCode, werr.Signal = exitStatus(cmd.ProcessState)
	if herr != nil {
		werr.Err = herr
		p.startFailed(w, herr, &werr)
		return
	}
	p.gone(w, werr)
}

// kill kills the worker's process, and notes that the pool did: a signal
// that ends a worker before its handshake tells whether its start failed
// for a reason of its own.
func (w *worker) kill(proc *os.Process) {
	w.signalled.Store(true)
	_ = proc.Kill() // an error means it has already gone
}

// start starts the process, its stdio on three pipes.
func (w *worker) start() (*exec.Cmd, error) {
	p := w.p
	var files [6]*os.File // child's stdin, our end; our stdout end, child's; our stderr end, child's
	for i := 0; i < 6; i += 2 {
		pipe := os.Pipe
		if i == 2 {
			pipe = outputPipe
		}
		r, wr, err := pipe()
		if err != nil {
			for _, f := range files[:i] {
				_ = f.Close()
			}
			return nil, err
		}
		files[i], files[i+1] = r, wr
	}
	cmd := &exec.Cmd{
		Path:   p.exe,
		Args:   []string{os.Args[0]},
		Env:    p.env,
		Dir:    p.cfg.dir,
		Stdin:  files[0],
		Stdout: files[3],
		Stderr: files[5],
	}
	err := cmd.Start()
	for _, i := range []int{0, 3, 5} {
		_ = files[i].Close()
	}
	if err != nil {
		for _, i := range []int{1, 2, 4} {
			_ = files[i].Close()
		}
		return nil, err
	}
	w.in, w.outBase, w.errp = files[1], files[2], files[4]
	if w.inConn, err = w.in.SyscallConn(); err == nil {
		err = w.openOutput()
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = files[1].Close()
		_ = files[4].Close()
		w.closeOutput()
		return nil, err
	}
	return cmd, nil
}

// handshake sends the pool's hello and checks the worker's. killNow says
// that the process is not a worker that will exit on its own.
func (w *worker) handshake(fr *frameReader) (err error, killNow bool) {
	p := w.p
	w.wmu.Lock()
	w.wbuf = appendHello(w.wbuf, &hello{
		version:  protocolVersion,
		codec:    p.cfg.codec.Name(),
		maxFrame: uint64(p.cfg.maxFrame),
		depth:    uint64(p.cfg.maxInFlight),
		funcs:    signatures(),
	})
	w.kickLocked()
	w.wmu.Unlock()

	_ = w.out.SetReadDeadline(time.Now().Add(p.cfg.startTimeout))
	f, err := fr.readFrame()
	_ = w.out.SetReadDeadline(time.Time{})
	if err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("%w: no handshake within %v", ErrStart, p.cfg.startTimeout), true
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			// It is exiting, or was killed: its exit status will say how.
			return fmt.Errorf("%w: the worker ended before its handshake", ErrStart), false
		case errors.Is(err, ErrFrameTooLarge):
			err = errNotHello
		default:
			return fmt.Errorf("%w: %w", ErrStart, err), true
		}
	}
	var h *hello
	if err == nil {
		h, err = parseHello(f)
	}
	if err != nil {
		return fmt.Errorf("%w: %v (does its main call process.Main first?)", ErrHandshake, err), true
	}
	if h.version != protocolVersion {
		return fmt.Errorf("%w: the worker speaks protocol version %d, this process version %d", ErrHandshake, h.version, protocolVersion), false
	}
	if d := diffSignatures(signatures(), h.funcs); d != "" {
		return fmt.Errorf("%w: registered functions differ: %s", ErrHandshake, d), false
	}
	if h.problem != "" {
		return fmt.Errorf("%w: %s", ErrHandshake, h.problem), false
	}
	return nil, false
}

// Worker states, in p.mu.
type workerState int

const (
	workerStarting workerState = iota // started, before its handshake
	workerReady                       // takes tasks
	workerRetiring                    // takes no tasks; its input is closed once it has none
	workerDying                       // killed, or found broken: waiting for its end
	workerGone                        // ended, and out of the pool
)

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
	p.startErr, p.startFails = nil, 0
	p.dispatchLocked()
	if len(w.tasks) == 0 {
		p.idleLocked(w)
	}
}

// startFailed removes a worker that could not start: reason is why, proc
// how its process ended (nil if none ran). No task was sent to it, so none
// fails with it: the queued tasks wait for the next worker, which
// dispatchLocked starts. Only when starts keep failing for a reason that
// lies with the executable (MaxStartFailures in a row), and no other worker
// may take them, do the queued tasks fail, with a startError.
func (p *Pool) startFailed(w *worker, reason error, proc *WorkerError) {
	// A process that a signal from outside ended (SIGKILL, say, from an
	// operator or a chaos test) says nothing about the executable.
	external := proc != nil && proc.Signal != 0 && !w.signalled.Load() && !crashSignal(proc.Signal)
	p.mu.Lock()
	p.removeLocked(w)
	aborted := p.aborted
	inARow, failed := p.startFails, 0
	if !aborted && !external {
		p.startFails++
		inARow = p.startFails
		p.startErr = reason
		if inARow >= MaxStartFailures && !p.usableLocked() {
			err := &startError{err: reason, n: inARow, last: proc}
			for t := p.popLocked(); t != nil; t = p.popLocked() {
				p.evs = append(p.evs, event{t: t, err: err})
				failed++
			}
		}
	}
	p.dispatchLocked()
	p.unlock()
	if aborted {
		return
	}
	attrs := []any{"error", reason}
	if proc != nil {
		attrs = []any{"pid", proc.PID, "error", proc}
	}
	if external {
		p.log.Warn("process: cannot start worker", attrs...)
		return
	}
	p.log.Error("process: cannot start worker", append(attrs, "failed_in_a_row", inARow)...)
	if failed > 0 {
		p.log.Error("process: worker starts keep failing; the queued tasks fail", "tasks", failed, "failed_in_a_row", inARow)
	}
}

// usableLocked reports whether a worker takes tasks, or will once started.
func (p *Pool) usableLocked() bool {
	for _, o := range p.workers {
		if o.state == workerReady || o.state == workerStarting {
			return true
		}
	}
	return false
}

// gone removes a worker that has ended, failing the tasks it still had
// with werr (and its cause, if the pool killed it).
func (p *Pool) gone(w *worker, werr WorkerError) {
	p.mu.Lock()
	// A worker that was told to stop and had nothing left to do is expected
	// to go; so is one that Close killed.
	expected := w.state == workerRetiring && w.killErr == nil && werr.ExitCode == 0 ||
		w.killErr == ErrClosed
	p.removeLocked(w)
	werr.Err = w.killErr
	lost := len(w.tasks)
	for _, t := range w.tasks {
		e := werr
		if t.timedOut {
			e.Err = ErrTimeout
		}
		p.stopTimersLocked(t)
		p.evs = append(p.evs, event{t: t, err: &e})
	}
	clear(w.tasks)
	w.stuck = 0
	p.dispatchLocked()
	p.unlock()
	if !expected {
		p.log.Warn("process: worker went away", "pid", werr.PID, "tasks", lost, "error", &werr)
	}
}

func (p *Pool) removeLocked(w *worker) {
	w.state = workerGone
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
