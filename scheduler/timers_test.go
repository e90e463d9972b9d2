package scheduler_test

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/scheduler"
)

// fakeElapsed is a settable time source for a Timers queue.
type fakeElapsed struct{ now atomic.Int64 }

func (f *fakeElapsed) elapsed() time.Duration { return time.Duration(f.now.Load()) }

func newTimers(wake func()) (*scheduler.Timers, *fakeElapsed) {
	src := &fakeElapsed{}
	return scheduler.NewTimers(time.Unix(100, 0), src.elapsed, wake), src
}

func TestTimersMatchesASortedReference(t *testing.T) {
	q, _ := newTimers(nil)
	rng := rand.New(rand.NewPCG(1, 2))
	type ref struct {
		id   int
		when time.Duration
		seq  int
		call scheduler.Call
	}
	var live []*ref
	seq := 0
	var fired []int
	for id := range 5000 {
		switch op := rng.IntN(10); {
		case op < 6 || len(live) == 0:
			d := time.Duration(rng.IntN(50)) * time.Millisecond
			seq++
			r := &ref{id: id, when: d, seq: seq}
			r.call = q.Schedule(d, func() { fired = append(fired, r.id) })
			live = append(live, r)
		case op < 8:
			i := rng.IntN(len(live))
			require.NoError(t, live[i].call.Cancel())
			live = slices.Delete(live, i, i+1)
		default:
			i := rng.IntN(len(live))
			d := time.Duration(rng.IntN(50)) * time.Millisecond
			require.NoError(t, live[i].call.Reset(d))
			seq++
			live[i].when, live[i].seq = d, seq
		}
		require.Equal(t, len(live), q.Len())
	}
	slices.SortFunc(live, func(a, b *ref) int {
		return cmp.Or(cmp.Compare(a.when, b.when), cmp.Compare(a.seq, b.seq))
	})
	want := make([]int, len(live))
	pending := q.Pending()
	require.Len(t, pending, len(live))
	for i, r := range live {
		want[i] = r.id
		assert.Same(t, r.call, pending[i])
	}
	for {
		f, ok := q.PopDue(time.Hour)
		if !ok {
			break
		}
		f()
	}
	assert.Equal(t, want, fired)
	assert.Zero(t, q.Len())
}

func TestTimersCancelledCallsLeaveTheHeapAtOnce(t *testing.T) {
	q, _ := newTimers(nil)
	calls := make([]scheduler.Call, 10000)
	for i := range calls {
		calls[i] = q.Schedule(time.Duration(i), func() {})
	}
	assert.Equal(t, 10000, q.Len())
	for i, c := range calls {
		require.NoError(t, c.Cancel())
		require.Equal(t, len(calls)-i-1, q.Len())
	}
	_, ok := q.Next()
	assert.False(t, ok)
}

func TestTimersNextAndPopDue(t *testing.T) {
	q, src := newTimers(nil)
	_, ok := q.Next()
	assert.False(t, ok)
	src.now.Store(int64(time.Second))
	c := q.Schedule(2*time.Second, func() {})
	next, ok := q.Next()
	require.True(t, ok)
	assert.Equal(t, 3*time.Second, next)
	assert.True(t, c.When().Equal(time.Unix(103, 0)))
	assert.True(t, q.At(next).Equal(c.When()))

	_, ok = q.PopDue(3*time.Second - 1)
	assert.False(t, ok)
	f, ok := q.PopDue(3 * time.Second)
	assert.True(t, ok)
	assert.NotNil(t, f)
	assert.False(t, c.Active())
	assert.ErrorIs(t, c.Cancel(), scheduler.ErrAlreadyCalled)
}

func TestTimersPopDueBeforeLeavesOutLaterCalls(t *testing.T) {
	q, _ := newTimers(nil)
	q.Schedule(0, func() {})
	mark := q.Mark()
	q.Schedule(0, func() {})
	_, ok := q.PopDueBefore(0, mark)
	assert.True(t, ok)
	_, ok = q.PopDueBefore(0, mark)
	assert.False(t, ok, "a call scheduled after the mark waits for a later pass")
	_, ok = q.PopDue(0)
	assert.True(t, ok)
}

func TestTimersWakeWhenEarliestChanges(t *testing.T) {
	wakes := 0
	q, _ := newTimers(func() { wakes++ })
	a := q.Schedule(time.Second, func() {})
	assert.Equal(t, 1, wakes, "first call is the earliest")
	q.Schedule(2*time.Second, func() {})
	assert.Equal(t, 1, wakes, "a later call does not wake")
	b := q.Schedule(500*time.Millisecond, func() {})
	assert.Equal(t, 2, wakes)
	require.NoError(t, a.Reset(100*time.Millisecond))
	assert.Equal(t, 3, wakes)
	require.NoError(t, b.Delay(time.Hour))
	assert.Equal(t, 3, wakes, "moving a call later does not wake")
}

func TestTimersClose(t *testing.T) {
	q, _ := newTimers(nil)
	ran := false
	before := q.Schedule(time.Second, func() { ran = true })
	q.Close()
	assert.False(t, before.Active())
	assert.Zero(t, q.Len())
	after := q.Schedule(time.Second, func() { ran = true })
	assert.False(t, after.Active(), "a call scheduled after Close is already inactive")
	assert.ErrorIs(t, after.Cancel(), scheduler.ErrAlreadyCancelled)
	assert.ErrorIs(t, after.Reset(0), scheduler.ErrAlreadyCancelled)
	_, ok := q.PopDue(time.Hour)
	assert.False(t, ok)
	assert.False(t, ran)
	q.Close()
}

func TestTimersSaturateInsteadOfOverflowing(t *testing.T) {
	q, src := newTimers(nil)
	src.now.Store(int64(time.Hour))
	c := q.Schedule(1<<63-1, func() {})
	next, _ := q.Next()
	assert.Equal(t, time.Duration(1<<63-1), next)
	require.NoError(t, c.Delay(time.Hour))
	next, _ = q.Next()
	assert.Equal(t, time.Duration(1<<63-1), next)
	_, ok := q.PopDue(time.Hour)
	assert.False(t, ok)
}

func TestTimersMisuse(t *testing.T) {
	q, _ := newTimers(nil)
	assert.PanicsWithValue(t, "scheduler: Timers.Schedule: nil function", func() { q.Schedule(0, nil) })
	assert.PanicsWithValue(t, "scheduler: NewTimers: nil elapsed function", func() { scheduler.NewTimers(time.Time{}, nil, nil) })
}
