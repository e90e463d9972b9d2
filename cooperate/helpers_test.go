package cooperate_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// oneStep is a terminator factory whose slices take one step each.
func oneStep() func() bool { return func() bool { return true } }

// stepsPerSlice returns a terminator factory whose slices take n steps.
func stepsPerSlice(n int) func() func() bool {
	return func() func() bool {
		left := n
		return func() bool {
			left--
			return left <= 0
		}
	}
}

// tick runs the next slice of a Cooperator on clock: the default scheduler
// asks for it 1 ns ahead, so each Advance runs at most one.
func tick(clock *scheduler.ManualClock) {
	clock.Advance(time.Millisecond)
}

// outcome records how a Deferred fired.
type outcome[T any] struct {
	fired bool
	value T
	err   error
}

// watch records d's outcome, consuming it so that a failure is handled.
func watch[T any](d *deferred.Deferred[T]) *outcome[T] {
	o := &outcome[T]{}
	d.AddBoth(func(v T, err error) (T, error) {
		o.fired, o.value, o.err = true, v, err
		var zero T
		return zero, nil
	})
	return o
}

// logBuffer is a goroutine-safe buffer for a test logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a logger writing to a buffer the test can read.
func testLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// newCooperator returns a Cooperator on a new ManualClock, stopped at the
// end of the test so that no iterator outlives it.
func newCooperator(t *testing.T, opts ...cooperate.Option) (*cooperate.Cooperator, *scheduler.ManualClock) {
	t.Helper()
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock, opts...)
	t.Cleanup(c.Stop)
	return c, clock
}

// fakeCall is a scheduler.Call that only records whether it was cancelled.
type fakeCall struct {
	f         func()
	cancelled bool
}

func (c *fakeCall) Cancel() error             { c.cancelled = true; return nil }
func (c *fakeCall) Reset(time.Duration) error { return nil }
func (c *fakeCall) Delay(time.Duration) error { return nil }
func (c *fakeCall) Active() bool              { return !c.cancelled }
func (c *fakeCall) When() time.Time           { return time.Time{} }

func requireFailedWith[T any](t *testing.T, o *outcome[T], target error) {
	t.Helper()
	require.True(t, o.fired, "the Deferred has not fired")
	require.ErrorIs(t, o.err, target)
}

// nilLoop returns a loop for constructors that must panic before using it.
func nilLoop() *scheduler.ManualClock { return scheduler.NewManualClock() }
