package cooperate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// TestNoStarvationOnReactor runs 8 busy tasks on a real reactor beside a
// 1 ms CallLater probe that re-arms itself, and checks that the probe always
// runs within one slice of its due time: at most one slice begins between
// the moment it is scheduled and the moment it runs. Counting slices instead
// of milliseconds keeps the test exact on a loaded machine.
func TestNoStarvationOnReactor(t *testing.T) {
	r := reactor.New()
	slices := 0
	sched := func(tick func()) scheduler.Call {
		return r.CallLater(time.Nanosecond, func() {
			slices++
			tick()
		})
	}
	var (
		c        *cooperate.Cooperator
		steps    [8]int
		probes   int
		worst    int           // slices begun between a probe's scheduling and its run
		worstLag time.Duration // for the log only
	)
	r.CallWhenRunning(func() {
		c = cooperate.New(r, cooperate.WithScheduler(sched))
		for i := range steps {
			cooperate.Each(c, func(yield func(int) bool) {
				for j := 0; yield(j); j++ {
				}
			}, func(int) error {
				steps[i]++
				busy(2000)
				return nil
			})
		}
		var arm func()
		arm = func() {
			scheduledAt, due := slices, time.Now().Add(time.Millisecond)
			r.CallLater(time.Millisecond, func() {
				probes++
				worst = max(worst, slices-scheduledAt)
				worstLag = max(worstLag, time.Since(due))
				arm()
			})
		}
		arm()
		r.CallLater(200*time.Millisecond, func() {
			c.Stop()
			require.NoError(t, r.Stop())
		})
	})
	require.NoError(t, r.Run())
	t.Logf("%d slices, %d probes, worst lag %v", slices, probes, worstLag)
	require.GreaterOrEqual(t, slices, 2, "the tasks ran in slices")
	assert.GreaterOrEqual(t, probes, slices-1, "a probe ran between every two slices")
	assert.LessOrEqual(t, worst, 1, "a probe waited for more than one slice")
	for i, n := range steps {
		assert.Positive(t, n, "task %d never ran", i)
	}
}

var busySink uint64

// busy computes for a while: rounds of xorshift.
func busy(rounds int) {
	x := busySink | 1
	for range rounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	busySink = x
}
