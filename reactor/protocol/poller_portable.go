//go:build darwin || dragonfly || freebsd || netbsd || (linux && twine_portable)

package protocol

import (
	"os"
	"sync"
	"syscall"
	"time"
)

// poller is the engine's wait for its descriptors where the reactor cannot
// wait in the kernel itself: a goroutine per descriptor and direction
// waits, through Go's own poller, for the descriptor to become ready, and
// hands the event to the reactor with CallSoon. The reading and writing
// still happen on the reactor goroutine. It is the portable design, used
// on the BSDs and macOS (and on Linux with the build tag twine_portable, to
// test it).
//
// Go's poller is edge-triggered, and forgets an edge when a wait starts,
// so each wait first asks the kernel, with a poll(2) that does not wait,
// whether the descriptor is ready already. After each event it handles,
// the engine arms the wait again (again) if it still wants the direction.
type poller struct {
	e        *engine
	watchers map[int]*fdWatch
	wg       sync.WaitGroup
}

// The interest a handler registers.
const (
	evRead uint32 = 1 << iota
	evWrite
)

// fdWatch waits for one descriptor, through a duplicate of it in Go's
// poller (closed when the descriptor is removed). The duplicate lets the
// engine keep its own descriptor outside Go's poller, on every system
// alike, at the price of a second descriptor per socket.
type fdWatch struct {
	p    *poller
	fd   int
	gen  int32
	file *os.File
	rc   syscall.RawConn
	dirs [2]*dirWatch
}

// dirWatch is the goroutine that waits for one direction of a descriptor:
// it waits each time it is armed, then hands the event over.
type dirWatch struct {
	arm    chan struct{} // capacity 1
	closed bool          // the reactor goroutine's
}

func newPoller(e *engine) (*poller, error) {
	return &poller{e: e, watchers: map[int]*fdWatch{}}, nil
}

// control registers fd with the events in mask, given what was registered
// before; gen is the handler's generation.
func (p *poller) control(fd int, gen int32, old, mask uint32) error {
	w := p.watchers[fd]
	if w == nil || w.gen != gen {
		if w != nil {
			p.close(w)
		}
		dup, err := dupFile(fd)
		if err != nil {
			return err
		}
		rc, err := dup.SyscallConn()
		if err != nil {
			_ = dup.Close()
			return err
		}
		w = &fdWatch{p: p, fd: fd, gen: gen, file: dup, rc: rc}
		p.watchers[fd] = w
	}
	for i, ev := range [2]uint32{evRead, evWrite} {
		if mask&ev == 0 || old&ev != 0 {
			continue
		}
		if w.dirs[i] == nil {
			d := &dirWatch{arm: make(chan struct{}, 1)}
			w.dirs[i] = d
			p.wg.Add(1)
			go w.run(d, ev)
		}
		w.dirs[i].wake()
	}
	return nil
}

// dupFile duplicates fd into an *os.File that Go's poller watches.
func dupFile(fd int) (*os.File, error) {
	syscall.ForkLock.RLock()
	nfd, err := syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, os.NewSyscallError("dup", err)
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		_ = syscall.Close(nfd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	return os.NewFile(uintptr(nfd), "twine-socket"), nil
}

func (d *dirWatch) wake() {
	if d.closed {
		return
	}
	select {
	case d.arm <- struct{}{}:
	default:
	}
}

// run is the goroutine of one direction: each time it is armed it waits
// for the descriptor, then hands the event to the reactor.
func (w *fdWatch) run(d *dirWatch, ev uint32) {
	defer w.p.wg.Done()
	for range d.arm {
		ready := func(fd uintptr) bool { return pollReady(int(fd), ev) }
		var err error
		if ev == evRead {
			err = w.rc.Read(ready)
		} else {
			err = w.rc.Write(ready)
		}
		if err != nil {
			return // the duplicate was closed
		}
		w.post(ev)
	}
}

// post hands an event of ev to the reactor.
func (w *fdWatch) post(ev uint32) {
	e, fd, gen := w.p.e, w.fd, w.gen
	e.r.CallSoon(func() {
		if e.closed {
			return
		}
		e.event(fd, gen, ev == evRead, ev == evWrite)
		e.flush()
	})
}

// again arms the wait for ev on fd once more, after an event of ev was
// handled and the handler still wants the direction: the wait returns at
// once if the descriptor is still ready.
func (p *poller) again(fd int, gen int32, ev uint32, more bool) {
	w := p.watchers[fd]
	if w == nil || w.gen != gen {
		return
	}
	i := 0
	if ev == evWrite {
		i = 1
	}
	if w.dirs[i] != nil {
		w.dirs[i].wake()
	}
}

// remove takes fd out: its goroutines end.
func (p *poller) remove(fd int, mask uint32) {
	if w := p.watchers[fd]; w != nil {
		p.close(w)
	}
}

func (p *poller) close(w *fdWatch) {
	delete(p.watchers, w.fd)
	for _, d := range w.dirs {
		if d != nil && !d.closed {
			d.closed = true
			close(d.arm)
		}
	}
	_ = w.file.Close() // ends a wait in progress
}

// waitIdle reports that this poller does not wait on the reactor
// goroutine.
func (p *poller) waitIdle(time.Duration) bool { return false }

// pollNow, found, ready, events and wake have nothing to do: events come with
// CallSoon.
func (p *poller) pollNow()                                  {}
func (p *poller) found() bool                               { return false }
func (p *poller) ready() bool                               { return false }
func (p *poller) events(func(fd int, gen int32, r, w bool)) {}
func (p *poller) wake()                                     {}

// closeAll removes every descriptor and waits for the goroutines.
func (p *poller) closeAll() {
	for _, w := range p.watchers {
		p.close(w)
	}
	p.wg.Wait()
}

// poll(2)'s events, the same on every system that has it.
const (
	pollIn  = 0x1
	pollOut = 0x4
)

func pollEvents(ev uint32) int16 {
	if ev == evRead {
		return pollIn
	}
	return pollOut
}
