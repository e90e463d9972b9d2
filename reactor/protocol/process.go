//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// SpawnProcess starts the program name as a child process whose pipes are
// served by r, with p as its protocol: Twisted's reactor.spawnProcess. args
// is the whole argument list the child sees, its name first, as in Twisted
// (empty: just name); a name without a slash is looked for in this
// process's PATH, as os/exec does. The options set the child's environment
// (inherited by default; see [WithEnv]), working directory, descriptors
// (standard input, output and error on pipes by default; see
// [WithChildFDs]), user and group.
//
// p.ConnectionMade is called before SpawnProcess returns, as Twisted calls
// makeConnection, with the transport that SpawnProcess then returns; the
// other methods of p follow on the reactor goroutine in the order
// [ProcessProtocol] gives, once r runs. Call SpawnProcess on the reactor
// goroutine, or before [reactor.Reactor.Run]. A nil r or p panics, as do
// pipes on descriptors beyond 2 for a p that lacks [ChildFDProtocol].
//
// When the child cannot be started, SpawnProcess fails with an error
// matched by [ErrSpawn], wrapping the cause (a program not found, a
// directory that does not exist, an exec that failed, [ErrShutdown]), and
// p hears nothing: the system reports a failed exec to the parent, so
// there is no child to end. Twisted's spawnProcess raises the same way when
// it starts the child with posix_spawnp, as it does unless it must change
// the user or the directory; forking, it runs the child, which reports the
// error on its standard error and exits with 1.
//
// The pipes are non-blocking descriptors in r's poller, served as sockets
// are, with the same write buffer and producers (see [ProcessTransport]).
// On Linux the child's exit is a pidfd in the same poller, so that the
// reactor goroutine itself reaps the child and hears of its exit in the
// same wait as its output, with no goroutine; elsewhere a goroutine per
// child waits for it and hands the exit status over with CallSoon, and the
// reactor goroutine delivers it.
//
// When r shuts down, each child's pipes are closed (its protocol hears
// InConnectionLost, OutConnectionLost and ErrConnectionLost) and a child
// that has not exited is left running, as Twisted leaves it: ProcessEnded
// follows with an [ErrConnectionLost] wrapping [ErrShutdown]. So that it
// leaves no zombie, a goroutine waits for such a child and reaps it when
// it exits; [ProcessTransport.SignalProcess] still reaches it from any
// goroutine. A program that wants its children ended first signals them
// in a before-shutdown trigger, whose Deferred fires on ProcessEnded.
func SpawnProcess(r *reactor.Reactor, p ProcessProtocol, name string, args []string, opts ...ProcessOption) (ProcessTransport, error) {
	if p == nil {
		panic("protocol: SpawnProcess: nil ProcessProtocol")
	}
	po := newProcessOptions(opts)
	cfp, _ := p.(ChildFDProtocol)
	fds := slices.Sorted(func(yield func(int) bool) {
		for fd := range po.childFDs {
			if !yield(fd) {
				return
			}
		}
	})
	for _, fd := range fds {
		c := po.childFDs[fd]
		if cfp == nil && ((fd > 2 && c.kind != 'f') || (fd == 0 && c.kind == 'r')) {
			panic(fmt.Sprintf("protocol: SpawnProcess: a pipe on the child's descriptor %d needs a protocol that implements ChildFDProtocol", fd))
		}
	}
	fail := func(err error) (ProcessTransport, error) {
		return nil, fmt.Errorf("%w: %s: %w", ErrSpawn, name, err)
	}
	e, err := engineFor(r)
	if err != nil {
		return fail(err)
	}
	path := name
	if !strings.Contains(name, "/") {
		if path, err = exec.LookPath(name); err != nil {
			return fail(err)
		}
	}
	if po.dir != "" {
		// The child's chdir would fail with the same error as a missing
		// program; say which it is.
		if _, err := os.Stat(po.dir); err != nil {
			return fail(err)
		}
	}
	if len(args) == 0 {
		args = []string{name}
	}

	// The child's descriptors, and the parent's ends of its pipes.
	type end struct {
		childFD int
		fd      int
		toChild bool
	}
	var ends []end
	var childEnds []*os.File
	var files []*os.File
	if len(fds) > 0 {
		files = make([]*os.File, fds[len(fds)-1]+1)
	}
	closeEnds := func(parents bool) {
		for _, f := range childEnds {
			_ = f.Close()
		}
		if parents {
			for _, x := range ends {
				_ = syscall.Close(x.fd)
			}
		}
	}
	for _, fd := range fds {
		c := po.childFDs[fd]
		if c.kind == 'f' {
			files[fd] = c.file
			continue
		}
		var pfd [2]int
		if err := pipeCloexec(&pfd); err != nil {
			closeEnds(true)
			return fail(os.NewSyscallError("pipe", err))
		}
		parent, child := pfd[0], pfd[1]
		if c.kind == 'w' {
			parent, child = pfd[1], pfd[0]
		}
		files[fd] = os.NewFile(uintptr(child), "twine-pipe")
		childEnds = append(childEnds, files[fd])
		ends = append(ends, end{childFD: fd, fd: parent, toChild: c.kind == 'w'})
		if err := syscall.SetNonblock(parent, true); err != nil {
			closeEnds(true)
			return fail(os.NewSyscallError("setnonblock", err))
		}
	}
	sys := &syscall.SysProcAttr{}
	if po.uid >= 0 || po.gid >= 0 {
		uid, gid := po.uid, po.gid
		if uid < 0 {
			uid = os.Geteuid()
		}
		if gid < 0 {
			gid = os.Getegid()
		}
		sys.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	pidfd := -1
	askPidfd(sys, &pidfd)
	attr := &os.ProcAttr{Dir: po.dir, Files: files, Sys: sys}
	if po.envSet {
		attr.Env = po.env
	}
	child, err := os.StartProcess(path, args, attr)
	closeEnds(err != nil) // the child has its own copies of its ends
	if err != nil {
		return fail(err)
	}

	pr := &process{e: e, proto: p, child: cfp, log: po.logger, os: child, pid: child.Pid, pidfd: pidfd}
	for _, x := range ends {
		pp := &pipe{p: pr, childFD: x.childFD, toChild: x.toChild}
		pp.c = newConn(e, x.fd, pp, nil, nil, &po.options)
		pp.c.onPanic = pr.panicked
		pr.pipes = append(pr.pipes, pp)
	}
	pr.open = len(pr.pipes)
	e.enders[pr] = struct{}{}
	pr.watch()
	for _, pp := range pr.pipes {
		pp.c.start()
	}
	pr.call(func() { p.ConnectionMade(pr) })
	return pr, nil
}

// process is a child process and the [ProcessTransport] its protocol
// talks to it through: Twisted's process.Process. Each of its pipes is a
// conn, so that it is read and written as a socket is; the process hears of
// their data and their end through the conn's protocol (a pipe). Everything
// in it runs on the reactor goroutine.
type process struct {
	e     *engine
	proto ProcessProtocol
	child ChildFDProtocol // proto, if it hears descriptors beyond 2
	log   *slog.Logger
	os    *os.Process
	pid   int
	pidfd int   // the child's pidfd in the poller, or -1
	gen   int32 // the pidfd's handler generation
	pipes []*pipe
	open  int // pipes not yet closed

	waiting bool  // a goroutine waits for the child
	exited  bool  // the child has exited and been reaped
	reason  error // why it exited
	ended   bool  // ProcessEnded has been called, or is being
}

// pipe is one of the child's descriptors that the parent reads or writes,
// as the protocol of the conn that serves it.
type pipe struct {
	p       *process
	childFD int
	toChild bool // the parent writes to it
	c       *conn
	lost    bool
}

// ConnectionMade implements Protocol: the conn is set already.
func (pp *pipe) ConnectionMade(Transport) {}

// DataReceived implements Protocol: the child wrote data.
func (pp *pipe) DataReceived(data []byte) {
	p := pp.p
	switch pp.childFD {
	case 1:
		p.call(func() { p.proto.OutReceived(data) })
	case 2:
		p.call(func() { p.proto.ErrReceived(data) })
	default:
		p.call(func() { p.child.ChildDataReceived(pp.childFD, data) })
	}
}

// ConnectionLost implements Protocol: the pipe has closed. A pipe to the
// child is read for the error that tells its reader has gone, and that read
// fails: how it ended does not matter to the process, as in Twisted.
func (pp *pipe) ConnectionLost(error) { pp.p.pipeLost(pp) }

// call runs one of the protocol's callbacks: a panic in it aborts the
// process.
func (p *process) call(f func()) {
	defer func() {
		if v := recover(); v != nil {
			p.panicked(deferred.NewPanicError(v))
		}
	}()
	f()
}

// panicked logs a callback's panic and aborts the process: the child is
// killed if it runs, and every pipe is closed, dropping what standard
// input held.
func (p *process) panicked(pe *deferred.PanicError) {
	p.log.Error("protocol: process protocol callback panicked; aborting its process", "err", pe, "pid", p.pid, "stack", string(pe.Stack))
	if !p.exited && !p.ended {
		_ = p.os.Kill()
	}
	for _, pp := range p.pipes {
		pp.c.AbortConnection()
	}
}

// pipeLost tells the protocol that a pipe has closed, and ends the process
// if the child has exited and this was its last pipe.
func (p *process) pipeLost(pp *pipe) {
	if pp.lost {
		return
	}
	pp.lost = true
	p.open--
	switch pp.childFD {
	case 0:
		p.call(p.proto.InConnectionLost)
	case 1:
		p.call(p.proto.OutConnectionLost)
	case 2:
		p.call(p.proto.ErrConnectionLost)
	default:
		p.call(func() { p.child.ChildConnectionLost(pp.childFD) })
	}
	if p.exited && p.open == 0 {
		p.end(p.reason)
	}
}

// exit takes the child's exit status, once: the protocol hears
// ProcessExited, and ProcessEnded too if every pipe has closed.
func (p *process) exit(state *os.ProcessState, err error) {
	if p.exited || p.ended {
		return
	}
	p.exited = true
	p.pid = 0
	p.reason = exitReason(state)
	if err != nil {
		p.log.Error("protocol: cannot reap a child process", "err", err, "pid", p.os.Pid)
	}
	p.call(func() { p.proto.ProcessExited(p.reason) })
	if p.open == 0 {
		p.end(p.reason)
	}
}

// exitReason turns an exit status into Twisted's reason: ProcessDone or
// ProcessTerminated.
func exitReason(state *os.ProcessState) error {
	if state == nil {
		return &ProcessTerminated{ExitCode: -1}
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &ProcessTerminated{ExitCode: -1, Signal: ws.Signal()}
	}
	if code := state.ExitCode(); code != 0 {
		return &ProcessTerminated{ExitCode: code}
	}
	return ErrProcessDone
}

// end tells the protocol, once, that the process has ended.
func (p *process) end(reason error) {
	if p.ended {
		return
	}
	p.ended = true
	delete(p.e.enders, p)
	p.call(func() { p.proto.ProcessEnded(reason) })
}

// watch arranges to hear of the child's exit: its pidfd in the poller, or
// a goroutine that waits for it.
func (p *process) watch() {
	if p.watchPidfd() {
		return
	}
	p.waiting = true
	reapers.Add(1)
	r := p.e.r
	go func() {
		defer reapers.Done()
		state, err := p.os.Wait()
		r.TryCallSoon(func() { p.exit(state, err) })
	}()
}

// reap reaps the child, whose pidfd says it has exited: the wait does not
// block.
func (p *process) reap() {
	p.unwatchPidfd()
	state, err := p.os.Wait()
	p.exit(state, err)
}

// shutdown implements ender: the reactor is shutting down. The pipes are
// closed, as Twisted's reactor closes every descriptor; a child that has
// exited is reaped, and one that has not is left running, with a goroutine
// to reap it when it exits, and the protocol hears ProcessEnded.
func (p *process) shutdown() {
	delete(p.e.enders, p)
	if p.ended {
		return
	}
	if !p.exited && p.pidfd >= 0 && p.exitPending() {
		p.reap()
	}
	reason := &DisconnectError{Reason: ErrConnectionLost, Err: ErrShutdown}
	for _, pp := range p.pipes {
		pp.c.lose(reason, true)
	}
	if p.ended {
		return
	}
	if !p.exited && !p.waiting {
		p.unwatchPidfd()
		p.waiting = true
		reapers.Add(1)
		go func(child *os.Process) {
			defer reapers.Done()
			_, _ = child.Wait()
		}(p.os)
	}
	p.end(reason)
}

// reapers counts the goroutines that wait for children: those of the
// portable design, and those that reap the children that outlived their
// reactor. Each ends when its child exits.
var reapers sync.WaitGroup

// pipeTo returns the pipe on the child's descriptor fd, or nil.
func (p *process) pipeTo(fd int) *pipe {
	for _, pp := range p.pipes {
		if pp.childFD == fd {
			return pp
		}
	}
	return nil
}

// Write implements [ProcessTransport]: it writes to standard input.
func (p *process) Write(b []byte) (int, error) { return p.WriteToChild(0, b) }

// WriteSequence implements [ProcessTransport].
func (p *process) WriteSequence(bs [][]byte) (int, error) {
	pp := p.pipeTo(0)
	if pp == nil || !pp.toChild {
		return 0, fmt.Errorf("%w: 0", ErrNoPipe)
	}
	return pp.c.WriteSequence(bs)
}

// WriteToChild implements [ProcessTransport].
func (p *process) WriteToChild(fd int, b []byte) (int, error) {
	pp := p.pipeTo(fd)
	if pp == nil || !pp.toChild {
		return 0, fmt.Errorf("%w: %d", ErrNoPipe, fd)
	}
	return pp.c.Write(b)
}

// RegisterProducer implements [ProcessTransport]: the producer writes to
// standard input.
func (p *process) RegisterProducer(prod Producer, streaming bool) {
	pp := p.pipeTo(0)
	if pp == nil || !pp.toChild {
		if prod == nil {
			panic("protocol: ProcessTransport.RegisterProducer: nil producer")
		}
		p.call(prod.StopProducing)
		return
	}
	pp.c.RegisterProducer(prod, streaming)
}

// UnregisterProducer implements [ProcessTransport].
func (p *process) UnregisterProducer() {
	if pp := p.pipeTo(0); pp != nil && pp.toChild {
		pp.c.UnregisterProducer()
	}
}

// CloseChildFD implements [ProcessTransport].
func (p *process) CloseChildFD(fd int) {
	if pp := p.pipeTo(fd); pp != nil {
		pp.c.LoseConnection()
	}
}

// CloseStdin implements [ProcessTransport].
func (p *process) CloseStdin() { p.CloseChildFD(0) }

// CloseStdout implements [ProcessTransport].
func (p *process) CloseStdout() { p.CloseChildFD(1) }

// CloseStderr implements [ProcessTransport].
func (p *process) CloseStderr() { p.CloseChildFD(2) }

// LoseConnection implements [ProcessTransport].
func (p *process) LoseConnection() {
	p.CloseChildFD(0)
	for _, pp := range p.pipes {
		pp.c.LoseConnection()
	}
}

// PauseProducing implements [PushProducer]: the pipes from the child are
// not read until ResumeProducing.
func (p *process) PauseProducing() {
	for _, pp := range p.pipes {
		if !pp.toChild {
			pp.c.PauseProducing()
		}
	}
}

// ResumeProducing implements [PushProducer].
func (p *process) ResumeProducing() {
	for _, pp := range p.pipes {
		if !pp.toChild {
			pp.c.ResumeProducing()
		}
	}
}

// StopProducing implements [Producer]: LoseConnection.
func (p *process) StopProducing() { p.LoseConnection() }

// SignalProcess implements [ProcessTransport].
func (p *process) SignalProcess(sig os.Signal) error {
	if sig == nil {
		panic("protocol: ProcessTransport.SignalProcess: nil signal")
	}
	if p.exited {
		return ErrProcessExitedAlready
	}
	if err := p.os.Signal(sig); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return ErrProcessExitedAlready
		}
		return err
	}
	return nil
}

// Pid implements [ProcessTransport].
func (p *process) Pid() int { return p.pid }

var _ ProcessTransport = (*process)(nil)
