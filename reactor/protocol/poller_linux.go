//go:build linux && !twine_portable

package protocol

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// poller is the engine's wait for its descriptors, on Linux an epoll
// instance of its own, outside Go's poller, so that the reactor goroutine
// itself waits for its sockets and reads and writes them with no hand-off
// to another goroutine. An eventfd in the set lets Wake end a wait.
//
// Events carry the descriptor and a generation number, so that an event
// for a descriptor closed and reused within one batch is told from one for
// its new owner.
type poller struct {
	epfd   int
	wakefd int
	evs    []syscall.EpollEvent
	n      int          // events in evs not yet handled
	state  atomic.Int32 // pollIdle, pollWaiting or pollWoken
	pwait2 bool         // epoll_pwait2 is there (Linux 5.11), for waits finer than a millisecond
}

// The poller's states, for Wake.
const (
	pollIdle int32 = iota
	pollWaiting
	pollWoken
)

// The interest a handler registers.
const (
	evRead  = syscall.EPOLLIN | syscall.EPOLLRDHUP
	evWrite = syscall.EPOLLOUT
)

// sysEpollPwait2 is epoll_pwait2's number on every architecture that Go
// supports on Linux: it was added after the numbers were unified.
const sysEpollPwait2 = 441

func newPoller(*engine) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wfd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		_ = syscall.Close(epfd)
		return nil, os.NewSyscallError("eventfd2", errno)
	}
	p := &poller{epfd: epfd, wakefd: int(wfd), evs: make([]syscall.EpollEvent, 256), pwait2: true}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(wfd), Pad: -1}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(wfd), &ev); err != nil {
		p.closeAll()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return p, nil
}

// control registers fd with the events in mask (removing it for 0), given
// what was registered before; gen is the handler's generation.
func (p *poller) control(fd int, gen int32, old, mask uint32) error {
	ev := syscall.EpollEvent{Events: mask, Fd: int32(fd), Pad: gen}
	var op int
	switch {
	case old == mask:
		return nil
	case old == 0:
		op = syscall.EPOLL_CTL_ADD
	case mask == 0:
		op = syscall.EPOLL_CTL_DEL
	default:
		op = syscall.EPOLL_CTL_MOD
	}
	if err := syscall.EpollCtl(p.epfd, op, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// wait waits at most d (without limit if d is negative, not at all if it
// is zero) for events, and keeps them for the engine to handle.
func (p *poller) wait(d time.Duration) {
	for {
		var n uintptr
		var errno syscall.Errno
		switch {
		case d == 0:
			n, _, errno = syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(p.epfd), uintptr(unsafe.Pointer(&p.evs[0])), uintptr(len(p.evs)), 0, 0, 0)
		case p.pwait2:
			var tsp *syscall.Timespec
			if d > 0 {
				ts := syscall.NsecToTimespec(int64(d))
				tsp = &ts
			}
			n, _, errno = syscall.Syscall6(sysEpollPwait2, uintptr(p.epfd), uintptr(unsafe.Pointer(&p.evs[0])), uintptr(len(p.evs)), uintptr(unsafe.Pointer(tsp)), 0, 0)
			if errno == syscall.ENOSYS {
				p.pwait2 = false
				continue
			}
		default:
			ms := -1
			if d > 0 {
				ms = int((d + time.Millisecond - 1) / time.Millisecond) // never early
			}
			n, _, errno = syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(p.epfd), uintptr(unsafe.Pointer(&p.evs[0])), uintptr(len(p.evs)), uintptr(ms), 0, 0)
		}
		if errno != 0 {
			p.n = 0 // EINTR: the reactor comes back soon enough
			return
		}
		p.n = int(n)
		return
	}
}

// waitIdle is wait for the reactor's idle time: Wake ends it. It reports
// that it waited (this poller waits on the reactor goroutine).
func (p *poller) waitIdle(d time.Duration) bool {
	if !p.state.CompareAndSwap(pollIdle, pollWaiting) {
		p.state.Store(pollIdle) // woken before it waited
		d = 0
	}
	p.wait(d)
	p.state.Store(pollIdle)
	return true
}

// pollNow looks for events without waiting.
func (p *poller) pollNow() { p.wait(0) }

// ready reports whether events wait, kept by wait or in the kernel,
// without taking the kernel's: epoll is level-triggered, so the next wait
// finds them again. The wake-up event does not count.
func (p *poller) ready() bool {
	if p.n > 0 {
		return true
	}
	var evs [4]syscall.EpollEvent
	n, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(p.epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
	if errno != 0 {
		return false
	}
	for i := range int(n) {
		if evs[i].Pad != -1 {
			return true
		}
	}
	return false
}

// found reports whether events wait to be handled.
func (p *poller) found() bool { return p.n > 0 }

// remove takes fd, registered with mask, out of the set.
func (p *poller) remove(fd int, mask uint32) {
	if mask != 0 {
		_ = p.control(fd, 0, mask, 0)
	}
}

// again tells the poller what handling an event of ev on fd found: more
// may be ready (the handler stopped short), or it read or wrote until the
// kernel said EAGAIN. epoll is level-triggered and needs neither.
func (p *poller) again(fd int, gen int32, ev uint32, more bool) {}

// wake ends the waitIdle in progress, or makes the next return at once.
func (p *poller) wake() {
	if p.state.Swap(pollWoken) == pollWaiting {
		one := [8]byte{1}
		_, _ = syscall.Write(p.wakefd, one[:])
	}
}

// events returns the events kept by wait, as (descriptor, generation,
// flags), calling f for each; the wake-up event is consumed here.
func (p *poller) events(f func(fd int, gen int32, readable, writable bool)) {
	n := p.n
	p.n = 0
	for i := range n {
		ev := &p.evs[i]
		if ev.Pad == -1 {
			var b [8]byte
			_, _ = syscall.Read(p.wakefd, b[:])
			continue
		}
		e := ev.Events
		hup := e&(syscall.EPOLLERR|syscall.EPOLLHUP) != 0
		f(int(ev.Fd), ev.Pad, hup || e&(syscall.EPOLLIN|syscall.EPOLLRDHUP) != 0, hup || e&syscall.EPOLLOUT != 0)
	}
}

// closeAll closes the poller.
func (p *poller) closeAll() {
	_ = syscall.Close(p.epfd)
	_ = syscall.Close(p.wakefd)
}
