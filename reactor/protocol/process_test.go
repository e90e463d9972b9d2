//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// These tests re-express those of Twisted's test/test_process.py and
// internet/test/test_process.py, with this test binary as the child (see
// child_test.go) where Twisted runs a Python script.

// procRec is a process protocol that records its events, in order, on the
// reactor goroutine, and runs hooks.
type procRec struct {
	protocol.ProcessBase
	events   []string
	out, err bytes.Buffer
	fds      map[int]*bytes.Buffer
	exited   error
	ended    chan error

	onMade   func(p *procRec)
	onOut    func(p *procRec, data []byte)
	onErr    func(p *procRec, data []byte)
	onChild  func(p *procRec, fd int, data []byte)
	onLost   func(p *procRec, fd int)
	onExited func(p *procRec, reason error)
	onEnded  func(p *procRec, reason error)
}

func newProcRec() *procRec {
	return &procRec{ended: make(chan error, 2), fds: map[int]*bytes.Buffer{}}
}

func (p *procRec) ConnectionMade(t protocol.ProcessTransport) {
	p.ProcessBase.ConnectionMade(t)
	p.events = append(p.events, "made")
	if p.onMade != nil {
		p.onMade(p)
	}
}

func (p *procRec) OutReceived(data []byte) {
	p.out.Write(data)
	if p.onOut != nil {
		p.onOut(p, data)
	}
}

func (p *procRec) ErrReceived(data []byte) {
	p.err.Write(data)
	if p.onErr != nil {
		p.onErr(p, data)
	}
}

func (p *procRec) ChildDataReceived(fd int, data []byte) {
	if p.fds[fd] == nil {
		p.fds[fd] = &bytes.Buffer{}
	}
	p.fds[fd].Write(data)
	if p.onChild != nil {
		p.onChild(p, fd, data)
	}
}

func (p *procRec) lost(fd int) {
	p.events = append(p.events, fmt.Sprintf("lost %d", fd))
	if p.onLost != nil {
		p.onLost(p, fd)
	}
}

func (p *procRec) InConnectionLost()          { p.lost(0) }
func (p *procRec) OutConnectionLost()         { p.lost(1) }
func (p *procRec) ErrConnectionLost()         { p.lost(2) }
func (p *procRec) ChildConnectionLost(fd int) { p.lost(fd) }

func (p *procRec) ProcessExited(reason error) {
	p.events = append(p.events, "exited")
	p.exited = reason
	if p.onExited != nil {
		p.onExited(p, reason)
	}
}

func (p *procRec) ProcessEnded(reason error) {
	p.events = append(p.events, "ended")
	p.ended <- reason
	if p.onEnded != nil {
		p.onEnded(p, reason)
	}
}

// child returns the name and arguments that start this test binary as a
// child that does mode.
func child(t *testing.T, mode string, args ...string) (string, []string) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe, append([]string{exe, "-twine-protocol-child", mode}, args...)
}

// spawn starts a child doing mode for p, on the reactor goroutine.
func (h *harness) spawn(p protocol.ProcessProtocol, mode string, args []string, opts ...protocol.ProcessOption) protocol.ProcessTransport {
	h.t.Helper()
	name, argv := child(h.t, mode, args...)
	opts = append([]protocol.ProcessOption{h.opts[0]}, opts...)
	res := on(h, func() result[protocol.ProcessTransport] {
		t, err := protocol.SpawnProcess(h.r, p, name, argv, opts...)
		return result[protocol.ProcessTransport]{t, err}
	})
	require.NoError(h.t, res.err)
	return res.v
}

// events returns what p has recorded so far.
func (p *procRec) snapshot(h *harness) []string {
	return on(h, func() []string { return slices.Clone(p.events) })
}

// endsInOrder checks Twisted's order: ConnectionMade first, each of the
// others once, ProcessExited before ProcessEnded, and ProcessEnded last,
// after every pipe has closed.
func endsInOrder(t *testing.T, events []string, pipes ...int) {
	t.Helper()
	require.NotEmpty(t, events)
	assert.Equal(t, "made", events[0])
	assert.Equal(t, "ended", events[len(events)-1])
	for _, e := range events {
		assert.Equal(t, 1, strings.Count(strings.Join(events, ","), e), "%q more than once in %v", e, events)
	}
	assert.Less(t, slices.Index(events, "exited"), slices.Index(events, "ended"), events)
	assert.NotEqual(t, -1, slices.Index(events, "exited"), events)
	for _, fd := range pipes {
		assert.Contains(t, events, fmt.Sprintf("lost %d", fd))
	}
	assert.Len(t, events, 3+len(pipes), events)
}

// Twisted's test_echo, test_write and test_writeSequence: what is written
// to standard input, with Write and WriteSequence, comes back through a
// child that copies it to its output, in order and whole; closing standard
// input ends the child, and ProcessEnded follows with ProcessDone once the
// three pipes have closed.
func TestProcessEcho(t *testing.T) {
	before := openFDs(t)
	h := newHarness(t)
	chunk := bytes.Repeat([]byte("1234567"), 1001)
	want := bytes.Repeat(chunk, 10)
	p := newProcRec()
	p.onMade = func(p *procRec) {
		for range 8 {
			n, err := p.Transport.Write(chunk)
			assert.NoError(t, err)
			assert.Equal(t, len(chunk), n)
		}
		n, err := p.Transport.WriteSequence([][]byte{chunk, chunk})
		assert.NoError(t, err)
		assert.Equal(t, 2*len(chunk), n)
	}
	p.onOut = func(p *procRec, data []byte) {
		if p.out.Len() == len(want) {
			p.Transport.CloseStdin()
		}
	}
	h.spawn(p, "echo", nil)
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	assert.Equal(t, want, on(h, func() []byte { return slices.Clone(p.out.Bytes()) }))
	endsInOrder(t, p.snapshot(h), 0, 1, 2)
	none(t, p.ended, "a second ProcessEnded")
	h.stop()
	assert.Equal(t, before, openFDs(t), "a descriptor was left open")
}

// Twisted's test_process: a child that closes its standard output, then
// its standard error, each while it runs, then exits with 23; each pipe's
// close is heard as it happens, and the transport answers a signal after
// the end with ProcessExitedAlready.
func TestProcessStages(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	var stages []int
	p.onMade = func(p *procRec) {
		stages = append(stages, 1)
		p.Transport.Write([]byte("abcd"))
	}
	p.onLost = func(p *procRec, fd int) {
		switch fd {
		case 1:
			stages = append(stages, 2)
			assert.Equal(t, "abcd", p.out.String())
			p.Transport.Write([]byte("1234"))
		case 2:
			stages = append(stages, 3)
			assert.Equal(t, "1234", p.err.String())
			p.Transport.Write([]byte("abcd"))
			stages = append(stages, 4)
		case 0:
			stages = append(stages, 5)
		}
	}
	var pid int
	tr := h.spawn(p, "tester", nil)
	h.do(func() { pid = tr.Pid() })
	assert.NotZero(t, pid)
	reason := recv(t, p.ended, "ProcessEnded")
	var term *protocol.ProcessTerminated
	require.ErrorAs(t, reason, &term)
	assert.Equal(t, 23, term.ExitCode)
	assert.Nil(t, term.Signal)
	assert.ErrorIs(t, reason, protocol.ErrProcessTerminated)
	h.do(func() {
		assert.Equal(t, []int{1, 2, 3, 4, 5}, stages)
		assert.ErrorIs(t, tr.SignalProcess(syscall.SIGINT), protocol.ErrProcessExitedAlready)
		assert.Zero(t, tr.Pid(), "Pid after the end")
	})
	endsInOrder(t, p.snapshot(h), 0, 1, 2)
}

// Twisted's test_signalHUP, INT, KILL and TERM, and
// test_processExitedWithSignal: a child ended by a signal ends with a
// ProcessTerminated that carries the signal and no exit code, in
// ProcessExited and ProcessEnded alike.
func TestProcessSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			h := newHarness(t)
			p := newProcRec()
			p.onOut = func(p *procRec, data []byte) {
				assert.NoError(t, p.Transport.SignalProcess(sig))
			}
			h.spawn(p, "ready", nil)
			reason := recv(t, p.ended, "ProcessEnded")
			var term *protocol.ProcessTerminated
			require.ErrorAs(t, reason, &term)
			assert.Equal(t, sig, term.Signal)
			assert.Equal(t, -1, term.ExitCode)
			assert.ErrorIs(t, reason, protocol.ErrConnectionLost)
			assert.Equal(t, reason, on(h, func() error { return p.exited }))
		})
	}
}

// Twisted's test_normalTermination and test_abnormalTermination, and the
// reasons' tree: exit status 0 is ProcessDone, a ConnectionDone; any other
// is a ProcessTerminated with the code, a ConnectionLost.
func TestProcessExitCodes(t *testing.T) {
	h := newHarness(t)
	for _, code := range []int{0, 1, 3, 255} {
		p := newProcRec()
		h.spawn(p, "exit", []string{fmt.Sprint(code)})
		reason := recv(t, p.ended, "ProcessEnded")
		if code == 0 {
			assert.Equal(t, protocol.ErrProcessDone, reason)
			assert.ErrorIs(t, reason, protocol.ErrConnectionDone)
			continue
		}
		assert.Equal(t, &protocol.ProcessTerminated{ExitCode: code}, reason)
		assert.ErrorIs(t, reason, protocol.ErrConnectionLost)
	}
}

// Twisted's test_processExited: ProcessExited comes when the child exits,
// even while its pipes are open (a grandchild holds them here); closing
// them then ends the process.
func TestProcessExitedWhilePipesOpen(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	var lostAtExit []string
	p.onExited = func(p *procRec, reason error) {
		lostAtExit = slices.Clone(p.events)
		p.Transport.LoseConnection()
	}
	h.spawn(p, "grandchild", nil)
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() { assert.Equal(t, []string{"made", "exited"}, lostAtExit) })
	endsInOrder(t, p.snapshot(h), 0, 1, 2)
}

// Twisted's test_processEnded: ProcessEnded comes after the child has
// exited and each of its pipes has been heard closing.
func TestProcessEndedAfterEveryPipe(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	p.onOut = func(p *procRec, data []byte) { p.Transport.LoseConnection() }
	h.spawn(p, "ready", nil)
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	endsInOrder(t, p.snapshot(h), 0, 1, 2)
}

// A child that exits while its output is still in the pipe loses none of
// it: ProcessExited comes first (the reading is paused here until then),
// then the rest of the output, then the pipe's close and ProcessEnded.
func TestProcessOutputAfterExitIsKept(t *testing.T) {
	h := newHarness(t)
	const n = 32 << 10 // less than a pipe holds, so that the child can exit
	p := newProcRec()
	var outAtExit int
	p.onMade = func(p *procRec) { p.Transport.PauseProducing() }
	p.onExited = func(p *procRec, reason error) {
		outAtExit = p.out.Len()
		p.Transport.ResumeProducing()
	}
	h.spawn(p, "burst", []string{fmt.Sprint(n)})
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() {
		assert.Zero(t, outAtExit, "output was read while reading was paused")
		assert.Equal(t, pattern(n), p.out.Bytes())
	})
	events := p.snapshot(h)
	endsInOrder(t, events, 0, 1, 2)
	assert.Less(t, slices.Index(events, "exited"), slices.Index(events, "lost 1"), events)
}

// The same with more output than a pipe holds, read as it comes: every byte
// arrives before ProcessEnded.
func TestProcessBulkOutput(t *testing.T) {
	h := newHarness(t)
	const n = 4 << 20
	p := newProcRec()
	h.spawn(p, "burst", []string{fmt.Sprint(n)})
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() { assert.True(t, bytes.Equal(pattern(n), p.out.Bytes()), "the output differs") })
}

// A child that closes its standard output early runs on: the protocol hears
// OutConnectionLost while it runs, and the rest of its life after.
func TestProcessClosesStdoutEarly(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	p.onLost = func(p *procRec, fd int) {
		if fd == 1 {
			assert.NotContains(t, p.events, "exited")
			p.Transport.Write([]byte("go on"))
			p.Transport.CloseStdin()
		}
	}
	h.spawn(p, "closeout", nil)
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() { assert.Equal(t, "bye", p.err.String()) })
	events := p.snapshot(h)
	endsInOrder(t, events, 0, 1, 2)
	assert.Equal(t, "lost 1", events[1], events)
}

// Twisted's ClosingPipesTests: CloseStdout and CloseStderr close the pipe
// for real: the child's next write to it fails, and kills it with SIGPIPE
// before it reaches its exit code, 42.
func TestProcessCloseOutputPipes(t *testing.T) {
	for _, fd := range []int{1, 2} {
		t.Run(fmt.Sprint(fd), func(t *testing.T) {
			h := newHarness(t)
			p := newProcRec()
			p.onMade = func(p *procRec) {
				if fd == 1 {
					p.Transport.CloseStdout()
				} else {
					p.Transport.CloseStderr()
				}
				p.Transport.Write([]byte("go\n"))
				p.Transport.CloseStdin()
			}
			h.spawn(p, "writeloop", []string{fmt.Sprint(fd)})
			reason := recv(t, p.ended, "ProcessEnded")
			var term *protocol.ProcessTerminated
			require.ErrorAs(t, reason, &term)
			assert.Equal(t, syscall.SIGPIPE, term.Signal, "the child was not stopped by its write: %v", reason)
			h.do(func() {
				assert.Empty(t, p.out.String())
				assert.Empty(t, p.err.String())
			})
			endsInOrder(t, p.snapshot(h), 0, 1, 2)
		})
	}
}
