package process

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// ErrClosed is the error of a call made on a [Pool] after [Pool.Close] has
// begun, and of a task still queued when Close gave up waiting.
var ErrClosed = errors.New("process: pool closed")

// ErrNoMain is returned by [NewPool] when [Main] has not been called: without
// it, a worker started from this executable would run the program itself
// instead of serving tasks.
var ErrNoMain = errors.New("process: process.Main was not called at the start of main")

// ErrStart wraps the reason a worker could not be started: the executable
// could not be run, the handshake failed (see [ErrHandshake]) or timed out.
//
// A failed start fails no task: none is sent to a worker before its
// handshake. The tasks waiting in the pool's queue wait for the next worker,
// and fail with an error wrapping ErrStart only when starts keep failing for
// a reason that lies with the executable ([MaxStartFailures] in a row, with
// no worker left to take them); that error says how many failed and how the
// last one ended, and is not a [*WorkerError], since the tasks never reached
// a worker. A worker killed from outside before its handshake (by SIGKILL or
// another signal that is not a crash) says nothing about the executable,
// and does not count.
var ErrStart = errors.New("process: cannot start worker")

// MaxStartFailures is how many worker starts in a row must fail, for a
// reason that lies with the executable, before the tasks that wait for a
// worker fail with [ErrStart]. From then on, until a start succeeds, each
// failed start fails the tasks that wait, so that a broken executable is
// not started again and again for them.
const MaxStartFailures = 3

// ErrHandshake is wrapped by the error of a worker whose handshake failed:
// it speaks another protocol version, has another set of registered
// functions or lacks the pool's codec (typically because the executable on
// disk was replaced by another build), or it is not a worker at all (its main
// does not call [Main] first). Such a worker is stopped and never used.
// ErrHandshake wraps [ErrStart].
var ErrHandshake = fmt.Errorf("%w: handshake failed", ErrStart)

// ErrTimeout is the error (inside a [*WorkerError]) of a task that ran longer
// than the pool's task timeout ([WithTaskTimeout]); its worker was killed.
var ErrTimeout = errors.New("process: task timed out")

// ErrKilled is the error (inside a [*WorkerError]) of the tasks that were
// running on a worker that the pool killed because another of its tasks
// timed out. They are failed, not retried, since a task may not be safe to
// run twice.
var ErrKilled = errors.New("process: worker killed: another of its tasks timed out")

// ErrProtocol is the error (inside a [*WorkerError]) of the tasks of a
// worker that broke the wire protocol: a malformed frame, an unknown request
// id, or a frame of an unexpected kind. The pool kills such a worker.
var ErrProtocol = errors.New("process: protocol error")

// ErrFrameTooLarge is the error of a task whose argument or result does not
// fit in a frame of the pool's maximum size ([WithMaxFrame]); only that task
// fails. Inside a [*WorkerError], it means the worker sent a frame longer
// than the maximum, and was killed for it.
var ErrFrameTooLarge = errors.New("process: frame too large")

// WorkerError is the error of the tasks that were in flight on a worker
// process when it went away: it crashed, was killed (by the pool or by
// anyone else) or broke the protocol. The pool replaces the worker; tasks
// that were still queued are not affected.
type WorkerError struct {
	PID        int            // the worker's process id
	ExitCode   int            // its exit status, or -1 if a signal ended it
	Signal     syscall.Signal // the signal that ended it, or 0
	StderrTail string         // the last lines it wrote on stderr
	Err        error          // why the pool stopped it, or nil if it went away on its own
}

// Error describes the worker's end, the reason and the tail of its stderr.
func (e *WorkerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "process: worker %d ", e.PID)
	e.writeEnd(&b)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if tail := strings.TrimRight(e.StderrTail, "\n"); tail != "" {
		b.WriteString("; stderr:\n")
		b.WriteString(tail)
	}
	return b.String()
}

// writeEnd writes how the process ended.
func (e *WorkerError) writeEnd(b *strings.Builder) {
	if e.Signal != 0 {
		fmt.Fprintf(b, "killed by signal %d (%v)", int(e.Signal), e.Signal)
	} else {
		fmt.Fprintf(b, "exited with status %d", e.ExitCode)
	}
}

// startError is the error of the tasks that waited for a worker while
// starts kept failing. It wraps the reason the last start failed (which
// wraps ErrStart), but not that start's *WorkerError: no task was ever
// sent to that process.
type startError struct {
	err  error        // why the last start failed
	n    int          // starts that failed in a row
	last *WorkerError // how the last one's process ended, or nil if none ran
}

func (e *startError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v (%d starts in a row failed", e.err, e.n)
	tail := ""
	if e.last != nil {
		fmt.Fprintf(&b, "; the last worker, %d, ", e.last.PID)
		e.last.writeEnd(&b)
		tail = strings.TrimRight(e.last.StderrTail, "\n")
	}
	b.WriteString(")")
	if tail != "" {
		b.WriteString("; its stderr:\n")
		b.WriteString(tail)
	}
	return b.String()
}

func (e *startError) Unwrap() error { return e.err }

// Unwrap returns Err, so that errors.Is sees [ErrTimeout], [ErrKilled],
// [ErrProtocol], [ErrFrameTooLarge] or [ErrClosed] through a WorkerError.
func (e *WorkerError) Unwrap() error { return e.Err }

// RemoteError is an error that a registered function returned in a worker.
// Errors cross the process boundary as text: errors.Is and errors.As cannot
// see the worker's error values, only this type.
type RemoteError struct {
	Func string // the registered name of the function
	Text string // the error's text, as its Error method gave it in the worker
}

// Error returns the text of the worker's error, unchanged.
func (e *RemoteError) Error() string { return e.Text }
