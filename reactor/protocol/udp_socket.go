//go:build dragonfly || freebsd || linux || netbsd

package protocol

import (
	"os"
	"syscall"
)

// datagramSocket makes a non-blocking datagram socket, closed on exec,
// outside Go's poller.
func datagramSocket(family int) (int, error) {
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}
