package process_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// waitLimit bounds every wait of the tests: a test that waits this long has
// failed (a lost task, a hang), it is not slow.
const waitLimit = 20 * time.Second

// startReactor runs a reactor on a goroutine of its own until the test
// ends.
func startReactor(t testing.TB) *reactor.Reactor {
	t.Helper()
	r := reactor.New(reactor.WithWatchdog(0))
	running := make(chan struct{})
	r.CallWhenRunning(func() { close(running) })
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	<-running
	t.Cleanup(func() {
		require.NoError(t, r.Stop())
		require.NoError(t, <-done)
	})
	return r
}

// newPool makes a pool on a new reactor, logging to a sink, and closes it
// when the test ends, checking that none of its workers survive.
func newPool(t testing.TB, opts ...process.Option) (*process.Pool, *logSink) {
	t.Helper()
	r := startReactor(t)
	sink := newLogSink()
	p := poolOn(t, r, append([]process.Option{process.WithLogger(slog.New(sink))}, opts...)...)
	return p, sink
}

// poolOn starts a pool on r, closed (and checked by closePool) at the end
// of the test.
func poolOn(t testing.TB, r *reactor.Reactor, opts ...process.Option) *process.Pool {
	t.Helper()
	p, err := process.NewPool(r, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { closePool(t, p) })
	return p
}

// closePool closes p and checks that every worker process it had is gone.
func closePool(t testing.TB, p *process.Pool) {
	t.Helper()
	pids := p.Workers()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, p.Close(ctx))
	require.Empty(t, p.Workers())
	requireGone(t, pids...)
}

// requireGone checks that no process has any of pids: the pool has waited
// for them, so they are not even zombies.
func requireGone(t testing.TB, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "worker %d survives", pid)
	}
}

// wait waits for d, within waitLimit.
func wait[T any](t testing.TB, d *deferred.Deferred[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	v, err := d.Wait(ctx)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the Deferred never fired")
	return v, err
}

// must waits for d and requires success.
func must[T any](t testing.TB, d *deferred.Deferred[T]) T {
	t.Helper()
	v, err := wait(t, d)
	require.NoError(t, err)
	return v
}

// workerPID returns the pid of the only worker of p, once it has started.
func workerPID(t testing.TB, p *process.Pool) int {
	t.Helper()
	pid := must(t, pid.Call(p, struct{}{}))
	require.Equal(t, []int{pid}, p.Workers())
	return pid
}

// logSink is a slog.Handler that keeps every record as a line of text, and
// lets a test wait for one.
type logSink struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed at each new record
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	s.mu.Lock()
	s.lines = append(s.lines, b.String())
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// find returns the first line that contains every one of parts.
func (s *logSink) find(parts ...string) (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
next:
	for _, l := range s.lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		return l, nil
	}
	return "", s.changed
}

// waitFor waits for a line that contains every one of parts, and returns it.
func (s *logSink) waitFor(t testing.TB, parts ...string) string {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		l, changed := s.find(parts...)
		if changed == nil {
			return l
		}
		select {
		case <-changed:
		case <-deadline.C:
			s.mu.Lock()
			defer s.mu.Unlock()
			require.FailNow(t, "no such log line", "want %q in:\n%s", parts, strings.Join(s.lines, "\n"))
		}
	}
}

// all returns the lines that contain every one of parts, and a channel
// closed at the next record.
func (s *logSink) all(parts ...string) ([]string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
next:
	for _, l := range s.lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out, s.changed
}

// waitForN waits for n lines that contain every one of parts, and returns
// them.
func (s *logSink) waitForN(t testing.TB, n int, parts ...string) []string {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		ls, changed := s.all(parts...)
		if len(ls) >= n {
			return ls[:n]
		}
		select {
		case <-changed:
		case <-deadline.C:
			require.FailNow(t, "too few such log lines", "want %d lines with %q, have %d", n, parts, len(ls))
		}
	}
}

// has reports whether a line contains every one of parts.
func (s *logSink) has(parts ...string) bool {
	_, changed := s.find(parts...)
	return changed == nil
}

// workerError requires err to be a *WorkerError and returns it.
func workerError(t testing.TB, err error) *process.WorkerError {
	t.Helper()
	var we *process.WorkerError
	require.True(t, errors.As(err, &we), "want a *WorkerError, got %T: %v", err, err)
	return we
}

// pidOf returns the pid attribute of a log line.
func pidOf(line string) int {
	i := strings.Index(line, " pid=")
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range line[i+len(" pid="):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// chain makes n calls of square on p one after the other, the first from a
// function run on r and each of the others from the callback of the one
// before; after the last, it calls then, from that callback. The channel
// gets the first wrong answer or error, or nil.
func chain(r *reactor.Reactor, p *process.Pool, n int, then func()) <-chan error {
	done := make(chan error, 1)
	var step func(i int)
	step = func(i int) {
		if i == n {
			if then != nil {
				then()
			}
			done <- nil
			return
		}
		square.Call(p, i).AddBoth(func(v int, err error) (int, error) {
			if err == nil && v != i*i {
				err = fmt.Errorf("square(%d) = %d", i, v)
			}
			if err != nil {
				done <- err
				return v, nil
			}
			step(i + 1)
			return v, nil
		})
	}
	r.CallSoon(func() { step(0) })
	return done
}

// newGate returns the path of a file that this process holds locked until
// open is called (at the latest when the test ends): the tasks of gate
// wait for it.
func newGate(t testing.TB) (path string, open func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "gate")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	var once sync.Once
	open = func() { once.Do(func() { _ = f.Close() }) } // closing releases the lock
	t.Cleanup(open)
	return path, open
}

// waitErr receives from c, at most waitLimit.
func waitErr(t *testing.T, c <-chan error) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(waitLimit):
		require.FailNow(t, "no answer")
		return nil
	}
}
