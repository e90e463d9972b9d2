//go:build darwin

package protocol

import "syscall"

// pipeCloexec makes a pipe whose ends no other child inherits: macOS has no
// pipe2, so the fork lock keeps a child from being started between the
// pipe and the flags.
func pipeCloexec(p *[2]int) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := syscall.Pipe(p[:]); err != nil {
		return err
	}
	syscall.CloseOnExec(p[0])
	syscall.CloseOnExec(p[1])
	return nil
}
