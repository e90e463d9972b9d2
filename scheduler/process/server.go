package process

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// The environment variable that makes Main serve as a worker.
const (
	envWorker      = "TWINE_PROCESS_WORKER"
	envWorkerValue = "1"
)

var mainCalled atomic.Bool

// serving is the worker's server, in a worker process; tests reach its
// output stream through it (export_test.go).
var serving *server

// Main turns this process into a worker if a [Pool] started it, and returns
// at once otherwise. Call it first in main (and in TestMain, for tests that
// use pools), after the functions have been registered, which package-level
// variables and init functions have done by then:
//
//	func main() {
//		process.Main()
//		// the program itself
//	}
//
// In a worker, Main never returns: it serves tasks until its input closes,
// which the pool does when it stops the worker or when the parent process
// dies, then exits the process. It cancels the contexts of the tasks still
// running and does not wait for them.
//
// Main fixes the set of registered functions: [Register] panics after it.
// [NewPool] requires it, so that a worker cannot start the program instead
// of serving. Calling Main again does nothing more.
func Main() {
	freeze()
	mainCalled.Store(true)
	if os.Getenv(envWorker) != envWorkerValue {
		return
	}
	// Processes that a task starts are not workers.
	_ = os.Unsetenv(envWorker)
	os.Exit(serve())
}

// Exit codes of a worker.
const (
	exitOK       = 0
	exitBroken   = 2 // the protocol broke: bad frame, or the parent went away
	exitRefused  = 3 // the handshake found a mismatch
	exitNoStdio  = 4 // could not set up its streams
	exitWriteErr = 5 // could not write to the parent
)

// server is the worker's side of the protocol.
type server struct {
	in, out  *os.File
	maxFrame int
	exit     chan int // the exit code, from the reader

	// The reader's: one goroutine at a time (see read).
	dec          Decoder
	rbuf         []byte
	rstart, rend int

	mu    sync.Mutex
	tasks map[uint64]*running

	wmu   sync.Mutex
	enc   Encoder
	wbuf  []byte
	spare []byte
	wbusy bool // a task goroutine is writing wbuf out
}

// running is a task in the worker.
type running struct {
	cancel  context.CancelFunc
	credits uint64        // stream values it may still send, in s.mu
	wake    chan struct{} // signalled when credits come, for streams
}

func serve() int {
	in, out, err := takeStdio()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitNoStdio
	}
	f, err := readFrame(in, helloMax)
	if err != nil {
		fmt.Fprintln(os.Stderr, "process: worker: reading the handshake:", err)
		return exitBroken
	}
	h, err := parseHello(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "process: worker: the handshake:", err)
		return exitBroken
	}
	var problem string
	var codec Codec
	switch {
	case h.version != protocolVersion:
		problem = fmt.Sprintf("the parent speaks protocol version %d, the worker version %d", h.version, protocolVersion)
	case diffSignatures(h.funcs, signatures()) != "":
		problem = "registered functions differ: " + diffSignatures(h.funcs, signatures())
	default:
		var ok bool
		if codec, ok = lookupCodec(h.codec); !ok {
			problem = fmt.Sprintf("the worker has no codec %q (RegisterCodec must run in an init function)", h.codec)
		}
	}
	reply := appendHello(nil, &hello{
		version: protocolVersion,
		pid:     uint64(os.Getpid()),
		problem: problem,
		funcs:   signatures(),
	})
	if _, err := out.Write(reply); err != nil {
		return exitWriteErr
	}
	if problem != "" {
		fmt.Fprintln(os.Stderr, "process: worker: handshake refused:", problem)
		return exitRefused
	}
	s := &server{
		in:       in,
		out:      out,
		maxFrame: int(min(h.maxFrame, uint64(1<<31-1))),
		dec:      codec.NewDecoder(),
		enc:      codec.NewEncoder(),
		tasks:    make(map[uint64]*running),
	}
	serving = s
	return s.loop()
}

// loop serves until the input ends, and returns the exit code.
func (s *server) loop() int {
	s.rbuf = make([]byte, readBuf)
	s.exit = make(chan int, 1)
	go s.read()
	return <-s.exit
}

// read reads the parent's frames and acts on them, until the input ends.
// Leader and followers: the goroutine that reads a call runs it itself,
// after starting another goroutine to read on, so a task starts without a
// goroutine switch; in a batch of calls read at once, the others get
// goroutines of their own. One goroutine at a time reads; the buffer passes
// from one to the next with the go statement.
func (s *server) read() {
	for {
		var mine *call
		for s.rend-s.rstart >= frameHeader {
			size := uint64(binary.BigEndian.Uint32(s.rbuf[s.rstart:]))
			if size > uint64(s.maxFrame) {
				fmt.Fprintf(os.Stderr, "process: worker: the parent sent a frame of %d bytes; the limit is %d\n", size, s.maxFrame)
				s.exit <- exitBroken
				return
			}
			need := frameHeader + int(size)
			if s.rend-s.rstart < need {
				if need > len(s.rbuf)-s.rstart {
					nb := make([]byte, max(need, readBuf))
					s.rend = copy(nb, s.rbuf[s.rstart:s.rend])
					s.rbuf, s.rstart = nb, 0
				}
				break
			}
			c, err := s.handle(s.rbuf[s.rstart+frameHeader : s.rstart+need])
			if err != nil {
				fmt.Fprintln(os.Stderr, "process: worker:", err)
				s.exit <- exitBroken
				return
			}
			s.rstart += need
			if c != nil {
				if mine != nil {
					go s.run(mine)
				}
				mine = c
			}
		}
		if s.rstart > 0 {
			s.rend = copy(s.rbuf, s.rbuf[s.rstart:s.rend])
			s.rstart = 0
			if len(s.rbuf) > readBuf && s.rend <= readBuf {
				nb := make([]byte, readBuf)
				copy(nb, s.rbuf[:s.rend])
				s.rbuf = nb
			}
		}
		if mine != nil {
			go s.read()
			s.run(mine)
			return
		}
		n, err := s.in.Read(s.rbuf[s.rend:])
		s.rend += n
		if err != nil {
			s.cancelAll()
			if err == io.EOF {
				s.exit <- exitOK
				return
			}
			fmt.Fprintln(os.Stderr, "process: worker: reading:", err)
			s.exit <- exitBroken
			return
		}
	}
}

// call is a task read from the parent, ready to run.
type call struct {
	ctx context.Context
	id  uint64
	e   *entry
	arg any
	rt  *running
}

// handle acts on one frame; for a call, it returns the task to run.
func (s *server) handle(b []byte) (*call, error) {
	f, err := parseFrame(b)
	if err != nil {
		return nil, err
	}
	r := reader{b: f.body}
	switch f.kind {
	case kindCall:
		e := entryAt(r.uvarint())
		if r.err != nil || e == nil {
			return nil, fmt.Errorf("call %d: %w: no such function", f.id, errMalformed)
		}
		arg, err := e.decodeArg(s.dec, r.b)
		if err != nil {
			s.sendError(f.id, errInternal, fmt.Sprintf("process: decoding the argument of %q: %v", e.name, err), nil)
			return nil, nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		rt := &running{cancel: cancel}
		if e.stream {
			rt.credits = creditWindow
			rt.wake = make(chan struct{}, 1)
		}
		s.mu.Lock()
		_, dup := s.tasks[f.id]
		s.tasks[f.id] = rt
		s.mu.Unlock()
		if dup {
			cancel()
			return nil, fmt.Errorf("call %d: %w: request id in use", f.id, errMalformed)
		}
		return &call{ctx: ctx, id: f.id, e: e, arg: arg, rt: rt}, nil
	case kindCancel:
		s.mu.Lock()
		rt := s.tasks[f.id]
		s.mu.Unlock()
		if rt != nil {
			rt.cancel()
		}
	case kindCredit:
		n := r.uvarint()
		if r.err != nil {
			return nil, fmt.Errorf("credit %d: %w", f.id, r.err)
		}
		s.mu.Lock()
		if rt := s.tasks[f.id]; rt != nil && rt.wake != nil {
			rt.credits += n
			select {
			case rt.wake <- struct{}{}:
			default:
			}
		}
		s.mu.Unlock()
	default:
		return nil, fmt.Errorf("%w: unknown frame kind %d", errMalformed, f.kind)
	}
	return nil, nil
}

// cancelAll cancels the contexts of the tasks still running.
func (s *server) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range s.tasks {
		rt.cancel()
	}
}

// run runs one task on its own goroutine and sends its outcome: a result,
// stream values and an end, or an error.
func (s *server) run(c *call) {
	ctx, id, e, arg, rt := c.ctx, c.id, c.e, c.arg, c.rt
	finished := false
	defer func() {
		s.mu.Lock()
		delete(s.tasks, id)
		s.mu.Unlock()
		rt.cancel()
		if v := recover(); v != nil {
			s.sendError(id, errPanic, fmt.Sprint(v), debug.Stack())
		} else if !finished {
			s.sendError(id, errInternal, fmt.Sprintf("process: %q called runtime.Goexit", e.name), nil)
		}
	}()
	if e.stream {
		s.runStream(ctx, id, e, arg, rt)
	} else if v, err := e.call(ctx, arg); err != nil {
		s.sendError(id, errFunc, err.Error(), nil)
	} else {
		s.sendValue(id, kindResult, e, v)
	}
	finished = true
}

func (s *server) runStream(ctx context.Context, id uint64, e *entry, arg any, rt *running) {
	for v, err := range e.iterate(ctx, arg) {
		if err != nil {
			s.sendError(id, errFunc, err.Error(), nil)
			return
		}
		if !s.waitCredit(ctx, rt) {
			break
		}
		if !s.sendValue(id, kindItem, e, v) {
			return
		}
	}
	s.wmu.Lock()
	s.wbuf = appendFrame(s.wbuf, kindEnd, id)
	s.flushLocked()
}

// waitCredit takes one credit, waiting for the parent to grant some if
// there is none; it reports false if the task was cancelled meanwhile.
func (s *server) waitCredit(ctx context.Context, rt *running) bool {
	for {
		s.mu.Lock()
		if rt.credits > 0 {
			rt.credits--
			s.mu.Unlock()
			return ctx.Err() == nil
		}
		s.mu.Unlock()
		select {
		case <-rt.wake:
		case <-ctx.Done():
			return false
		}
	}
}

// sendValue sends a result or a stream value. If it cannot (it cannot be
// encoded, or is too large) it sends an error instead and reports false.
func (s *server) sendValue(id uint64, kind byte, e *entry, v any) bool {
	s.wmu.Lock()
	start := len(s.wbuf)
	b, at := beginFrame(s.wbuf, kind, id)
	if !e.resEmpty {
		var err error
		if b, err = s.enc.Encode(b, v); err != nil {
			s.wbuf = b[:start]
			s.wmu.Unlock()
			s.sendError(id, errInternal, fmt.Sprintf("process: encoding the result of %q: %v", e.name, err), nil)
			return false
		}
	}
	if n := len(b) - at - frameHeader; n > s.maxFrame {
		s.wbuf = b[:start]
		s.enc.Reset()
		s.wmu.Unlock()
		s.sendError(id, errTooLarge, fmt.Sprintf("a result of %q takes %d bytes; the limit is %d", e.name, n, s.maxFrame), nil)
		return false
	}
	s.wbuf = endFrame(b, at)
	s.flushLocked()
	return true
}

func (s *server) sendError(id uint64, kind byte, text string, stack []byte) {
	// Keep the frame within the limit: the text and the stack give way.
	if room := s.maxFrame - 64; len(text)+len(stack) > room {
		stack = stack[:max(0, min(len(stack), room-len(text)))]
		if len(text) > room {
			text = text[:room]
		}
	}
	s.wmu.Lock()
	s.wbuf = appendErrorFrame(s.wbuf, id, kind, text, stack)
	s.flushLocked()
}

// flushLocked writes the output out and releases wmu. The goroutine that
// finds no write in progress writes, for as long as others add frames
// meanwhile; the others leave their frames to it. A write error means the
// parent has gone: the worker exits.
func (s *server) flushLocked() {
	if s.wbusy {
		s.wmu.Unlock()
		return
	}
	s.wbusy = true
	for len(s.wbuf) > 0 {
		out := s.wbuf
		s.wbuf = s.spare[:0]
		s.wmu.Unlock()
		if _, err := s.out.Write(out); err != nil {
			fmt.Fprintln(os.Stderr, "process: worker: writing:", err)
			os.Exit(exitWriteErr)
		}
		s.wmu.Lock()
		if cap(out) <= 1<<20 {
			s.spare = out[:0]
		}
	}
	s.wbusy = false
	s.wmu.Unlock()
}
