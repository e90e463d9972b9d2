package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/scheduler"
)

// The tests below run one client session, over real loopback sockets,
// against the Go port and against the same server written for Twisted
// (twisted/finger.py), and check that each server sends back the same bytes
// and ends each connection the same way.

// step is one connection of the session: the writes the client makes, in
// order, and whether it then shuts down its side (its end of stream).
type step struct {
	name       string
	writes     []string
	closeWrite bool
}

var steps = []step{
	{name: "a known user", writes: []string{"moshez\r\n"}},
	{name: "an unknown user", writes: []string{"nobody\r\n"}},
	{name: "a name with a trailing space", writes: []string{"moshez \r\n"}},
	{name: "an empty line", writes: []string{"\r\n"}},
	{name: "a line in pieces", writes: []string{"mos", "hez\r", "\n"}},
	{name: "two lines in one write", writes: []string{"moshez\r\nnobody\r\n"}},
	{name: "a line ended by LF alone, then end of stream", writes: []string{"moshez\n"}, closeWrite: true},
	{name: "end of stream at once", closeWrite: true},
	{name: "a line of 16384 bytes, the limit", writes: []string{strings.Repeat("x", 16384) + "\r\n"}},
	{name: "a line of 16385 bytes, over the limit", writes: []string{strings.Repeat("x", 16385) + "\r\n"}},
	{name: "16386 bytes with no delimiter", writes: []string{strings.Repeat("x", 16386)}},
}

// outcome is what the client saw on one connection.
type outcome struct {
	Received string
	End      string // "closed" (end of stream), "reset", or what went wrong
}

// want is what both servers do.
var want = map[string]outcome{
	"a known user":                                 {"Happy and well\r\n", "closed"},
	"an unknown user":                              {"No such user\r\n", "closed"},
	"a name with a trailing space":                 {"No such user\r\n", "closed"},
	"an empty line":                                {"No such user\r\n", "closed"},
	"a line in pieces":                             {"Happy and well\r\n", "closed"},
	"two lines in one write":                       {"Happy and well\r\n", "closed"},
	"a line ended by LF alone, then end of stream": {"", "closed"},
	"end of stream at once":                        {"", "closed"},
	"a line of 16384 bytes, the limit":             {"No such user\r\n", "closed"},
	"a line of 16385 bytes, over the limit":        {"", "closed"},
	"16386 bytes with no delimiter":                {"", "closed"},
}

// runSession runs every step against the server at addr, each on a
// connection of its own, and returns what the client saw.
func runSession(t *testing.T, addr string) map[string]outcome {
	t.Helper()
	got := make(map[string]outcome, len(steps))
	for _, s := range steps {
		got[s.name] = runStep(t, addr, s)
	}
	return got
}

func runStep(t *testing.T, addr string, s step) outcome {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err, s.name)
	defer c.Close()
	// A bound on a server that never answers nor closes: the step then
	// reports it instead of hanging the test.
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	for _, w := range s.writes {
		_, err := io.WriteString(c, w)
		require.NoError(t, err, s.name)
	}
	if s.closeWrite {
		require.NoError(t, c.(*net.TCPConn).CloseWrite(), s.name)
	}
	data, err := io.ReadAll(c)
	o := outcome{Received: string(data), End: "closed"}
	switch {
	case err == nil:
	case errors.Is(err, syscall.ECONNRESET):
		o.End = "reset"
	default:
		o.End = err.Error()
	}
	return o
}

// TestSessionAgainstGo runs the session against the Go port, served by a
// reactor on another goroutine.
func TestSessionAgainstGo(t *testing.T) {
	r := reactor.New()
	port, err := protocol.ListenTCP(r, "127.0.0.1:0", NewFingerFactory(Users))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	got := runSession(t, port.Addr().String())
	r.CallSoon(func() { _ = r.Stop() })
	require.NoError(t, <-done)
	checkSession(t, got)
}

// TestSessionAgainstTwisted runs the same session against twisted/finger.py
// under Debian's Python 3 with Twisted (python3-twisted). It is skipped only
// when that Python or its Twisted is absent.
func TestSessionAgainstTwisted(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import twisted").Run(); err != nil {
		t.Skipf("no Twisted for %s (%v): install python3-twisted to compare the two servers", python, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "twisted/finger.py")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := false
	defer func() {
		if !exited {
			_ = stdin.Close()
			_ = cmd.Wait()
		}
	}()

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = stdin.Close()
		exited = true
		waitErr := cmd.Wait() // before stderr is read: it is written until then
		t.Fatalf("the Twisted server said nothing (%v, %v); its standard error: %s", err, waitErr, stderr.String())
	}
	var portNumber int
	_, err = fmt.Sscanf(line, "listening on %d\n", &portNumber)
	require.NoError(t, err, "the Twisted server said %q", line)

	got := runSession(t, fmt.Sprintf("127.0.0.1:%d", portNumber))

	// Its standard input closed, the server stops by itself.
	require.NoError(t, stdin.Close())
	exited = true
	require.NoError(t, cmd.Wait(), "the Twisted server's standard error: %s", &stderr)
	assert.Empty(t, stderr.String(), "the Twisted server logged an error")
	checkSession(t, got)
}

// checkSession checks each step's outcome against want, the outcome both
// servers give.
func checkSession(t *testing.T, got map[string]outcome) {
	t.Helper()
	require.Len(t, want, len(steps))
	for _, s := range steps {
		assert.Equal(t, want[s.name], got[s.name], "step %q", s.name)
	}
}

// TestQueryTimesOut: against a server that takes the query and never
// answers, the client's query fails with deferred.ErrTimeout once its
// timeout has passed (on a ManualClock, advanced on the reactor goroutine),
// and its connection is aborted rather than left open.
func TestQueryTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()

	r := reactor.New()
	clock := scheduler.NewManualClock()
	var queryErr error
	failed := make(chan struct{})
	r.CallSoon(func() {
		Query(r, ln.Addr().String(), []byte("moshez\r\n")).
			AddTimeout(clock, time.Second).
			AddBoth(func(_ Reply, err error) (Reply, error) {
				queryErr = err
				close(failed)
				return Reply{}, nil
			})
	})
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	defer func() {
		r.CallSoon(func() { _ = r.Stop() })
		require.NoError(t, <-done)
	}()

	conn, ok := <-accepted
	require.True(t, ok, "the client never connected")
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	query := make([]byte, len("moshez\r\n"))
	_, err = io.ReadFull(conn, query)
	require.NoError(t, err)
	assert.Equal(t, "moshez\r\n", string(query))

	r.CallSoon(func() { clock.Advance(999 * time.Millisecond) })
	r.CallSoon(func() { assert.NoError(t, queryErr, "not yet timed out") })
	r.CallSoon(func() { clock.Advance(time.Millisecond) })
	<-failed
	assert.ErrorIs(t, queryErr, deferred.ErrTimeout)

	// The reactor still runs: the connection has ended because the query
	// gave up on it.
	_, err = conn.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the client has closed its connection")
}
