package process

import (
	"io"
	"os"
	"syscall"
	"time"
)

// input is the worker's reader of its input. While the worker has no task
// in flight and the calls come close together, it waits for the next call
// in a blocking system call, holding its thread, as a plain program reading
// a pipe does, after spinning for it a little while (spinWait), reading and
// yielding its processor, if the last call was a hot call; otherwise it waits in Go's poller, which
// lets other goroutines run meanwhile. A lone call then costs the worker a
// system call or two on the way in instead of parking the reader, a read
// that finds nothing, and the scheduler's rounds of the poller, which cost
// more than a tiny call.
//
// A wait in the system call that lasts holds the worker's processor (it
// has one, by default) until the runtime takes it back, after tens of
// microseconds to some milliseconds, waking another thread to do so: for
// calls that come further apart, the poller costs less. So the input spins
// and waits in the system call only after a wait shorter than
// blockingWait. A goroutine that a finished task left running may wait
// meanwhile, until the runtime takes the processor back.
type input struct {
	f    *os.File
	rc   syscall.RawConn
	idle func() bool // reports whether no task is in flight
	hot  func() bool // reports whether the parent sends the next call at once
	slow bool        // the last read waited longer than blockingWait
}

// blockingWait is the longest wait after which the input still waits for
// the next in a system call. The runtime looks for threads stuck in one
// every 20 us to 10 ms, depending on how recently it found one; calls that
// come this close together mostly answer before it looks twice.
const blockingWait = 50 * time.Microsecond

func newInput(f *os.File, idle, hot func() bool) io.Reader {
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	return &input{f: f, rc: rc, idle: idle, hot: hot}
}

func (in *input) Read(p []byte) (int, error) {
	start := spinClock()
	defer func() { in.slow = spinClock()-start > int64(blockingWait) }()
	if len(p) == 0 || in.slow || !in.idle() {
		return in.f.Read(p)
	}
	var n int
	var rerr error
	hot := in.hot()
	err := in.rc.Read(func(fd uintptr) bool {
		sp, waited := spin{start: start}, false
		for {
			n, rerr = syscall.Read(int(fd), p)
			switch {
			case rerr == syscall.EINTR:
				continue
			case rerr == syscall.EAGAIN:
				if hot && !waited && sp.ok() {
					sp.yield()
					continue
				}
				waited = true
				pfd := [1]pollFD{{fd: int32(fd), events: pollIn}}
				if _, e := ppoll(pfd[:], -1); e != 0 && e != syscall.EINTR {
					n, rerr = 0, e
					return true
				}
				continue
			case rerr != nil:
				n = 0
			case n == 0:
				rerr = io.EOF
			}
			if !waited {
				sp.found()
			}
			return true
		}
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil && rerr != io.EOF {
		rerr = &os.PathError{Op: "read", Path: in.f.Name(), Err: rerr}
	}
	return n, rerr
}

const pollIn = 0x1
