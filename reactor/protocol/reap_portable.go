//go:build darwin || dragonfly || freebsd || netbsd || (linux && twine_portable)

package protocol

import "syscall"

// askPidfd does nothing: the portable design has no pidfds, and a
// goroutine waits for each child.
func askPidfd(*syscall.SysProcAttr, *int) {}

func (p *process) watchPidfd() bool  { return false }
func (p *process) unwatchPidfd()     {}
func (p *process) exitPending() bool { return false }
