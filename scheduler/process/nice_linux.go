package process

import (
	"os"
	"strconv"
	"syscall"
)

// lowerPriority raises the nice value of every thread of this process by n,
// to at most 19. On Linux a nice value belongs to a thread, and a new thread
// takes its creator's: the threads the runtime has made so far are set one
// by one, twice, so that one made meanwhile by a thread not yet set is set
// too; those made later inherit it.
func lowerPriority(n int) error {
	// The system call returns 20 minus the nice value, never negative.
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return err
	}
	nice := min(20-prio+n, 19)
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			// A thread that has exited meanwhile is no concern.
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && err != syscall.ESRCH {
				return err
			}
		}
	}
	return nil
}
