package remote_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/internal/brokertest"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
	"github.com/twinego/twine/scheduler/remote"
)

// waitLimit bounds every wait of the tests: a test that waits this long has
// failed (a lost task, a hang), it is not slow.
const waitLimit = 60 * time.Second

// broker returns the broker's URL and a queue name of the test's own, whose
// queues and exchanges are deleted when the test ends. Without a broker,
// it skips the test (or fails it, in CI).
func broker(t testing.TB) (url, queue string) {
	t.Helper()
	return setUpQueue(t, brokertest.Require(t))
}

// brokerAlone is broker for a test that restarts the broker: no other test
// uses it meanwhile.
func brokerAlone(t testing.TB) (url, queue string) {
	t.Helper()
	return setUpQueue(t, brokertest.RequireAlone(t))
}

func setUpQueue(t testing.TB, url string) (string, string) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	queue := fmt.Sprintf("twine-test.%s.%s", name, hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		require.NoError(t, remote.DeleteQueue(ctx, remote.WithURL(url), remote.WithQueue(queue), quiet()))
	})
	return url, queue
}

// quiet is a logger option for the parts whose logs a test ignores.
func quiet() remote.Option {
	return remote.WithLogger(slog.New(slog.DiscardHandler))
}

// fast makes reconnecting quick, for tests.
func fast() remote.Option {
	return remote.WithReconnect(20*time.Millisecond, 200*time.Millisecond)
}

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

// newPool makes a pool on loop for queue, closed when the test ends (before
// the queue is deleted), and the sink of its logs.
func newPool(t testing.TB, loop scheduler.Loop, url, queue string, opts ...remote.Option) (*remote.Pool, *logSink) {
	t.Helper()
	sink := newLogSink()
	opts = append([]remote.Option{remote.WithURL(url), remote.WithQueue(queue), remote.WithLogger(slog.New(sink)), fast()}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	p, err := remote.NewPool(ctx, loop, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		require.NoError(t, p.Close(ctx))
	})
	return p, sink
}

// runWorker runs a worker in this process for queue until the test ends,
// and returns it, the sink of its logs, and a function that stops it early
// and returns what Run returned.
func runWorker(t testing.TB, url, queue string, opts ...remote.Option) (*remote.Worker, *logSink, func() error) {
	t.Helper()
	sink := newLogSink()
	opts = append([]remote.Option{remote.WithURL(url), remote.WithQueue(queue), remote.WithLogger(slog.New(sink)), fast()}, opts...)
	w := remote.NewWorker(opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitLimit):
				err = errors.New("the worker did not stop")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	sink.waitFor(t, "worker connected")
	return w, sink, stop
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

// eventually waits until cond holds, checking it every few milliseconds,
// within waitLimit: for states that only polling can see (a queue's depth
// on the broker, a counter).
func eventually(t testing.TB, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "never happened: "+fmt.Sprintf(what, args...))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawChannel opens a channel of the test's own on the broker, closed when
// the test ends.
func rawChannel(t testing.TB, url string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	require.NoError(t, err)
	return ch
}

// routable reports whether a message published to queue through the
// default exchange reaches it: whether queue exists, without using it
// (declaring it, even passively, would renew its expiry).
func routable(t testing.TB, url, queue string) bool {
	t.Helper()
	conn, err := amqp.Dial(url)
	require.NoError(t, err)
	defer conn.Close()
	ch, err := conn.Channel()
	require.NoError(t, err)
	require.NoError(t, ch.Confirm(false))
	rets := ch.NotifyReturn(make(chan amqp.Return, 1))
	dc, err := ch.PublishWithDeferredConfirm("", queue, true, false, amqp.Publishing{Body: []byte("probe")})
	require.NoError(t, err)
	require.True(t, dc.Wait())
	select {
	case <-rets:
		return false
	default:
		return true
	}
}

// deferredInt is a call and its argument.
type deferredInt struct {
	n int
	d *deferred.Deferred[int]
}

// task makes a task message by hand, as a caller of another build, or no
// caller at all, might send it: protocol version 2, whose envelope is the
// signature (its length, a uvarint, first) and the timeout in milliseconds
// (a uvarint, 0 for none), before the argument.
func task(id, replyTo, fn, sig string, arg []byte) amqp.Publishing {
	body := binary.AppendUvarint(nil, uint64(len(sig)))
	body = append(body, sig...)
	body = binary.AppendUvarint(body, 0)
	return amqp.Publishing{
		ContentType:     "application/x-twine-task; version=2",
		ContentEncoding: "gob",
		DeliveryMode:    amqp.Persistent,
		MessageId:       id,
		ReplyTo:         replyTo,
		Type:            fn,
		Body:            append(body, arg...),
	}
}

// gobInt encodes n as the default codec does.
func gobInt(n int) []byte {
	b, err := process.Gob().NewEncoder().Encode(nil, &n)
	if err != nil {
		panic(err)
	}
	return b
}

// depth returns how many messages of queue are ready (not delivered).
func depth(t testing.TB, url, queue string) int {
	t.Helper()
	conn, err := amqp.Dial(url)
	require.NoError(t, err)
	defer conn.Close()
	ch, err := conn.Channel()
	require.NoError(t, err)
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	require.NoError(t, err)
	return q.Messages
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
	s.add(b.String())
	return nil
}

func (s *logSink) add(line string) {
	s.mu.Lock()
	s.lines = append(s.lines, line)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
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

// has reports whether a line contains every one of parts.
func (s *logSink) has(parts ...string) bool {
	_, changed := s.find(parts...)
	return changed == nil
}

// count returns how many lines contain every one of parts.
func (s *logSink) count(parts ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
next:
	for _, l := range s.lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		n++
	}
	return n
}

// workerProc is a worker process: this test binary started again.
type workerProc struct {
	cmd    *exec.Cmd
	log    *logSink      // its stderr, line by line
	exited chan struct{} // closed once it has been waited for
	code   int           // its exit status, -1 for a signal
}

// startWorker starts a worker process for queue, with the extra
// environment given, and waits until it has connected. It is killed, if
// still running, when the test ends.
func startWorker(t *testing.T, url, queue string, env ...string) *workerProc {
	t.Helper()
	w := startWorkerNoWait(t, url, queue, env...)
	w.log.waitFor(t, "worker connected")
	return w
}

func startWorkerNoWait(t *testing.T, url, queue string, env ...string) *workerProc {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envWorker+"=1",
		envQueue+"="+queue,
		brokertest.EnvURL+"="+url,
		"GORACE=atexit_sleep_ms=0",
	)
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	w := &workerProc{cmd: cmd, log: newLogSink(), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			w.log.add(sc.Text())
		}
		err := cmd.Wait()
		w.code = cmd.ProcessState.ExitCode()
		if err != nil && w.code == 0 {
			w.code = -1
		}
		close(w.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.exited
	})
	return w
}

// signal sends sig to the worker.
func (w *workerProc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, w.cmd.Process.Signal(sig))
}

// wait waits for the worker to exit, and returns its exit status.
func (w *workerProc) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-w.exited:
		return w.code
	case <-time.After(waitLimit):
		require.FailNow(t, "the worker process did not exit")
		return 0
	}
}

// mkfifo makes a named pipe in the test's temporary directory.
func mkfifo(t *testing.T, name string) string {
	t.Helper()
	path := t.TempDir() + "/" + name
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	return path
}

// release lets a task blocked in holdFifo on path return.
func release(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}
