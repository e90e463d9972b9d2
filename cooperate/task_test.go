package cooperate_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

var errUnhandled = errors.New("unhandled")

// runState is Twisted's RunStateTests fixture: a worker task in a Cooperator
// whose slices take one step each, told what its next step does.
type runState struct {
	clock *scheduler.ManualClock
	c     *cooperate.Cooperator
	task  *cooperate.Task
	work  []any // ints, and the Deferreds the worker yielded

	deferNext, stopNext, dieNext bool
}

func newRunState(t *testing.T) *runState {
	s := &runState{}
	s.c, s.clock = newCooperator(t, cooperate.WithTerminator(oneStep))
	s.task = s.c.Cooperate(s.worker)
	return s
}

func (s *runState) worker(yield func(any) bool) {
	for i := 1; ; i++ {
		var v any
		switch {
		case s.deferNext:
			s.deferNext = false
			d := deferred.New[any]()
			s.work = append(s.work, d)
			v = d
		case s.stopNext:
			return
		case s.dieNext:
			panic(errUnhandled)
		default:
			s.work = append(s.work, i)
			v = i
		}
		if !yield(v) {
			return
		}
	}
}

func (s *runState) pump() { tick(s.clock) }

func TestPauseResume(t *testing.T) {
	s := newRunState(t)
	s.pump()
	assert.Equal(t, []any{1}, s.work)
	s.pump()
	assert.Equal(t, []any{1, 2}, s.work)

	require.NoError(t, s.task.Pause())
	s.pump()
	assert.Equal(t, []any{1, 2}, s.work)
	require.NoError(t, s.task.Resume())
	assert.Equal(t, []any{1, 2}, s.work, "resuming does no work itself")
	s.pump()
	assert.Equal(t, []any{1, 2, 3}, s.work)
}

func TestResumeNotPaused(t *testing.T) {
	s := newRunState(t)
	assert.ErrorIs(t, s.task.Resume(), cooperate.ErrNotPaused)
	require.NoError(t, s.task.Pause())
	require.NoError(t, s.task.Resume())
	assert.ErrorIs(t, s.task.Resume(), cooperate.ErrNotPaused)
}

func TestPauseTwice(t *testing.T) {
	s := newRunState(t)
	require.NoError(t, s.task.Pause())
	s.pump()
	assert.Empty(t, s.work)
	require.NoError(t, s.task.Pause())
	s.pump()
	assert.Empty(t, s.work)
	require.NoError(t, s.task.Resume())
	s.pump()
	assert.Empty(t, s.work, "one pause is left")
	require.NoError(t, s.task.Resume())
	s.pump()
	assert.Equal(t, []any{1}, s.work)
}

func TestPauseWhileDeferred(t *testing.T) {
	s := newRunState(t)
	s.deferNext = true
	s.pump()
	require.Len(t, s.work, 1)
	d, ok := s.work[0].(*deferred.Deferred[any])
	require.True(t, ok)
	s.pump()
	assert.Len(t, s.work, 1)

	require.NoError(t, s.task.Pause())
	s.pump()
	assert.Len(t, s.work, 1)
	require.NoError(t, s.task.Resume())
	s.pump()
	assert.Len(t, s.work, 1, "the Deferred has not fired yet")

	d.Callback("STUFF!")
	// The task resumes on the loop, whichever goroutine fired the Deferred:
	// the first Advance runs the resumption, the next one the slice.
	s.pump()
	assert.Len(t, s.work, 1)
	s.pump()
	assert.Equal(t, []any{d, 2}, s.work)
}

func TestPausedStaysPausedAfterDeferred(t *testing.T) {
	s := newRunState(t)
	s.deferNext = true
	s.pump()
	d := s.work[0].(*deferred.Deferred[any])
	require.NoError(t, s.task.Pause())
	d.Callback(nil)
	s.pump()
	s.pump()
	assert.Len(t, s.work, 1, "still paused")
	require.NoError(t, s.task.Resume())
	s.pump()
	assert.Equal(t, []any{d, 2}, s.work)
}

func TestWhenDone(t *testing.T) {
	s := newRunState(t)
	d1 := s.task.Done()
	d2 := s.task.Done()
	assert.NotSame(t, d1, d2)
	var results1, results2 []struct{}
	var final1, final2 []struct{}
	one := struct{}{}
	d1.AddCallback(func(v struct{}) (struct{}, error) {
		results1 = append(results1, v)
		return one, nil
	})
	d2.AddCallback(func(v struct{}) (struct{}, error) {
		results2 = append(results2, v)
		return v, errBoom // one chain's change must not reach the other
	})
	d1.AddCallback(func(v struct{}) (struct{}, error) {
		final1 = append(final1, v)
		return v, nil
	})
	d2.AddErrback(func(err error) (struct{}, error) {
		assert.ErrorIs(t, err, errBoom)
		final2 = append(final2, struct{}{})
		return struct{}{}, nil
	})

	s.stopNext = true
	s.pump()
	assert.Len(t, results1, 1)
	assert.Len(t, results2, 1)
	assert.Len(t, final1, 1)
	assert.Len(t, final2, 1)
}

func TestWhenDoneError(t *testing.T) {
	s := newRunState(t)
	done := watch(s.task.Done())
	s.dieNext = true
	s.pump()
	requireFailedWith(t, done, errUnhandled)
	var pe *deferred.PanicError
	assert.ErrorAs(t, done.err, &pe)
}

func TestWhenDoneStop(t *testing.T) {
	s := newRunState(t)
	done := watch(s.task.Done())
	require.NoError(t, s.task.Stop())
	requireFailedWith(t, done, cooperate.ErrTaskStopped)
}

func TestWhenDoneAlreadyDone(t *testing.T) {
	s := newRunState(t)
	s.stopNext = true
	s.pump()
	done := watch(s.task.Done())
	require.True(t, done.fired, "Done on a finished task has fired already")
	assert.NoError(t, done.err)
}

func TestStopStops(t *testing.T) {
	s := newRunState(t)
	require.NoError(t, s.task.Stop())
	s.pump()
	assert.Empty(t, s.work)
	assert.ErrorIs(t, s.task.Stop(), cooperate.ErrTaskStopped)
	assert.ErrorIs(t, s.task.Pause(), cooperate.ErrTaskStopped)
	assert.ErrorIs(t, s.task.Stop(), cooperate.ErrTaskFinished)
	s.pump()
	assert.Empty(t, s.work)
	assert.Empty(t, s.clock.Pending())
}

func TestPauseStopResume(t *testing.T) {
	s := newRunState(t)
	require.NoError(t, s.task.Pause())
	require.NoError(t, s.task.Stop())
	require.NoError(t, s.task.Resume(), "the pause is still there to undo")
	s.pump()
	assert.Empty(t, s.work)
	assert.ErrorIs(t, s.task.Resume(), cooperate.ErrNotPaused)
}

func TestStopDeferred(t *testing.T) {
	s := newRunState(t)
	s.deferNext = true
	s.pump()
	d := s.work[0].(*deferred.Deferred[any])
	s.work = nil
	result := watch(d)
	s.pump()
	require.NoError(t, s.task.Stop())
	s.pump()
	d.Callback(7)
	s.pump()
	require.True(t, result.fired)
	assert.Nil(t, result.value, "the Cooperator consumed the Deferred's result")
	assert.NoError(t, result.err)
	assert.Empty(t, s.work, "no step after the stop")
}

func TestStopExhausted(t *testing.T) {
	s := newRunState(t)
	s.stopNext = true
	s.pump()
	assert.ErrorIs(t, s.task.Stop(), cooperate.ErrTaskDone)
	assert.ErrorIs(t, s.task.Pause(), cooperate.ErrTaskDone)
}

func TestStopErrored(t *testing.T) {
	s := newRunState(t)
	_ = watch(s.task.Done())
	s.dieNext = true
	s.pump()
	err := s.task.Stop()
	assert.ErrorIs(t, err, cooperate.ErrTaskFailed)
	assert.ErrorIs(t, err, cooperate.ErrTaskFinished)
	assert.ErrorIs(t, err, errUnhandled, "the error also carries the cause")
}

func TestStopCooperatorReentrancy(t *testing.T) {
	s := newRunState(t)
	var phases []string
	s.task.Done().AddCallback(func(v struct{}) (struct{}, error) {
		phases = append(phases, "done")
		s.c.Stop()
		phases = append(phases, "stopped")
		return v, nil
	})
	s.stopNext = true
	s.pump()
	assert.Equal(t, []string{"done", "stopped"}, phases)
	assert.False(t, s.c.Running())
}
