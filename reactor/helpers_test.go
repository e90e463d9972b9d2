package reactor_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// logRecorder is a slog.Handler that keeps every record, for assertions.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	return nil
}

// messages returns the messages logged so far.
func (l *logRecorder) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ms []string
	for _, r := range l.records {
		ms = append(ms, r.Message)
	}
	return ms
}

// attrs returns the attributes of the first record with message msg.
func (l *logRecorder) attrs(t *testing.T, msg string) map[string]slog.Value {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.IndexFunc(l.records, func(r slog.Record) bool { return r.Message == msg })
	require.GreaterOrEqual(t, i, 0, "no record %q", msg)
	m := map[string]slog.Value{}
	l.records[i].Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value
		return true
	})
	return m
}

// newReactor returns a reactor that logs into a recorder.
func newReactor(opts ...reactor.Option) (*reactor.Reactor, *logRecorder) {
	rec := &logRecorder{}
	opts = append([]reactor.Option{reactor.WithLogger(slog.New(rec))}, opts...)
	return reactor.New(opts...), rec
}

// start runs r on a new goroutine and returns a function that stops it and
// waits for Run to return.
func start(t testing.TB, r *reactor.Reactor) (stopAndWait func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	return func() {
		t.Helper()
		_ = r.Stop()
		require.NoError(t, <-done)
	}
}

// since returns how far the bubble's fake clock is past t0.
func since(t0 time.Time) time.Duration { return time.Since(t0) }

// deferredUnit is the Deferred type that system event triggers return.
type deferredUnit = deferred.Deferred[struct{}]

// newLogger returns a logger that keeps its records to itself.
func newLogger() *slog.Logger { return slog.New(&logRecorder{}) }

// withoutWatchdog turns the watchdog off, for tests with slow callbacks.
func withoutWatchdog() reactor.Option { return reactor.WithWatchdog(0) }
