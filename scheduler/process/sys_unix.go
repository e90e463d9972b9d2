//go:build unix

package process

import (
	"os"
	"syscall"
)

// exitStatus reports how a process ended: its exit code, or -1 and the
// signal that killed it.
func exitStatus(ps *os.ProcessState) (int, syscall.Signal) {
	if ps == nil {
		return -1, 0
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal()
	}
	return ps.ExitCode(), 0
}

// crashSignal reports whether sig is one a process gets for a fault of its
// own (a bad memory access, an abort), rather than one sent from outside.
func crashSignal(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGILL, syscall.SIGFPE, syscall.SIGABRT, syscall.SIGSYS, syscall.SIGTRAP:
		return true
	}
	return false
}

// writeFD writes b to the file descriptor fd with one system call.
func writeFD(fd uintptr, b []byte) (int, error) {
	return syscall.Write(int(fd), b)
}
