package process

import (
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/twinego/twine/scheduler"
)

// loopReader is the pool's [scheduler.Idler], on a loop that lends its idle
// time (the reactor does). It lets the loop's goroutine read the answers to
// the calls that the pool's own callbacks make, as a single-threaded program
// would: the loop's thread spins a little for the worker's pipe (see
// spinWait), then waits for it in the kernel, reads the answer and fires
// the Deferred itself, whose callback sends the next call. An answer then
// wakes one thread of this process, if any, and no goroutine has to hand it
// to another, which on a small machine costs more than the whole round
// trip. Other answers are read by each worker's reader goroutine, which
// hands them to the loop with CallSoon.
//
// A worker's output has one reader at a time. Its reader goroutine offers
// it to the loop after answers that leave the worker at most one task, if
// a callback of the pool on the loop has made a call to it since the last
// offer; it then waits for it back. The loop hands it back:
//   - when it is about to run other work (Busy): answers must not wait for
//     the loop to be idle again;
//   - when it would sleep with no task in flight on the workers it reads:
//     the calls are not coming from its callbacks, and only the readers,
//     waiting in the kernel, notice a worker that dies meanwhile;
//   - when no answer has come after loopWait: the tasks are slow, and a
//     thread that waits in a system call keeps the loop's processor from
//     other goroutines until the runtime takes it back;
//   - when the worker's output ends or fails, or breaks the protocol, so
//     that its reader sees the end;
//   - when the pool kills the worker or closes its input, when the pool
//     closes (Close may be called on the loop, which cannot read then), and
//     when the loop stops for good.
//
// For this to pay, the loop reads the pipe through a descriptor outside
// Go's poller, and the reader's own descriptor, in the poller, is closed
// while the loop reads (see outputPipe): a pipe in the poller would wake
// the thread waiting in the poller as well, for every answer.
type loopReader struct {
	p            *Pool
	ef           *os.File // a blocking eventfd, outside Go's poller, that Wake writes to
	efc          syscall.RawConn
	poke         func() bool
	remove       func()
	state        atomic.Int32  // lrIdle, lrWaiting or lrWoken
	owned        atomic.Int32  // workers whose output the loop reads
	closed       bool          // p.mu: the pool has ended
	offers       atomic.Uint64 // outputs handed to the loop, for tests
	reads        atomic.Uint64 // reads of an output on the loop, for tests
	poll         func(fd uintptr)
	runFn        func()
	wait         time.Duration // loopWait
	pollDuration time.Duration // the loop's, as the rest below
	slow         bool          // the last wait took longer than spinWait
	polled       int
	pfds         []pollFD
	ws           []*worker
	evs          []event
	buf          [8]byte
}

const (
	lrIdle int32 = iota
	lrWaiting
	lrWoken
)

// loopWait is the longest the loop waits for answers in a system call
// before it hands the workers' output back to their readers. Tiny tasks
// answer in tens of microseconds. A pool takes its value when it is made;
// tests change it.
var loopWait = 200 * time.Microsecond

// wakeOne is what Wake writes to the eventfd.
var wakeOne = [8]byte{1}

type pollFD struct {
	fd      int32
	events  int16
	revents int16
}

// newLoopReader returns the pool's loop reader, or nil if loop does not
// lend its idle time.
func newLoopReader(p *Pool, loop scheduler.Loop) *loopReader {
	il, ok := loop.(scheduler.IdleLoop)
	if !ok {
		return nil
	}
	fd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil
	}
	ef := os.NewFile(fd, "twine-process-wake")
	efc, err := ef.SyscallConn()
	if err != nil {
		_ = ef.Close()
		return nil
	}
	lr := &loopReader{p: p, ef: ef, efc: efc, wait: loopWait}
	lr.poll = lr.pollWithWake
	lr.runFn = lr.runEvents
	lr.poke, lr.remove = il.AddIdler(lr)
	return lr
}

// offer hands w's output to the loop, if the loop may take it: it reports
// whether w's reader must wait for it back, on w.rback.
func (lr *loopReader) offer(w *worker) bool {
	p := lr.p
	p.mu.Lock()
	ok := !lr.closed && !p.closing && w.wantLoop && w.state == workerReady && len(w.tasks) <= 1
	if ok {
		w.releaseOutputLocked()
		w.wantLoop = false
		w.lown = true
		lr.owned.Add(1)
		lr.offers.Add(1)
	}
	p.mu.Unlock()
	if !ok || lr.poke() { // a loop asleep comes to read it
		return ok
	}
	// The loop has stopped for good.
	p.mu.Lock()
	defer p.mu.Unlock()
	if !w.lown {
		return true // it has been handed back already: take the token
	}
	w.lown = false
	lr.owned.Add(-1)
	return false
}

// giveBackLocked hands w's output back to its reader goroutine, at once or,
// if the loop is reading it, once it is done.
func (lr *loopReader) giveBackLocked(w *worker) {
	if w.lio.busy {
		w.lio.give = true
		return
	}
	w.lown, w.lio.give = false, false
	lr.owned.Add(-1)
	w.rback <- struct{}{}
}

// giveAllBackLocked hands every output the loop reads back.
func (lr *loopReader) giveAllBackLocked() {
	for _, w := range lr.p.workers {
		if w.lown {
			lr.giveBackLocked(w)
		}
	}
}

// Idle implements [scheduler.Idler]: on the loop's goroutine, it waits for
// the answers of the workers whose output the loop reads, and reads them.
func (lr *loopReader) Idle(d time.Duration) (func(), bool) {
	if lr.owned.Load() == 0 {
		return nil, false
	}
	p := lr.p
	p.mu.Lock()
	ws, pfds := lr.ws[:0], lr.pfds[:0]
	inFlight := false
	for _, w := range p.workers {
		if w.lown {
			ws = append(ws, w)
			pfds = append(pfds, pollFD{fd: int32(w.lio.raw.fd), events: pollIn})
			inFlight = inFlight || len(w.tasks) > 0
		}
	}
	if !inFlight || lr.closed {
		lr.giveAllBackLocked()
		p.mu.Unlock()
		clear(ws)
		return nil, false
	}
	p.mu.Unlock()

	if !lr.state.CompareAndSwap(lrIdle, lrWaiting) {
		lr.state.Store(lrIdle) // woken before it waited
		clear(ws)
		return nil, true
	}
	limit := lr.wait
	if d >= 0 && d < limit {
		limit = d
	}
	lr.pfds, lr.pollDuration, lr.polled = pfds, limit, -1
	err := lr.efc.Control(lr.poll)
	pfds = lr.pfds
	lr.state.Store(lrIdle)
	if err != nil { // closed meanwhile
		p.mu.Lock()
		lr.giveAllBackLocked()
		p.mu.Unlock()
		clear(ws)
		return nil, false
	}
	if pfds[len(pfds)-1].revents != 0 {
		// Woken. A wake that comes after ppoll has returned is read at the
		// next, which it ends at once.
		_, _ = lr.ef.Read(lr.buf[:])
	}

	p.mu.Lock()
	ready := ws[:0]
	for i, w := range ws {
		switch {
		case !w.lown:
		case pfds[i].revents != 0:
			w.lio.busy = true
			ready = append(ready, w)
		case lr.polled == 0 && limit == lr.wait:
			lr.giveBackLocked(w) // slow answers: their readers wait for them
		}
	}
	p.mu.Unlock()
	clear(ws[len(ready):])
	lr.ws = ws[:0]

	for _, w := range ready {
		w.lio.fail = !lr.read(w)
		w.lreads++
	}
	lr.reads.Add(uint64(len(ready)))
	if len(ready) > 0 {
		p.mu.Lock()
		for _, w := range ready {
			w.lio.busy = false
			if w.lio.give || w.lio.fail {
				lr.giveBackLocked(w)
			}
		}
		p.mu.Unlock()
		clear(ready)
	}
	if len(lr.evs) > 0 {
		return lr.runFn, true
	}
	return nil, true
}

// pollWithWake waits for lr.pfds and the eventfd fd, at most
// lr.pollDuration, and leaves the eventfd last in lr.pfds and the number
// of descriptors ready in lr.polled (-1 if interrupted). After a short
// wait, it first spins (see spinWait), polling without waiting and
// yielding its processor, then waits in ppoll.
func (lr *loopReader) pollWithWake(fd uintptr) {
	lr.pfds = append(lr.pfds, pollFD{fd: int32(fd), events: pollIn})
	sp := spin{start: spinClock()}
	defer func() { lr.slow = spinClock()-sp.start > int64(spinWait) }()
	for !lr.slow && sp.ok() && spinClock()-sp.start < int64(lr.pollDuration) {
		if n, _ := ppoll(lr.pfds, 0); n != 0 {
			sp.found()
			lr.polled = n
			return
		}
		sp.yield()
	}
	left := lr.pollDuration - time.Duration(spinClock()-sp.start)
	if left <= 0 {
		lr.polled = 0
		return
	}
	lr.polled, _ = ppoll(lr.pfds, left)
}

// read reads what w's output holds and handles its frames, on the loop. It
// reports false if the output must go back to w's reader: it has ended, it
// failed (the reader reads it again, and finds out), or w broke the
// protocol (the reader finds the error in w.lerr).
func (lr *loopReader) read(w *worker) bool {
	fr := w.fr
	fr.r = &w.lio.raw
	err := fr.fill()
	if err == syscall.EAGAIN {
		return true // read by nobody else, but the pipe is non-blocking
	}
	if err != nil {
		return false // its reader reads it again, and sees why
	}
	if _, err := w.drain(fr, true); err != nil {
		w.lerr = err // for the reader, which stops there
		return false
	}
	return true
}

// take keeps the events of answers read on the loop, for the loop to run.
func (lr *loopReader) take(evs []event) {
	lr.evs = append(lr.evs, evs...)
}

// runEvents is what Idle hands the loop to run.
func (lr *loopReader) runEvents() {
	evs := lr.evs
	lr.evs = nil
	lr.p.runEvents(evs)
	clear(evs)
	if lr.evs == nil {
		lr.evs = evs[:0]
	}
}

// Wake implements [scheduler.Idler].
func (lr *loopReader) Wake() {
	if lr.state.Swap(lrWoken) == lrWaiting {
		_, _ = lr.ef.Write(wakeOne[:])
	}
}

// Busy implements [scheduler.Idler]: the workers' readers take their output
// back.
func (lr *loopReader) Busy() {
	if lr.owned.Load() == 0 {
		return
	}
	lr.p.mu.Lock()
	lr.giveAllBackLocked()
	lr.p.mu.Unlock()
}

// close ends the loop's reading, once the pool has no worker left.
func (lr *loopReader) close() {
	lr.p.mu.Lock()
	lr.closed = true
	lr.p.mu.Unlock()
	lr.remove()
	_ = lr.ef.Close()
}

// outputPipe returns the pipe for a worker's output, its ends blocking for
// now, so that os.NewFile keeps ours out of Go's poller: the loop waits for
// it in ppoll, and a pipe in the poller would also wake the thread waiting
// in the poller, for every answer. The reader goroutine reads it through a
// duplicate in the poller (see openOutput), closed while the loop reads.
func outputPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}

// openOutput readies w.outBase, just started, for both readers.
func (w *worker) openOutput() error {
	rc, err := w.outBase.SyscallConn()
	if err != nil {
		return err
	}
	if err := rc.Control(func(fd uintptr) { w.lio.raw.fd = int(fd) }); err != nil {
		return err
	}
	return w.reopenOutput()
}

// reopenOutput gives the reader goroutine its file of the output again: a
// duplicate of the pipe's descriptor, non-blocking, which os.NewFile puts
// in Go's poller.
func (w *worker) reopenOutput() error {
	fd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(w.lio.raw.fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return os.NewSyscallError("fcntl", errno)
	}
	if err := syscall.SetNonblock(int(fd), true); err != nil {
		_ = syscall.Close(int(fd))
		return os.NewSyscallError("fcntl", err)
	}
	w.out = os.NewFile(fd, "|0")
	if w.fr != nil {
		w.fr.r = w.out
	}
	return nil
}

// releaseOutputLocked takes the reader goroutine's file of the output out
// of Go's poller, for the loop to read it.
func (w *worker) releaseOutputLocked() {
	_ = w.out.Close()
	w.out = nil
}

// closeOutput closes our ends of the output, once the reader is done.
func (w *worker) closeOutput() {
	if w.out != nil {
		_ = w.out.Close()
	}
	_ = w.outBase.Close()
}

// loopIO is the loop's side of a worker's output.
type loopIO struct {
	busy bool   // p.mu: the loop is reading it right now
	give bool   // p.mu: hand it back once the loop is done reading
	fail bool   // the loop's: its read found the output ended or broken
	raw  rawOut // the output, read without Go's poller
}

// rawOut reads a worker's output with plain read system calls, on the
// loop, once ppoll has found it readable.
type rawOut struct{ fd int }

func (r *rawOut) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(r.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// ppoll waits for the descriptors, at most d (without limit if d is
// negative), and returns how many are ready, or -1 and the error.
func ppoll(fds []pollFD, d time.Duration) (int, syscall.Errno) {
	var tsp *syscall.Timespec
	if d >= 0 {
		ts := syscall.NsecToTimespec(int64(d))
		tsp = &ts
	}
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(tsp)), 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(n), 0
}
