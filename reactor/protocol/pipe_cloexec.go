//go:build dragonfly || freebsd || linux || netbsd

package protocol

import "syscall"

// pipeCloexec makes a pipe whose ends no other child inherits.
func pipeCloexec(p *[2]int) error {
	return syscall.Pipe2(p[:], syscall.O_CLOEXEC)
}
