//go:build linux && twine_portable

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
	var ts syscall.Timespec
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return errno != 0 || n > 0 // an error: let the handler find it
}
