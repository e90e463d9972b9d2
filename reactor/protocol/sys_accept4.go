//go:build dragonfly || freebsd || linux || netbsd

package protocol

import (
	"os"
	"syscall"
)

// socket makes a non-blocking socket of type typ (SOCK_STREAM or
// SOCK_DGRAM), closed on exec, outside Go's poller.
func socket(family, typ int) (int, error) {
	fd, err := syscall.Socket(family, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

// accept takes a connection from a listening socket, non-blocking and
// closed on exec.
func accept(fd int) (int, syscall.Sockaddr, error) {
	return syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
}
