//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuTime returns the processor time the process has used so far, in user
// and system mode, all threads; zero if the system cannot tell.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
