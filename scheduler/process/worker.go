package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/twinego/twine/deferred"
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
	idleTimer   scheduler.Call
	idleSince   time.Time

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

	dec        Decoder // the reader's, in run
	in, out    *os.File
	inConn     syscall.RawConn
	errp       *os.File
	tail       tail
	writerDone chan struct{}
	stderrDone chan struct{}
}

func newWorker(p *Pool, seq int) *worker {
	return &worker{
		p:          p,
		seq:        seq,
		tasks:      make(map[uint64]*task),
		enc:        p.cfg.codec.NewEncoder(),
		dec:        p.cfg.codec.NewDecoder(),
		kickc:      make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		stderrDone: make(chan struct{}),
	}
}

// run starts the worker process and supervises it to its end.
func (w *worker) run() {
	p := w.p
	defer p.wg.Done()
	cmd, err := w.start()
	if err != nil {
		p.startFailed(w, fmt.Errorf("%w: %w", ErrStart, err))
		return
	}
	go w.writeLoop()
	go w.stderrLoop(cmd.Process.Pid)
	if !p.started(w, cmd) {
		_ = cmd.Process.Kill()
	}
	herr, killNow := w.handshake()
	if herr == nil {
		p.ready(w)
		if reason := w.readLoop(); reason != nil {
			p.kill(w, reason)
		}
	} else if killNow {
		_ = cmd.Process.Kill()
	}

	// The worker's output has ended: it is exiting, or was killed. Give it
	// a moment, then make sure.
	kill := time.AfterFunc(exitGrace, func() { _ = cmd.Process.Kill() })
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
	_ = w.out.Close()
	_ = w.errp.Close()

	werr := WorkerError{PID: cmd.Process.Pid, StderrTail: w.tail.String()}
	werr.ExitCode, werr.Signal = exitStatus(cmd.ProcessState)
	if herr != nil {
		werr.Err = herr
		p.startFailed(w, &werr)
		return
	}
	p.gone(w, werr)
}

// start starts the process, its stdio on three pipes.
func (w *worker) start() (*exec.Cmd, error) {
	p := w.p
	var files [6]*os.File // child's stdin, our end; our stdout end, child's; our stderr end, child's
	for i := 0; i < 6; i += 2 {
		r, wr, err := os.Pipe()
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
	w.in, w.out, w.errp = files[1], files[2], files[4]
	if w.inConn, err = w.in.SyscallConn(); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		for _, i := range []int{1, 2, 4} {
			_ = files[i].Close()
		}
		return nil, err
	}
	return cmd, nil
}

// handshake sends the pool's hello and checks the worker's. killNow says
// that the process is not a worker that will exit on its own.
func (w *worker) handshake() (err error, killNow bool) {
	p := w.p
	w.wmu.Lock()
	w.wbuf = appendHello(w.wbuf, &hello{
		version:  protocolVersion,
		codec:    p.cfg.codec.Name(),
		maxFrame: uint64(p.cfg.maxFrame),
		funcs:    signatures(),
	})
	w.kickLocked()
	w.wmu.Unlock()

	_ = w.out.SetReadDeadline(time.Now().Add(p.cfg.startTimeout))
	f, err := readFrame(w.out, helloMax)
	_ = w.out.SetReadDeadline(time.Time{})
	if err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("%w: no handshake within %v", ErrStart, p.cfg.startTimeout), true
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return fmt.Errorf("%w: the worker ended before its handshake", ErrStart), true
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

// readBuf is the reader's buffer size; it grows for longer frames.
const readBuf = 64 << 10

// readLoop reads the worker's frames until its output ends (nil) or it
// breaks the protocol (the reason). It hands the loop the events of each
// read at once.
func (w *worker) readLoop() error {
	buf := make([]byte, readBuf)
	var start, end int
	var evs []event
	post := func() {
		if len(evs) > 0 {
			batch := evs
			w.p.loop.CallSoon(func() { runEvents(batch) })
			evs = nil
		}
	}
	defer post()
	for {
		n, rerr := w.out.Read(buf[end:])
		end += n
		for end-start >= frameHeader {
			size := uint64(binary.BigEndian.Uint32(buf[start:]))
			if size > uint64(w.p.cfg.maxFrame) {
				return fmt.Errorf("%w: the worker sent a frame of %d bytes; the limit is %d", ErrFrameTooLarge, size, w.p.cfg.maxFrame)
			}
			need := frameHeader + int(size)
			if end-start < need {
				if need > len(buf)-start {
					nb := make([]byte, max(need, readBuf))
					end = copy(nb, buf[start:end])
					buf, start = nb, 0
				}
				break
			}
			if err := w.handle(buf[start+frameHeader:start+need], &evs); err != nil {
				return err
			}
			start += need
		}
		post()
		if start > 0 {
			end = copy(buf, buf[start:end])
			start = 0
			if len(buf) > readBuf && end <= readBuf {
				nb := make([]byte, readBuf)
				copy(nb, buf[:end])
				buf = nb
			}
		}
		if rerr != nil {
			if rerr == io.EOF {
				return nil
			}
			return fmt.Errorf("process: reading from the worker: %w", rerr)
		}
	}
}

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// handle acts on one frame from the worker.
func (w *worker) handle(b []byte, evs *[]event) error {
	f, err := parseFrame(b)
	if err != nil {
		return protocolError("%v", err)
	}
	p := w.p
	switch f.kind {
	case kindResult, kindEnd, kindError:
		var terr error
		if f.kind == kindError {
			if terr, err = remoteError(f.body); err != nil {
				return protocolError("%v in the error for request %d", err, f.id)
			}
		} else if f.kind == kindEnd && len(f.body) != 0 {
			return protocolError("%v: end of stream %d with a body", errMalformed, f.id)
		}
		p.mu.Lock()
		t := w.tasks[f.id]
		if t == nil || (f.kind == kindResult && t.e.stream) || (f.kind == kindEnd && !t.e.stream) {
			p.mu.Unlock()
			return protocolError("unexpected frame of kind %d for request %d", f.kind, f.id)
		}
		p.finishLocked(w, t)
		p.unlock()
		if re, ok := terr.(*RemoteError); ok {
			re.Func = t.e.name
		}
		if f.kind == kindResult {
			if err := t.impl.decode(w.dec, f.body, false); err != nil {
				terr = fmt.Errorf("process: decoding the result of %q: %w", t.e.name, err)
			}
		}
		*evs = append(*evs, event{t: t, err: terr})
	case kindItem:
		p.mu.Lock()
		t := w.tasks[f.id]
		p.mu.Unlock()
		if t == nil || !t.e.stream {
			return protocolError("unexpected stream value for request %d", f.id)
		}
		if err := t.impl.decode(w.dec, f.body, true); err != nil {
			*evs = append(*evs, event{t: t, err: fmt.Errorf("process: decoding a value of %q: %w", t.e.name, err)})
			p.cancelRemote(t)
			break
		}
		*evs = append(*evs, event{t: t, item: true})
	default:
		return protocolError("unknown frame kind %d", f.kind)
	}
	return nil
}

// remoteError turns the body of an error frame into the task's error.
func remoteError(body []byte) (error, error) {
	r := reader{b: body}
	kind := r.byte()
	text := r.string()
	if r.err != nil {
		return nil, r.err
	}
	switch kind {
	case errFunc:
		return &RemoteError{Text: text}, nil
	case errPanic:
		return &deferred.PanicError{Value: text, Stack: append([]byte(nil), r.b...)}, nil
	case errTooLarge:
		return fmt.Errorf("%w: %s", ErrFrameTooLarge, text), nil
	case errInternal:
		return errors.New(text), nil
	}
	return nil, fmt.Errorf("%w: error kind %d", errMalformed, kind)
}

// sendCall appends t's call frame to the input, and kicks the writer if
// kick is set (otherwise the caller writes it out with flushNow). An error
// (the argument cannot be encoded, or is too large) concerns t alone.
func (w *worker) sendCall(t *task, kick bool) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.werr != nil || w.closeIn {
		return nil // it is going away, and t with it
	}
	start := len(w.wbuf)
	b, at := beginFrame(w.wbuf, kindCall, t.id)
	b = binary.AppendUvarint(b, uint64(t.e.index))
	if !t.e.argEmpty {
		var err error
		if b, err = w.enc.Encode(b, t.arg); err != nil {
			w.wbuf = b[:start]
			return fmt.Errorf("process: encoding the argument of %q: %w", t.e.name, err)
		}
	}
	if n := len(b) - at - frameHeader; n > w.p.cfg.maxFrame {
		w.wbuf = b[:start]
		w.enc.Reset()
		return fmt.Errorf("%w: the argument of %q takes %d bytes; the limit is %d", ErrFrameTooLarge, t.e.name, n, w.p.cfg.maxFrame)
	}
	w.wbuf = endFrame(b, at)
	t.arg = nil
	if kick {
		w.kickLocked()
	}
	return nil
}

// flushNow writes the pending input from the calling goroutine, if no write
// is in progress, as far as the pipe takes it without waiting; the writer
// goroutine writes the rest. It saves a goroutine switch on the way to an
// idle worker, where the round trip's latency is what counts; busy workers
// get their input in batches from the writer.
func (w *worker) flushNow() {
	w.wmu.Lock()
	if w.wbusy || len(w.wbuf) == 0 || w.werr != nil || w.closeIn {
		w.wmu.Unlock()
		return
	}
	w.wbusy = true
	out := w.wbuf
	w.wbuf = w.spare[:0]
	w.wmu.Unlock()
	n, err := w.tryWrite(out)
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err != nil {
		w.werr = err // the worker is gone: its reader will tell
		w.wbuf = w.wbuf[:0]
		w.wbusy = false
		return
	}
	if n < len(out) {
		// The pipe is full: the writer goroutine takes over, and wbusy
		// stays set for it.
		w.wbuf = append(out[n:], w.wbuf...)
		w.kickc <- struct{}{}
		return
	}
	w.spare = out[:0]
	w.wbusy = false
	if len(w.wbuf) > 0 {
		w.kickLocked()
	}
}

// tryWrite writes b without waiting for room in the pipe: it returns how
// much it wrote, and an error only if the pipe is broken.
func (w *worker) tryWrite(b []byte) (int, error) {
	var n int
	var werr error
	err := w.inConn.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			m, err := syscall.Write(int(fd), b)
			if err == syscall.EINTR {
				continue
			}
			if m > 0 {
				n += m
				b = b[m:]
			}
			if err != nil {
				if err != syscall.EAGAIN {
					werr = err
				}
				break
			}
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return n, werr
}

// sendControl appends a cancel or credit frame to the input.
func (w *worker) sendControl(kind byte, id, n uint64) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.werr != nil || w.closeIn {
		return
	}
	if kind == kindCredit {
		w.wbuf = appendFrame(w.wbuf, kind, id, n)
	} else {
		w.wbuf = appendFrame(w.wbuf, kind, id)
	}
	w.kickLocked()
}

// closeInput closes the worker's input once what is pending has been
// written: a worker exits when its input ends.
func (w *worker) closeInput() {
	w.wmu.Lock()
	w.closeIn = true
	w.kickLocked()
	w.wmu.Unlock()
}

func (w *worker) kickLocked() {
	if !w.wbusy {
		w.wbusy = true
		select {
		case w.kickc <- struct{}{}:
		default:
		}
	}
}

// writeLoop writes the input out, in batches, until it is closed.
func (w *worker) writeLoop() {
	defer close(w.writerDone)
	for range w.kickc {
		w.wmu.Lock()
		for len(w.wbuf) > 0 && w.werr == nil {
			out := w.wbuf
			w.wbuf = w.spare[:0]
			w.wmu.Unlock()
			_, err := w.in.Write(out)
			w.wmu.Lock()
			if cap(out) <= 1<<20 {
				w.spare = out[:0]
			}
			if err != nil && w.werr == nil {
				w.werr = err // the worker is gone: its reader will tell
			}
		}
		w.wbuf = w.wbuf[:0]
		w.wbusy = false
		if w.closeIn {
			w.wmu.Unlock()
			_ = w.in.Close()
			return
		}
		w.wmu.Unlock()
	}
}
