//go:build unix

package process

import (
	"fmt"
	"os"
	"syscall"
)

// takeStdio moves the protocol's streams off file descriptors 0 and 1, so
// that nothing else in the worker can read or write them by accident: the
// protocol gets private copies (closed on exec, so that processes the
// worker starts do not hold them), standard input becomes /dev/null, and
// standard output goes to standard error, where the pool forwards it to its
// logger. A function that prints to os.Stdout thus cannot corrupt the stream.
//
// The pipes are the worker's alone (its parent keeps the other ends), so
// making them non-blocking disturbs no other process.
func takeStdio() (in, out *os.File, err error) {
	syscall.ForkLock.Lock()
	defer syscall.ForkLock.Unlock()
	inFd, err := syscall.Dup(0)
	if err != nil {
		return nil, nil, fmt.Errorf("process: worker: dup stdin: %w", err)
	}
	syscall.CloseOnExec(inFd)
	outFd, err := syscall.Dup(1)
	if err != nil {
		return nil, nil, fmt.Errorf("process: worker: dup stdout: %w", err)
	}
	syscall.CloseOnExec(outFd)
	null, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("process: worker: open %s: %w", os.DevNull, err)
	}
	if err := dupTo(null, 0); err != nil {
		return nil, nil, fmt.Errorf("process: worker: redirect stdin: %w", err)
	}
	_ = syscall.Close(null)
	if err := dupTo(2, 1); err != nil {
		return nil, nil, fmt.Errorf("process: worker: redirect stdout: %w", err)
	}
	// Non-blocking, the streams go through Go's poller: a read that waits
	// parks the reader goroutine instead of holding a thread, so the task
	// it has just started runs at once on the same thread.
	for _, fd := range []int{inFd, outFd} {
		if err := syscall.SetNonblock(fd, true); err != nil {
			return nil, nil, fmt.Errorf("process: worker: set non-blocking: %w", err)
		}
	}
	return os.NewFile(uintptr(inFd), "process-input"), os.NewFile(uintptr(outFd), "process-output"), nil
}
