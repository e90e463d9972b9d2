package process

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
)

// server is the worker's side of the protocol.
type server struct {
	out      *os.File
	maxFrame int
	exit     chan int // the exit code, from the reader

	rmu     sync.Mutex
	idle    []*runner // waiting for something to do, the most recent last
	maxIdle int       // how many may wait

	// The reader's, whichever goroutine has the reading turn.
	fr  *frameReader
	dec Decoder

	hot atomic.Bool // the last call read was a hot call

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

// runner is a goroutine of the worker that waits for something to do: a
// task to run, or the turn to read.
type runner struct{ next chan *call }

// readTurn, given to a runner instead of a task, makes it the reader.
var readTurn = new(call)

// loop serves until the input ends, and returns the exit code.
func (s *server) loop() int {
	s.exit = make(chan int, 1)
	go s.run(readTurn)
	return <-s.exit
}

// run is the body of the worker's goroutines: each runs the task it is
// given, or reads when it is given the turn, then waits for more. Idle
// ones are kept for the next tasks, as many as the parent sends tasks at a
// time at most, so that a task runs on a goroutine whose stack has already
// grown to what tasks and the codec need, rather than growing a new one
// each time (which costs more than a tiny task); the one that waited last
// is woken first, its stack the most likely to be in the cache.
func (s *server) run(c *call) {
	var me *runner
	for {
		if c == readTurn {
			if c = s.read(); c == nil {
				return
			}
		}
		s.runTask(c)
		if me == nil {
			me = &runner{next: make(chan *call, 1)}
		}
		s.rmu.Lock()
		if len(s.idle) >= s.maxIdle {
			s.rmu.Unlock()
			return
		}
		s.idle = append(s.idle, me)
		s.rmu.Unlock()
		c = <-me.next
	}
}

// start gives c (a task, or the reading turn) to an idle runner, or to a
// new one.
func (s *server) start(c *call) {
	s.rmu.Lock()
	if n := len(s.idle); n > 0 {
		r := s.idle[n-1]
		s.idle[n-1] = nil
		s.idle = s.idle[:n-1]
		s.rmu.Unlock()
		r.next <- c
		return
	}
	s.rmu.Unlock()
	go s.run(c)
}

// read reads the parent's frames and acts on them. When it has read a call
// and nothing more is waiting in its buffer, it passes the reading turn on
// to another goroutine and returns the call, for its own goroutine to run:
// a task one at a time then runs on the goroutine that read it, at once,
// rather than waiting for a switch to another; the new reader starts when
// this one blocks or ends, by then off the round trip's path. Calls read
// together go to other goroutines, all but the last. read returns nil when
// the input ends or breaks, having told loop the exit code.
func (s *server) read() *call {
	for {
		var mine *call
		for {
			b, err := s.fr.next()
			if err != nil {
				fmt.Fprintln(os.Stderr, "process: worker:", err)
				s.exit <- exitBroken
				return nil
			}
			if b == nil {
				break
			}
			c, err := s.handle(b)
			if err != nil {
				fmt.Fprintln(os.Stderr, "process: worker:", err)
				s.exit <- exitBroken
				return nil
			}
			if c != nil {
				if mine != nil {
					s.start(mine)
				}
				mine = c
			}
		}
		if mine != nil {
			s.start(readTurn)
			return mine
		}
		if err := s.fr.fill(); err != nil {
			s.cancelAll()
			if err == io.EOF {
				s.exit <- exitOK
				return nil
			}
			fmt.Fprintln(os.Stderr, "process: worker: reading:", err)
			s.exit <- exitBroken
			return nil
		}
	}
}

// call is a task read from the parent, ready to run; its running part is
// what the reader finds it by, in tasks.
type call struct {
	ctx context.Context
	id  uint64
	e   *entry
	arg any
	rt  running
}

// handle acts on one frame; for a call, it returns the task to run.
func (s *server) handle(b []byte) (*call, error) {
	f, err := parseFrame(b)
	if err != nil {
		return nil, err
	}
	r := reader{b: f.body}
	switch f.kind {
	case kindCall, kindHot:
		s.hot.Store(f.kind == kindHot)
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
		c := &call{ctx: ctx, id: f.id, e: e, arg: arg, rt: running{cancel: cancel}}
		rt := &c.rt
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
		return c, nil
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

// hotCall reports whether the last call read was a hot call: the parent
// sends the next one as soon as it has the answer.
func (s *server) hotCall() bool { return s.hot.Load() }

// noTasks reports whether no task is in flight.
func (s *server) noTasks() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks) == 0
}

// cancelAll cancels the contexts of the tasks still running.
func (s *server) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range s.tasks {
		rt.cancel()
	}
}

// runTask runs one task and sends its outcome: a result, stream values and
// an end, or an error.
func (s *server) runTask(c *call) {
	ctx, id, e, arg, rt := c.ctx, c.id, c.e, c.arg, &c.rt
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

// sendError sends an error for a task. Its text is made valid UTF-8 (the
// protocol's strings are), and it and the stack are cut to fit in a frame.
func (s *server) sendError(id uint64, kind byte, text string, stack []byte) {
	if room := s.maxFrame - 64; len(text)+len(stack) > room {
		stack = stack[:max(0, min(len(stack), room-len(text)))]
		if len(text) > room {
			text = text[:room-3] // room for a replaced rune cut in two
		}
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
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
