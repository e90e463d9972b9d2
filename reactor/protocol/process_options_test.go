//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// Twisted's test_FD (FDChecker): pipes on descriptors beyond 2 in both
// directions, the child's standard error handed over as this process's,
// WriteToChild, CloseChildFD, and ChildDataReceived and
// ChildConnectionLost for those descriptors, in the order the child acts.
func TestProcessChildFDs(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	state := 0
	var trace []string
	p.onMade = func(p *procRec) {
		n, err := p.Transport.WriteToChild(0, []byte("abcd"))
		assert.NoError(t, err)
		assert.Equal(t, 4, n)
		state = 1
	}
	p.onOut = func(p *procRec, data []byte) {
		switch {
		case state == 1 && p.out.String() == "righto":
			state = 2
			p.out.Reset()
			_, err := p.Transport.WriteToChild(3, []byte("efgh"))
			assert.NoError(t, err)
		case state == 3 && p.out.String() == "closed":
			state = 4
		}
	}
	p.onChild = func(p *procRec, fd int, data []byte) { trace = append(trace, fmt.Sprintf("data on %d", fd)) }
	p.onLost = func(p *procRec, fd int) {
		trace = append(trace, fmt.Sprintf("lost %d in state %d", fd, state))
		if state == 2 && fd == 4 {
			state = 3
			p.Transport.CloseChildFD(5)
		}
	}
	h.spawn(p, "fds", nil, protocol.WithChildFDs(map[int]protocol.ChildFD{
		0: protocol.PipeToChild,
		1: protocol.PipeFromChild,
		2: protocol.ChildFile(os.Stderr),
		3: protocol.PipeToChild,
		4: protocol.PipeFromChild,
		5: protocol.PipeToChild,
	}))
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() {
		assert.Equal(t, 4, state)
		assert.Equal(t, []string{"lost 4 in state 2"}, trace[:1], trace)
		assert.NotContains(t, trace, "data on 4")
	})
	endsInOrder(t, p.snapshot(h), 0, 1, 3, 4, 5)
}

// Twisted's test_linger: every pipe closes while the child runs on, and the
// process ends only once the child has exited.
func TestProcessLinger(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	p.onLost = func(p *procRec, fd int) {
		if slices.Contains(p.events, "lost 1") && slices.Contains(p.events, "lost 2") && fd != 3 {
			assert.NotContains(t, p.events, "exited")
			p.Transport.CloseChildFD(3)
		}
	}
	h.spawn(p, "linger", nil, protocol.WithChildFDs(map[int]protocol.ChildFD{
		1: protocol.PipeFromChild, 2: protocol.PipeFromChild, 3: protocol.PipeToChild,
	}))
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() { assert.Equal(t, "here is some text\ngoodbye\n", p.out.String()) })
	endsInOrder(t, p.snapshot(h), 1, 2, 3)
}

// Twisted's test_commandLine and test_processCommandLineArguments: the
// arguments reach the child as given, its name first.
func TestProcessArguments(t *testing.T) {
	h := newHarness(t)
	extra := []string{`a\"b `, `a\b `, ` a\\"b`, " a\\b", `"foo bar" "`, "\tab", `"\`, `a"b`, "a'b", "", "snow \u2603", " \t|<>^&"}
	p := newProcRec()
	name, argv := child(t, "argv", extra...)
	h.spawn(p, "argv", extra)
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() {
		got := strings.Split(strings.TrimSuffix(p.out.String(), "\x00"), "\x00")
		assert.Equal(t, argv, got)
	})

	// Args may name the program differently, and without them it is name.
	q := newProcRec()
	h.do(func() {
		_, err := protocol.SpawnProcess(h.r, q, name, []string{"another-name", "-twine-protocol-child", "argv"})
		require.NoError(t, err)
	})
	assert.Equal(t, protocol.ErrProcessDone, recv(t, q.ended, "ProcessEnded"))
	h.do(func() { assert.Equal(t, "another-name\x00-twine-protocol-child\x00argv\x00", q.out.String()) })
}

// run spawns name with args and opts, and returns its output and end.
func run(t *testing.T, h *harness, name string, args []string, opts ...protocol.ProcessOption) (string, error) {
	t.Helper()
	p := newProcRec()
	res := on(h, func() result[protocol.ProcessTransport] {
		tr, err := protocol.SpawnProcess(h.r, p, name, args, opts...)
		return result[protocol.ProcessTransport]{tr, err}
	})
	require.NoError(t, res.err)
	reason := recv(t, p.ended, "ProcessEnded")
	return on(h, func() string { return p.out.String() + p.err.String() }), reason
}

// The environment: inherited without WithEnv (Twisted's env=None), exactly
// what WithEnv gives otherwise, and empty with WithEnv() (Twisted's
// default).
func TestProcessEnvironment(t *testing.T) {
	envProg, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env program on this system:", err)
	}
	t.Setenv("TWINE_PROCESS_TEST", "inherited")
	h := newHarness(t)
	out, reason := run(t, h, "env", nil)
	assert.Equal(t, protocol.ErrProcessDone, reason)
	assert.Contains(t, strings.Split(out, "\n"), "TWINE_PROCESS_TEST=inherited")

	out, reason = run(t, h, envProg, []string{"env"}, protocol.WithEnv("A=1", "B=two words"))
	assert.Equal(t, protocol.ErrProcessDone, reason)
	assert.Equal(t, "A=1\nB=two words\n", out)

	out, reason = run(t, h, envProg, []string{"env"}, protocol.WithEnv())
	assert.Equal(t, protocol.ErrProcessDone, reason)
	assert.Empty(t, out)
}

// WithDir runs the child in the directory given: Twisted's path.
func TestProcessDir(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	h := newHarness(t)
	out, reason := run(t, h, "pwd", []string{"pwd", "-P"}, protocol.WithDir(dir))
	assert.Equal(t, protocol.ErrProcessDone, reason)
	assert.Equal(t, dir+"\n", out)
}

// Twisted's test_changeUID and test_changeGID: as root, the child runs as
// the user and group given; as anyone else, the start fails with EPERM.
func TestProcessUIDGID(t *testing.T) {
	h := newHarness(t)
	if os.Geteuid() != 0 {
		res := on(h, func() result[protocol.ProcessTransport] {
			tr, err := protocol.SpawnProcess(h.r, newProcRec(), "id", nil, protocol.WithUID(0), protocol.WithGID(0))
			return result[protocol.ProcessTransport]{tr, err}
		})
		assert.ErrorIs(t, res.err, protocol.ErrSpawn)
		assert.ErrorIs(t, res.err, syscall.EPERM)
		return
	}
	out, reason := run(t, h, "id", []string{"id", "-u"}, protocol.WithUID(65534))
	assert.Equal(t, protocol.ErrProcessDone, reason)
	assert.Equal(t, "65534\n", out)
	out, reason = run(t, h, "id", []string{"id", "-g"}, protocol.WithGID(65534))
	assert.Equal(t, protocol.ErrProcessDone, reason)
	assert.Equal(t, "65534\n", out)
	out, reason = run(t, h, "id", []string{"id", "-G"}, protocol.WithUID(65534), protocol.WithGID(65534))
	assert.Equal(t, protocol.ErrProcessDone, reason)
	assert.Equal(t, "65534\n", out, "the supplementary groups were kept")
}

// Writes that have no pipe to go to, or come after the pipe's close, fail
// with an error and are dropped; a producer registered on a process with no
// standard input is stopped at once, as in Twisted.
func TestProcessWriteErrors(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	p.onMade = func(p *procRec) {
		_, err := p.Transport.WriteToChild(13, []byte("x"))
		assert.ErrorIs(t, err, protocol.ErrNoPipe, "Twisted's KeyError")
		_, err = p.Transport.WriteToChild(1, []byte("x"))
		assert.ErrorIs(t, err, protocol.ErrNoPipe, "a pipe from the child")
		p.Transport.CloseStdin()
		_, err = p.Transport.Write([]byte("x"))
		assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
		p.Transport.CloseChildFD(13) // ignored
	}
	h.spawn(p, "echo", nil)
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() { assert.Empty(t, p.out.String()) })

	q := newProcRec()
	stopped := false
	q.onMade = func(q *procRec) {
		_, err := q.Transport.Write([]byte("x"))
		assert.ErrorIs(t, err, protocol.ErrNoPipe)
		_, err = q.Transport.WriteSequence([][]byte{[]byte("x")})
		assert.ErrorIs(t, err, protocol.ErrNoPipe)
		q.Transport.RegisterProducer(&pullCounter{stop: func() { stopped = true }}, false)
		q.Transport.UnregisterProducer()
	}
	h.spawn(q, "exit", []string{"0"}, protocol.WithChildFDs(map[int]protocol.ChildFD{1: protocol.PipeFromChild}))
	assert.Equal(t, protocol.ErrProcessDone, recv(t, q.ended, "ProcessEnded"))
	h.do(func() { assert.True(t, stopped) })
}

// pullCounter is a pull producer that writes n chunks when asked.
type pullCounter struct {
	t     protocol.ProcessTransport
	chunk []byte
	n     int
	stop  func()
}

func (c *pullCounter) ResumeProducing() {
	if c.n == 0 {
		c.t.UnregisterProducer()
		c.t.CloseStdin()
		return
	}
	c.n--
	c.t.Write(c.chunk)
}

func (c *pullCounter) StopProducing() {
	if c.stop != nil {
		c.stop()
	}
}

// pushCounter is a streaming producer that records its pauses and resumes.
type pushCounter struct{ events []string }

func (c *pushCounter) PauseProducing()  { c.events = append(c.events, "pause") }
func (c *pushCounter) ResumeProducing() { c.events = append(c.events, "resume") }
func (c *pushCounter) StopProducing()   { c.events = append(c.events, "stop") }

// Producers on standard input are served as on a socket: a pull producer
// is asked for more each time the buffer drains, and a streaming one is
// paused inside the Write that takes the buffer over its high water mark,
// and resumed once the pipe has taken it.
func TestProcessStdinProducers(t *testing.T) {
	h := newHarness(t)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	p := newProcRec()
	p.onMade = func(p *procRec) {
		p.Transport.RegisterProducer(&pullCounter{t: p.Transport, chunk: chunk, n: 50}, false)
	}
	h.spawn(p, "echo", nil)
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	h.do(func() { assert.True(t, bytes.Equal(bytes.Repeat(chunk, 50), p.out.Bytes()), "the echo differs") })

	q := newProcRec()
	push := &pushCounter{}
	var during []string
	q.onMade = func(q *procRec) {
		q.Transport.RegisterProducer(push, true)
		q.Transport.Write(make([]byte, 2048))
		during = slices.Clone(push.events)
	}
	q.onOut = func(q *procRec, data []byte) {
		if q.out.Len() == 2048 {
			q.Transport.UnregisterProducer()
			q.Transport.CloseStdin()
		}
	}
	h.spawn(q, "echo", nil, protocol.WithWriteBuffer(1024, 0))
	assert.Equal(t, protocol.ErrProcessDone, recv(t, q.ended, "ProcessEnded"))
	h.do(func() {
		assert.Equal(t, []string{"pause"}, during)
		assert.Equal(t, []string{"pause", "resume"}, push.events)
	})
}

// Twisted's TwoProcesses tests: two children at once, each ended its own
// way (its pipes closed, a signal) while the other runs on; neither holds
// the other's pipes, or the first could not end.
func TestTwoProcesses(t *testing.T) {
	h := newHarness(t)
	var trs [2]protocol.ProcessTransport
	var ps [2]*procRec
	readies := make(chan int, 2)
	for i := range ps {
		ps[i] = newProcRec()
		ps[i].onOut = func(*procRec, []byte) { readies <- i }
		trs[i] = h.spawn(ps[i], "waitterm", nil)
	}
	recv(t, readies, "a child ready")
	recv(t, readies, "the other child ready")
	// The first: its pipes closed, it reads end of file... and runs on,
	// since it waits for SIGTERM; the second is killed meanwhile.
	h.do(func() { assert.NoError(t, trs[1].SignalProcess(syscall.SIGKILL)) })
	reason := recv(t, ps[1].ended, "the second child's end")
	var term *protocol.ProcessTerminated
	require.ErrorAs(t, reason, &term)
	assert.Equal(t, syscall.SIGKILL, term.Signal)
	none(t, ps[0].ended, "the first child's end")
	h.do(func() { assert.NoError(t, trs[0].SignalProcess(syscall.SIGTERM)) })
	assert.Equal(t, &protocol.ProcessTerminated{ExitCode: 7}, recv(t, ps[0].ended, "the first child's end"))
}

// Closing one child's standard input ends it while another runs: the
// second child holds no copy of the first's pipe.
func TestSiblingHoldsNoPipe(t *testing.T) {
	h := newHarness(t)
	first, second := newProcRec(), newProcRec()
	h.spawn(first, "echo", nil)
	h.spawn(second, "echo", nil)
	h.do(func() { first.Transport.CloseStdin() })
	assert.Equal(t, protocol.ErrProcessDone, recv(t, first.ended, "the first child's end"))
	none(t, second.ended, "the second child's end")
	h.do(func() { second.Transport.LoseConnection() })
	assert.Equal(t, protocol.ErrProcessDone, recv(t, second.ended, "the second child's end"))
}
