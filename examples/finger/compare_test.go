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

// The tests below make the same client exchanges, over real loopback sockets,
// against the Go port and against the same server written for Twisted
// (twisted/finger.py), and check that each server sends back the same bytes
// and ends each connection the same way.

// step is one exchange, on a connection of its own: the writes the client makes, in
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

// runExchanges runs every step against the server at addr, each on a
// connection of its own, and returns what the client saw.
func runExchanges(t *testing.T, addr string) map[string]outcome {
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

// serveGo serves f on a loopback port, on a reactor of its own that runs
// on another goroutine until the test ends, and returns the address.
func serveGo(t *testing.T, f func(r *reactor.Reactor) protocol.Factory) string {
	t.Helper()
	r := reactor.New()
	port, err := protocol.ListenTCP(r, "127.0.0.1:0", f(r))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	t.Cleanup(func() {
		r.CallSoon(func() { _ = r.Stop() })
		assert.NoError(t, <-done)
	})
	return port.Addr().String()
}

// python is Debian's Python 3, whose Twisted (python3-twisted) runs the
// Twisted side.
const python = "/usr/bin/python3"

// serveTwisted starts script (a program under twisted/) on a loopback
// port and returns its address; it stops the program, by closing its
// standard input, when the test ends, and checks that it logged nothing.
// It skips the test only when python or its Twisted is absent.
func serveTwisted(t *testing.T, script string) string {
	t.Helper()
	if err := exec.Command(python, "-c", "import twisted").Run(); err != nil {
		t.Skipf("no Twisted for %s (%v): install python3-twisted to compare the two servers", python, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, python, script)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	stop := func() error {
		defer cancel()
		_ = stdin.Close() // then the server stops by itself
		return cmd.Wait() // before stderr is read: it is written until then
	}

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		waitErr := stop()
		t.Fatalf("%s said nothing (%v, %v); its standard error: %s", script, err, waitErr, stderr.String())
	}
	t.Cleanup(func() {
		assert.NoError(t, stop(), "%s's standard error: %s", script, stderr.String())
		assert.Empty(t, stderr.String(), "%s logged an error", script)
	})
	var port int
	_, err = fmt.Sscanf(line, "listening on %d\n", &port)
	require.NoError(t, err, "%s said %q", script, line)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// TestExchangesWithGo makes the exchanges with the Go port.
func TestExchangesWithGo(t *testing.T) {
	addr := serveGo(t, func(*reactor.Reactor) protocol.Factory { return NewFingerFactory(Users) })
	checkExchanges(t, runExchanges(t, addr))
}

// TestExchangesWithTwisted makes the same exchanges with twisted/finger.py.
// It is skipped only when Debian's Python 3 or its Twisted is absent.
func TestExchangesWithTwisted(t *testing.T) {
	addr := serveTwisted(t, "twisted/finger.py")
	checkExchanges(t, runExchanges(t, addr))
}

// laterSource answers as a FingerFactory does, 50 ms later; the lookups
// made while an answer is pending join it, and all of them are answered in
// the same turn of the reactor, as twisted/finger_later.py's are.
type laterSource struct {
	r       *reactor.Reactor
	f       *FingerFactory
	pending []lookup
}

type lookup struct {
	user string
	d    *deferred.Deferred[string]
}

func (s *laterSource) GetUser(user string) *deferred.Deferred[string] {
	d := deferred.New[string]()
	if len(s.pending) == 0 {
		s.r.CallLater(50*time.Millisecond, s.answerPending)
	}
	s.pending = append(s.pending, lookup{user, d})
	return d
}

func (s *laterSource) answerPending() {
	pending := s.pending
	s.pending = nil
	for _, l := range pending {
		status, err := s.f.GetUser(l.user).Result()
		if err != nil {
			l.d.Errback(err)
			continue
		}
		l.d.Callback(status)
	}
}

// TestLaterAnswers runs two steps against servers whose lookups answer
// later (twisted/finger_later.py, and the Go port with such a source): a
// single line gets the same answer from both; two lines in one write are
// both looked up by both, and there the two differ, as docs/porting.md
// says: Twisted sends the second answer too, written before the first has
// gone out, where twine drops every write made after LoseConnection.
func TestLaterAnswers(t *testing.T) {
	one := step{name: "a known user", writes: []string{"moshez\r\n"}}
	two := step{name: "two lines in one write", writes: []string{"moshez\r\nnobody\r\n"}}

	t.Run("go", func(t *testing.T) {
		addr := serveGo(t, func(r *reactor.Reactor) protocol.Factory {
			users := &laterSource{r: r, f: NewFingerFactory(Users)}
			return protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return NewFingerProtocol(users) })
		})
		assert.Equal(t, outcome{"Happy and well\r\n", "closed"}, runStep(t, addr, one))
		assert.Equal(t, outcome{"Happy and well\r\n", "closed"}, runStep(t, addr, two))
	})
	t.Run("twisted", func(t *testing.T) {
		addr := serveTwisted(t, "twisted/finger_later.py")
		assert.Equal(t, outcome{"Happy and well\r\n", "closed"}, runStep(t, addr, one))
		assert.Equal(t, outcome{"Happy and well\r\nNo such user\r\n", "closed"}, runStep(t, addr, two))
	})
}

// checkExchanges checks each step's outcome against want, the outcome both
// servers give.
func checkExchanges(t *testing.T, got map[string]outcome) {
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
