//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// A child that cannot be started is an error from SpawnProcess, at once, as
// Twisted's posix_spawnp path raises it: the protocol hears nothing, and no
// descriptor is left open. The cause is under ErrSpawn.
func TestSpawnFailures(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	require.NoError(t, os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644))
	exe, _ := child(t, "exit", "0")
	cases := []struct {
		name  string
		prog  string
		opts  []protocol.ProcessOption
		cause error
	}{
		{"no such path", filepath.Join(dir, "missing"), nil, fs.ErrNotExist},
		{"not in PATH", "twine-no-such-program", nil, exec.ErrNotFound},
		{"not executable", notExec, nil, fs.ErrPermission},
		{"no such directory", exe, []protocol.ProcessOption{protocol.WithDir(filepath.Join(dir, "missing"))}, fs.ErrNotExist},
	}
	before := openFDs(t)
	h := newHarness(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProcRec()
			res := on(h, func() result[protocol.ProcessTransport] {
				tr, err := protocol.SpawnProcess(h.r, p, c.prog, nil, c.opts...)
				return result[protocol.ProcessTransport]{tr, err}
			})
			require.Error(t, res.err)
			assert.Nil(t, res.v)
			assert.ErrorIs(t, res.err, protocol.ErrSpawn)
			assert.ErrorIs(t, res.err, c.cause)
			assert.Contains(t, res.err.Error(), c.prog)
			assert.Empty(t, p.snapshot(h), "the protocol heard of a child that never was")
		})
	}
	h.stop()
	assert.Equal(t, before, openFDs(t), "a descriptor was left open")
}

// Once the reactor has shut down, SpawnProcess fails with ErrShutdown.
func TestSpawnAfterStop(t *testing.T) {
	h := newHarness(t)
	h.do(func() {}) // running
	h.stop()
	name, argv := child(t, "exit", "0")
	_, err := protocol.SpawnProcess(h.r, newProcRec(), name, argv)
	assert.ErrorIs(t, err, protocol.ErrSpawn)
	assert.ErrorIs(t, err, protocol.ErrShutdown)
}

// Misuse panics at the call.
func TestSpawnMisuse(t *testing.T) {
	h := newHarness(t)
	h.do(func() {}) // running, for the harness to stop
	name, argv := child(t, "exit", "0")
	assert.PanicsWithValue(t, "protocol: SpawnProcess: nil ProcessProtocol", func() {
		_, _ = protocol.SpawnProcess(h.r, nil, name, argv)
	})
	type plain struct{ protocol.ProcessBase }
	assert.Panics(t, func() {
		_, _ = protocol.SpawnProcess(h.r, &plain{}, name, argv,
			protocol.WithChildFDs(map[int]protocol.ChildFD{3: protocol.PipeFromChild}))
	}, "a pipe beyond 2 without ChildFDProtocol")
	assert.Panics(t, func() { protocol.WithChildFDs(map[int]protocol.ChildFD{-1: protocol.PipeToChild}) })
	assert.Panics(t, func() { protocol.WithChildFDs(map[int]protocol.ChildFD{3: {}}) })
	assert.Panics(t, func() { protocol.ChildFile(nil) })
	assert.Panics(t, func() { protocol.WithUID(-1) })
	assert.Panics(t, func() { protocol.WithGID(-1) })
}

// A protocol callback that panics has the panic logged and its child
// killed, its pipes closed; the protocol hears the rest of the end once,
// with the signal, and the reactor and another child go on.
func TestProcessCallbackPanics(t *testing.T) {
	for _, where := range []string{"ConnectionMade", "OutReceived", "OutConnectionLost", "producer"} {
		t.Run(where, func(t *testing.T) {
			h := newHarness(t)
			other := newProcRec()
			other.onOut = func(p *procRec, data []byte) { p.Transport.CloseStdin() }
			h.spawn(other, "ready", nil)

			p := newProcRec()
			switch where {
			case "ConnectionMade":
				p.onMade = func(*procRec) { panic("boom") }
			case "OutReceived":
				p.onOut = func(*procRec, []byte) { panic("boom") }
			case "OutConnectionLost":
				// The child's standard output closes while it runs on.
				p.onLost = func(_ *procRec, fd int) {
					if fd == 1 {
						panic("boom")
					}
				}
			case "producer":
				p.onMade = func(p *procRec) {
					p.Transport.RegisterProducer(panicky{}, false)
				}
			}
			mode := "ready"
			if where == "OutConnectionLost" {
				mode = "closeout"
			}
			h.spawn(p, mode, nil)
			reason := recv(t, p.ended, "ProcessEnded")
			var term *protocol.ProcessTerminated
			require.ErrorAs(t, reason, &term, "the child was not killed")
			assert.Equal(t, syscall.SIGKILL, term.Signal)
			events := p.snapshot(h)
			endsInOrder(t, events, 0, 1, 2)
			assert.Contains(t, h.log.messages(), "protocol: process protocol callback panicked; aborting its process")

			assert.Equal(t, protocol.ErrProcessDone, recv(t, other.ended, "the other child's end"))
			again := newProcRec()
			h.spawn(again, "exit", []string{"0"})
			assert.Equal(t, protocol.ErrProcessDone, recv(t, again.ended, "a later child's end"))
		})
	}
}

// panicky is a pull producer that panics when asked for data.
type panicky struct{}

func (panicky) ResumeProducing() { panic("producer boom") }
func (panicky) StopProducing()   {}

// Twisted's test_processExitedRaises and test_errorInProcessEnded: a panic
// in ProcessExited or ProcessEnded is logged; ProcessEnded still comes
// after the first, and the reactor goes on.
func TestProcessEndCallbacksPanic(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	p.onExited = func(*procRec, error) { panic("exited boom") }
	h.spawn(p, "exit", []string{"0"})
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	endsInOrder(t, p.snapshot(h), 0, 1, 2)

	q := newProcRec()
	ended := make(chan struct{})
	q.onEnded = func(*procRec, error) { close(ended); panic("ended boom") }
	h.spawn(q, "exit", []string{"0"})
	recv(t, ended, "ProcessEnded")
	r := newProcRec()
	h.spawn(r, "exit", []string{"0"})
	assert.Equal(t, protocol.ErrProcessDone, recv(t, r.ended, "a later child's end"))
	assert.Equal(t, 2, strings.Count(strings.Join(h.log.messages(), "\n"), "protocol: process protocol callback panicked"))
}

// Reactor.Stop with a child still running, as Twisted's reactor does: the
// child is not signalled; its pipes are closed (the protocol hears the
// three closes), and ProcessEnded follows with ErrShutdown under
// ErrConnectionLost, ProcessExited never. The child runs on; a goroutine
// reaps it once it exits, so that it leaves no zombie, and
// SignalProcess still reaches it. Once it has been reaped no descriptor is
// left open, and TestMain's goleak finds no goroutine.
func TestStopLeavesChildRunning(t *testing.T) {
	before := openFDs(t)
	h := newHarness(t)
	p := newProcRec()
	ready := make(chan struct{})
	p.onOut = func(*procRec, []byte) { close(ready) }
	tr := h.spawn(p, "waitterm", nil)
	recv(t, ready, "the child's first words")
	pid := on(h, tr.Pid)
	h.stop()

	reason := recv(t, p.ended, "ProcessEnded at the stop")
	assert.ErrorIs(t, reason, protocol.ErrConnectionLost)
	assert.ErrorIs(t, reason, protocol.ErrShutdown)
	assert.Equal(t, []string{"made", "lost 0", "lost 1", "lost 2", "ended"}, p.events)

	require.NoError(t, syscall.Kill(pid, 0), "the child did not outlive the reactor")
	assert.NotEqual(t, "Z", procState(t, pid), "the child is a zombie")
	require.NoError(t, tr.SignalProcess(syscall.SIGTERM))
	protocol.WaitReapers()
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the child was not reaped")
	// The child's handle stays open while it runs; none is left after.
	assert.Equal(t, before, openFDs(t), "a descriptor was left open")
}

// procState returns the state letter of pid from /proc, or "" where there
// is no /proc.
func procState(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	require.NoError(t, err)
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

// Reactor.Stop with a child that has exited but whose pipes a grandchild
// still holds: the pipes are closed and the protocol hears the child's real
// end.
func TestStopAfterChildExited(t *testing.T) {
	h := newHarness(t)
	p := newProcRec()
	exited := make(chan struct{})
	p.onExited = func(*procRec, error) { close(exited) }
	h.spawn(p, "grandchild", nil)
	recv(t, exited, "ProcessExited")
	h.stop()
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	endsInOrder(t, p.events, 0, 1, 2)
}

// Twisted's test_spawnProcessEarlyIsReaped: a child started before the
// reactor runs, with no pipes, that exits at once, is reaped once the
// reactor runs.
func TestSpawnBeforeRun(t *testing.T) {
	r := reactor.New(reactor.WithWatchdog(0))
	p := newProcRec()
	name, argv := child(t, "exit", "0")
	tr, err := protocol.SpawnProcess(r, p, name, argv, protocol.WithChildFDs(map[int]protocol.ChildFD{}))
	require.NoError(t, err)
	assert.NotZero(t, tr.Pid())
	p.onEnded = func(*procRec, error) { r.Stop() }
	require.NoError(t, r.Run())
	assert.Equal(t, protocol.ErrProcessDone, recv(t, p.ended, "ProcessEnded"))
	assert.Equal(t, []string{"made", "exited", "ended"}, p.events)
}
