package scheduler_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twinego/twine/scheduler"
)

// BenchmarkTimersScheduleCancel: the queue's cost for a call that is
// cancelled before it is due, with other calls pending.
func BenchmarkTimersScheduleCancel(b *testing.B) {
	for _, pending := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			q, _ := newTimers(nil)
			for i := range pending {
				q.Schedule(time.Hour+time.Duration(i), func() {})
			}
			f := func() {}
			b.ReportAllocs()
			for b.Loop() {
				_ = q.Schedule(time.Second, f).Cancel()
			}
		})
	}
}

// BenchmarkManualClockAdvance: schedule 1,000 calls at spread times and
// run them all with one Advance.
func BenchmarkManualClockAdvance(b *testing.B) {
	const calls = 1000
	f := func() {}
	b.ReportAllocs()
	for b.Loop() {
		c := scheduler.NewManualClock()
		for i := range calls {
			c.CallLater(time.Duration(i*7919%calls)*time.Millisecond, f)
		}
		c.Advance(time.Second)
	}
}
