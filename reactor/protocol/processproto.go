package protocol

import (
	"errors"
	"fmt"
	"os"
)

// ProcessProtocol is the code that talks to a child process started with
// [SpawnProcess]: Twisted's ProcessProtocol. Its methods run on the reactor
// goroutine, one at a time, never from inside one another: ConnectionMade
// first; OutReceived and ErrReceived as the child writes to its standard
// output and error; InConnectionLost, OutConnectionLost and
// ErrConnectionLost as each pipe closes; ProcessExited when the child has
// exited; ProcessEnded last, once it has exited and every pipe has closed.
// Each of them but OutReceived and ErrReceived is called at most once, and
// ConnectionMade and ProcessEnded exactly once. Embed [ProcessBase] to
// write only the methods that matter.
//
// A method that panics has the panic logged and its process aborted: the
// child is killed (SIGKILL) if it still runs, and its pipes are closed,
// dropping what standard input had not sent; the protocol then hears the
// rest of the end as usual (the pipes' callbacks, ProcessExited with the
// signal, ProcessEnded). The reactor and the other processes and
// connections go on.
type ProcessProtocol interface {
	// ConnectionMade is called once the child has started, with the
	// transport to write to its standard input and to signal it.
	ConnectionMade(t ProcessTransport)

	// OutReceived is called with bytes the child wrote to its standard
	// output; valid only until it returns.
	OutReceived(data []byte)

	// ErrReceived is called with bytes the child wrote to its standard
	// error; valid only until it returns.
	ErrReceived(data []byte)

	// InConnectionLost is called when the child's standard input has been
	// closed.
	InConnectionLost()

	// OutConnectionLost is called when the child's standard output has
	// closed.
	OutConnectionLost()

	// ErrConnectionLost is called when the child's standard error has
	// closed.
	ErrConnectionLost()

	// ProcessExited is called when the child has exited, with
	// [ErrProcessDone] for a zero exit status or a *[ProcessTerminated];
	// its pipes may still hold data.
	ProcessExited(reason error)

	// ProcessEnded is called once, last, when the child has exited and its
	// pipes have closed, with the same reason as ProcessExited. When the
	// reactor shuts down before the child has exited, it is called once
	// the pipes have closed, with an [ErrConnectionLost] wrapping
	// [ErrShutdown], and ProcessExited is not.
	ProcessEnded(reason error)
}

// ProcessTransport is a child process as its protocol sees it: Twisted's
// IProcessTransport. Its methods are called on the reactor goroutine and
// never block.
//
// As a [Consumer], it writes to the child's standard input, with a
// socket's write buffer, water marks and producers (see [Transport]):
// Write queues the bytes and never blocks; a streaming producer is paused
// while the buffer is over its high water mark. Once standard input has
// been closed, or when the child has none (see [WithChildFDs]), Write drops
// the bytes and returns an error: one matched by [ErrConnectionClosed]
// after the close, [ErrNoPipe] without the pipe; RegisterProducer then
// stops the producer at once, as Twisted does.
//
// As a [PushProducer], it reads the child's output: PauseProducing stops
// reading every pipe from the child (which blocks once the pipe is full)
// until ResumeProducing, and StopProducing is LoseConnection. Registered as
// the producer of a socket's transport, it passes the child's output on at
// the pace the peer reads it.
type ProcessTransport interface {
	Consumer
	PushProducer

	// WriteSequence writes each slice of ps to standard input, in order.
	WriteSequence(ps [][]byte) (int, error)

	// WriteToChild writes p to the pipe on the child's descriptor childFD
	// (see [WithChildFDs]), as Write does to standard input. A descriptor
	// that is not a pipe to the child gets [ErrNoPipe] (Twisted raises
	// KeyError).
	WriteToChild(childFD int, p []byte) (int, error)

	// CloseChildFD closes the pipe on the child's descriptor childFD: a
	// pipe to the child once what was written to it has been sent (the
	// child sees end of file), a pipe from the child at once (its writes
	// fail with EPIPE, or kill it with SIGPIPE). Another descriptor, or one
	// closed already, is ignored.
	CloseChildFD(childFD int)

	// CloseStdin is CloseChildFD(0).
	CloseStdin()

	// CloseStdout is CloseChildFD(1).
	CloseStdout()

	// CloseStderr is CloseChildFD(2).
	CloseStderr()

	// LoseConnection closes every pipe: standard input after what was
	// written to it has been sent, then the others. The child is not
	// signalled: one that needs its pipes fails or ends on its own.
	LoseConnection()

	// SignalProcess sends sig to the child. Once the child has exited it
	// returns [ErrProcessExitedAlready].
	SignalProcess(sig os.Signal) error

	// Pid is the child's process id, or 0 once it has exited and been
	// reaped.
	Pid() int
}

// ErrProcessDone is the reason a child process ended with exit status 0:
// Twisted's ProcessDone. It is an [ErrConnectionDone].
var ErrProcessDone error = &reason{"protocol: process finished with exit code 0", ErrConnectionDone}

// ErrProcessTerminated matches every *[ProcessTerminated] with errors.Is. It
// is an [ErrConnectionLost].
var ErrProcessTerminated error = &reason{"protocol: process terminated", ErrConnectionLost}

// ErrProcessExitedAlready is returned by [ProcessTransport.SignalProcess]
// once the child has exited: Twisted's ProcessExitedAlready.
var ErrProcessExitedAlready = errors.New("protocol: process has already exited")

// ProcessTerminated is the reason a child process ended with a non-zero
// exit status or by a signal: Twisted's ProcessTerminated. ExitCode is -1
// when a signal ended it; Signal is nil when it exited.
type ProcessTerminated struct {
	ExitCode int
	Signal   os.Signal
}

// Error reports the exit code or the signal.
func (e *ProcessTerminated) Error() string {
	if e.Signal != nil {
		return fmt.Sprintf("protocol: process ended by signal %v", e.Signal)
	}
	return fmt.Sprintf("protocol: process ended with exit code %d", e.ExitCode)
}

// Unwrap returns [ErrProcessTerminated], so that errors.Is matches it and the
// tree above it.
func (e *ProcessTerminated) Unwrap() error { return ErrProcessTerminated }

// ChildFDProtocol is implemented by a [ProcessProtocol] that has pipes on
// descriptors of the child beyond 0, 1 and 2 (see [WithChildFDs]):
// Twisted's childDataReceived and childConnectionLost. The transport calls
// them, on the reactor goroutine, for those descriptors only; descriptors
// 0, 1 and 2 keep their own methods (OutReceived, InConnectionLost, ...),
// where Twisted sends every descriptor through childDataReceived.
type ChildFDProtocol interface {
	// ChildDataReceived is called with bytes the child wrote to its
	// descriptor childFD; valid only until it returns.
	ChildDataReceived(childFD int, data []byte)

	// ChildConnectionLost is called when the pipe on the child's
	// descriptor childFD has closed.
	ChildConnectionLost(childFD int)
}

// ErrSpawn is the error, wrapped with the program's name and its cause,
// that [SpawnProcess] returns when the child cannot be started: a program
// that is not found (exec.ErrNotFound, or fs.ErrNotExist through the
// system's ENOENT) or may not be run (fs.ErrPermission), a working
// directory that does not exist, a uid or gid that may not be taken, the
// reactor shut down ([ErrShutdown]).
var ErrSpawn = errors.New("protocol: cannot start the process")

// ErrNoPipe is returned by a [ProcessTransport]'s writes when the child has
// no pipe on the descriptor written to.
var ErrNoPipe = errors.New("protocol: no pipe to the child on that descriptor")

// ProcessBase implements [ProcessProtocol] with methods that keep the
// transport and do nothing else. Embed it; a protocol that writes its own
// ConnectionMade calls ProcessBase.ConnectionMade first.
type ProcessBase struct {
	// Transport is the child's transport, from ConnectionMade on.
	Transport ProcessTransport
}

// ConnectionMade keeps t in b.Transport.
func (b *ProcessBase) ConnectionMade(t ProcessTransport) { b.Transport = t }

// OutReceived does nothing.
func (b *ProcessBase) OutReceived(data []byte) {}

// ErrReceived does nothing.
func (b *ProcessBase) ErrReceived(data []byte) {}

// InConnectionLost does nothing.
func (b *ProcessBase) InConnectionLost() {}

// OutConnectionLost does nothing.
func (b *ProcessBase) OutConnectionLost() {}

// ErrConnectionLost does nothing.
func (b *ProcessBase) ErrConnectionLost() {}

// ProcessExited does nothing.
func (b *ProcessBase) ProcessExited(reason error) {}

// ProcessEnded does nothing.
func (b *ProcessBase) ProcessEnded(reason error) {}

var _ ProcessProtocol = (*ProcessBase)(nil)
