//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

// WaitReapers waits for the goroutines that wait for children to end: each
// does once its child has exited.
func WaitReapers() { reapers.Wait() }
