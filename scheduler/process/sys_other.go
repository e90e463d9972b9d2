//go:build !unix

package process

import (
	"os"
	"syscall"
)

// exitStatus reports how a process ended: its exit code (signals do not
// exist here).
func exitStatus(ps *os.ProcessState) (int, syscall.Signal) {
	if ps == nil {
		return -1, 0
	}
	return ps.ExitCode(), 0
}

// crashSignal reports whether sig is one a process gets for a fault of its
// own; there are no signals here.
func crashSignal(syscall.Signal) bool { return false }

// takeStdio returns the streams the worker speaks the protocol on. Without
// dup2, os.Stdout stays the protocol stream: functions must not write to it.
func takeStdio() (in, out *os.File, err error) {
	return os.Stdin, os.Stdout, nil
}

// writeFD writes b to the handle fd with one system call.
func writeFD(fd uintptr, b []byte) (int, error) {
	return syscall.Write(syscall.Handle(fd), b)
}
