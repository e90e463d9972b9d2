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

// writeFD writes b to the file descriptor fd with one system call.
func writeFD(fd uintptr, b []byte) (int, error) {
	return syscall.Write(int(fd), b)
}
