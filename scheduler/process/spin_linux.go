package process

import (
	"runtime"
	"sync/atomic"
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

// spinPause is how long readers stop spinning once yields have shown that
// other threads compete for the processor: a yield then hands it to them
// for a whole time slice, a millisecond or more, where a wait in the
// kernel, which the scheduler ends promptly when the message comes, costs
// less. A yield that takes longer than spinWait is a strike; spinStrikes
// of them in a row, with no spin in between that found its message without
// one, pause the spinning of every reader of this process. A lone slow
// yield (the machine's own hiccup) does not.
const (
	spinPause   = 250 * time.Millisecond
	spinStrikes = 3
)

var (
	// spinPausedUntil is when readers may spin again, in nanoseconds of
	// spinClock; 0 if they may.
	spinPausedUntil atomic.Int64
	strikes         atomic.Int32
	spinEpoch       = time.Now() // the origin of spinClock
)

// spinClock reads the monotonic clock, in nanoseconds since spinEpoch.
func spinClock() int64 { return int64(time.Since(spinEpoch)) }

// maySpin says whether a reader whose wait began at start (spinClock) may
// spin now: on several processors, within spinWait of the start, and
// unless spinning has been paused.
func maySpin(start int64) bool {
	now := spinClock()
	return spinning && now-start < int64(spinWait) && now >= spinPausedUntil.Load()
}

// spin is a reader's spin for its next message, from start (spinClock):
// while ok, it looks for the message and, finding none, yields; found
// notes the message found.
type spin struct {
	start  int64
	spun   bool // it has yielded
	struck bool // a yield was slow
}

func (s *spin) ok() bool { return maySpin(s.start) }

func (s *spin) yield() {
	s.spun = true
	s.struck = yieldThread() || s.struck
}

// found notes that the message came while the reader spun: after a spin
// without a slow yield, the strikes start again from none.
func (s *spin) found() {
	if s.spun && !s.struck {
		spunClean()
	}
}

// yieldThread lets another thread ready to run on this one's processor run
// first: the worker, or the loop, on a machine where they share one. It
// reports whether the yield was slow, a strike (see spinPause).
func yieldThread() (slow bool) {
	t := spinClock()
	_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	return noteYield(t, spinClock())
}

// noteYield counts a yield from t to now, and reports whether it was
// slow: a strike.
func noteYield(t, now int64) bool {
	if now-t <= int64(spinWait) {
		return false
	}
	if strikes.Add(1) >= spinStrikes {
		strikes.Store(0)
		spinPausedUntil.Store(now + int64(spinPause))
	}
	return true
}

// spunClean notes a spin that found its message without a slow yield:
// the strikes start again from none.
func spunClean() {
	if strikes.Load() != 0 {
		strikes.Store(0)
	}
}
