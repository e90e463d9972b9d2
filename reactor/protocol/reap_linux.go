//go:build linux && !twine_portable

package protocol

import (
	"sync"
	"syscall"
	"unsafe"
)

// The system calls of pidfds, numbered alike on every architecture that Go
// supports on Linux, and waitid's idtype for them.
const (
	sysPidfdOpen = 434 // Linux 5.3
	pPidfd       = 3   // Linux 5.4
)

// pidfds reports whether this kernel has pidfds that the poller can wait
// for and waitid can take; found out once.
var pidfds = sync.OnceValue(func() bool {
	fd, _, errno := syscall.RawSyscall(sysPidfdOpen, uintptr(syscall.Getpid()), 0, 0)
	if errno != 0 {
		return false
	}
	defer syscall.Close(int(fd))
	// This process is not its own child: a kernel that knows P_PIDFD says
	// ECHILD, one that does not says EINVAL.
	var info [128]byte // siginfo_t
	_, _, errno = syscall.Syscall6(syscall.SYS_WAITID, pPidfd, fd, uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOHANG, 0, 0)
	return errno == syscall.ECHILD
})

// askPidfd asks the fork for a pidfd of the child in *fd, where the kernel
// has them.
func askPidfd(sys *syscall.SysProcAttr, fd *int) {
	if pidfds() {
		sys.PidFD = fd
	}
}

// watchPidfd puts the child's pidfd in the poller: it becomes readable when
// the child exits. It reports false when there is none.
func (p *process) watchPidfd() bool {
	if p.pidfd < 0 {
		return false
	}
	p.gen = p.e.register(p.pidfd, p)
	if err := p.e.p.control(p.pidfd, p.gen, 0, evRead); err != nil {
		p.e.unregister(p.pidfd, 0)
		_ = syscall.Close(p.pidfd)
		p.pidfd = -1
		return false
	}
	return true
}

// ready implements handler: the child has exited.
func (p *process) ready(readable, writable bool) { p.reap() }

// unwatchPidfd takes the pidfd out of the poller and closes it.
func (p *process) unwatchPidfd() {
	if p.pidfd < 0 {
		return
	}
	p.e.unregister(p.pidfd, evRead)
	_ = syscall.Close(p.pidfd)
	p.pidfd = -1
}

// exitPending reports whether the child has exited, its event not yet
// handled.
func (p *process) exitPending() bool {
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(p.pidfd), events: 0x1} // POLLIN
	var ts syscall.Timespec
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return errno == 0 && n > 0
}
