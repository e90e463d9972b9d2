package process

import (
	"runtime"
	"syscall"
	"time"
)

// spinWait is how long a reader whose last wait was short first spins for
// what comes next, before it sleeps: the worker waiting for its next call,
// and the loop waiting for an answer. Waking a sleeping thread can cost
// more than a tiny task's whole round trip, tens of microseconds when the
// thread's processor has gone idle (on a virtual machine above all); a
// thread that keeps its processor a little while, yielding it to any other
// thread ready to run there, sees the next message at once, and costs less
// processor time in all, as BenchmarkRoundTripCPU shows. The reader spins
// again only after a wait shorter than this: calls that come further apart
// cost no spinning beyond the first.
const spinWait = 50 * time.Microsecond

// spinning says whether readers spin at all: not on a single processor,
// where the thread they wait for cannot run meanwhile but for their
// yielding, as Go's scheduler does not spin there either.
var spinning = runtime.NumCPU() > 1

// yieldThread lets another thread ready to run on this one's processor run
// first: the worker, or the loop, on a machine where they share one.
func yieldThread() { _, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
