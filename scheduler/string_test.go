package scheduler_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/scheduler"
)

func nothing() {}

// Mirrors Twisted's test_base.py DelayedCallNoDebugTests.test_str: a call
// due at 12 s, seen at 1.5 s, shows its address, its remaining time, its
// state and its function.
func TestCallStringLikeDelayedCallRepr(t *testing.T) {
	c := scheduler.NewManualClock()
	call := c.CallLater(12*time.Second, nothing)
	c.Advance(1500 * time.Millisecond)
	want := regexp.QuoteMeta(fmt.Sprintf("<Call %p [10.5s] called=false cancelled=false scheduler_test.nothing (", call)) +
		`string_test\.go:\d+\)>$`
	assert.Regexp(t, want, fmt.Sprint(call))
	// repr and str are the same in Twisted; %v and String are here.
	assert.Equal(t, fmt.Sprint(call), call.(fmt.Stringer).String())
}

func TestCallStringNamesClosuresWhereTheyAreDefined(t *testing.T) {
	c := scheduler.NewManualClock()
	call := c.CallLater(time.Second, func() {})
	assert.Regexp(t, `\[1s\] called=false cancelled=false scheduler_test\.TestCallStringNamesClosuresWhereTheyAreDefined\.func1 \(string_test\.go:\d+\)>$`,
		fmt.Sprint(call))
}

func TestCallStringAfterCallAndCancel(t *testing.T) {
	c := scheduler.NewManualClock()
	called := c.CallLater(time.Second, nothing)
	cancelled := c.CallLater(time.Second, nothing)
	require.NoError(t, cancelled.Cancel())
	c.Advance(3 * time.Second)
	// The function is let go once the call has run or been cancelled, as
	// Twisted lets go of a cancelled call's; the state and the time remain.
	assert.Equal(t, fmt.Sprintf("<Call %p [-2s] called=true cancelled=false>", called), fmt.Sprint(called))
	assert.Equal(t, fmt.Sprintf("<Call %p [-2s] called=false cancelled=true>", cancelled), fmt.Sprint(cancelled))
}

func TestCallStringOfAMethodValue(t *testing.T) {
	c := scheduler.NewManualClock()
	var w worker
	call := c.CallLater(0, w.work)
	// A method value's code is the compiler's: its name is all there is.
	assert.Regexp(t, `\[0s\] called=false cancelled=false scheduler_test\.worker\.work>$`, fmt.Sprint(call))
}

type worker struct{}

func (worker) work() {}
