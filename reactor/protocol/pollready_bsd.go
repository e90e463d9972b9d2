//go:build darwin || dragonfly || freebsd || netbsd

package protocol

import (
	"syscall"
	"unsafe"
)

// pollReady asks the kernel, without waiting, whether fd is ready for ev.
func pollReady(fd int, ev uint32) bool {
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(fd), events: pollEvents(ev)}
	n, _, errno := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&pfd)), 1, 0)
	return errno != 0 || n > 0 // an error: let the handler find it
}
