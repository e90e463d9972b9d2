package protocol

import (
	"errors"
	"fmt"
	"os"
)

// ProcessProtocol is the code that talks to a child process started with
// SpawnProcess: Twisted's ProcessProtocol. Its methods run on the reactor
// goroutine, one at a time: ConnectionMade first; OutReceived and
// ErrReceived as the child writes to its standard output and error;
// InConnectionLost, OutConnectionLost and ErrConnectionLost as each pipe
// closes; ProcessExited when the child has exited; ProcessEnded last, once
// it has exited and every pipe has closed. Embed [ProcessBase] to write only
// the methods that matter.
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
	// pipes have closed, with the same reason as ProcessExited.
	ProcessEnded(reason error)
}

// ProcessTransport is a child process as its protocol sees it: Twisted's
// IProcessTransport. Its methods are called on the reactor goroutine and
// never block. As a [Consumer], it writes to the child's standard input.
type ProcessTransport interface {
	Consumer

	// WriteSequence writes each slice of ps to standard input, in order.
	WriteSequence(ps [][]byte) (int, error)

	// CloseStdin closes the child's standard input once what was written
	// to it has been sent: the child sees end of file.
	CloseStdin()

	// CloseStdout stops reading the child's standard output and closes it.
	CloseStdout()

	// CloseStderr stops reading the child's standard error and closes it.
	CloseStderr()

	// LoseConnection closes all three pipes, standard input after what was
	// written to it has been sent. The child is not signalled.
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
