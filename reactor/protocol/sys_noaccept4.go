//go:build darwin

package protocol

import (
	"os"
	"syscall"
)

// socket makes a non-blocking socket of type typ (SOCK_STREAM or
// SOCK_DGRAM), closed on exec. Without
// SOCK_CLOEXEC, the fork lock keeps a child process started meanwhile from
// inheriting it, as Go's net package does.
func socket(family, typ int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, typ, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return -1, os.NewSyscallError("setnonblock", err)
	}
	return fd, nil
}

// accept takes a connection from a listening socket, non-blocking and
// closed on exec.
func accept(fd int) (int, syscall.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := syscall.Accept(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		_ = syscall.Close(nfd)
		return -1, nil, err
	}
	return nfd, sa, nil
}
