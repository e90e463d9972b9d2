package cooperate_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

func TestDeferLaterCallback(t *testing.T) {
	clock := scheduler.NewManualClock()
	calls := 0
	d := watch(cooperate.DeferLater(clock, 3*time.Second, func() (string, error) {
		calls++
		return "flag", nil
	}))
	clock.Advance(2 * time.Second)
	assert.Zero(t, calls)
	assert.False(t, d.fired)
	clock.Advance(time.Second)
	assert.Equal(t, 1, calls)
	require.True(t, d.fired)
	assert.Equal(t, "flag", d.value)
}

func TestDeferLaterErrback(t *testing.T) {
	clock := scheduler.NewManualClock()
	d := watch(cooperate.DeferLater(clock, time.Second, func() (int, error) { return 0, errTest }))
	clock.Advance(time.Second)
	requireFailedWith(t, d, errTest)
}

func TestDeferLaterPanic(t *testing.T) {
	clock := scheduler.NewManualClock()
	d := watch(cooperate.DeferLater(clock, time.Second, func() (int, error) { panic(errTest) }))
	clock.Advance(time.Second)
	requireFailedWith(t, d, errTest)
	var pe *deferred.PanicError
	assert.ErrorAs(t, d.err, &pe)
}

func TestDeferLaterCancel(t *testing.T) {
	clock := scheduler.NewManualClock()
	called := false
	d := cooperate.DeferLater(clock, time.Second, func() (int, error) {
		called = true
		return 1, nil
	})
	o := watch(d)
	d.Cancel()
	requireFailedWith(t, o, deferred.ErrCancelled)
	assert.Empty(t, clock.Pending(), "the call was cancelled")
	clock.Advance(time.Second)
	assert.False(t, called)
}

func TestDeferLaterNoFunction(t *testing.T) {
	clock := scheduler.NewManualClock()
	d := watch(cooperate.DeferLater[struct{}](clock, 2*time.Second, nil))
	assert.False(t, d.fired)
	clock.Advance(2 * time.Second)
	require.True(t, d.fired)
	assert.NoError(t, d.err)
}

func TestDeferLaterMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "cooperate: DeferLater: nil clock", func() {
		cooperate.DeferLater[int](nil, time.Second, nil)
	})
}

func exitingLater() (int, error) {
	runtime.Goexit()
	return 0, nil
}

func TestDeferLaterFunctionThatCallsGoexit(t *testing.T) {
	// f runs where the clock runs its calls, and ends that goroutine; the
	// Deferred fails first, naming f.
	clock := scheduler.NewManualClock()
	d := watch(cooperate.DeferLater(clock, time.Second, exitingLater))
	require.True(t, exits(func() { clock.Advance(time.Second) }))
	requireFailedWith(t, d, cooperate.ErrGoexit)
	assert.Regexp(t, `^cooperate: DeferLater function cooperate_test\.exitingLater \(deferlater_test\.go:\d+\) called runtime\.Goexit$`, d.err.Error())
}
