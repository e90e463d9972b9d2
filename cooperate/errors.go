package cooperate

import (
	"errors"
	"fmt"

	"github.com/twinego/twine/deferred"
)

// ErrTaskFinished is what every error for acting on a task that has
// finished wraps: Twisted's TaskFinished. Match it with errors.Is to catch
// [ErrTaskDone], [ErrTaskStopped] and [ErrTaskFailed] at once.
var ErrTaskFinished = errors.New("cooperate: task finished")

// ErrTaskDone is returned by [Task.Pause] and [Task.Stop] once the task's
// iterator is exhausted: Twisted's TaskDone.
var ErrTaskDone = fmt.Errorf("%w: done", ErrTaskFinished)

// ErrTaskStopped is returned by [Task.Pause] and [Task.Stop] once the task
// has been stopped, and is the error its [Task.Done] Deferreds fail with:
// Twisted's TaskStopped.
var ErrTaskStopped = fmt.Errorf("%w: stopped", ErrTaskFinished)

// ErrTaskFailed is wrapped, together with the step's own error, by the error
// that [Task.Pause] and [Task.Stop] return once a step of the task has
// failed: Twisted's TaskFailed. The task's [Task.Done] Deferreds fail with
// the step's error itself, as Twisted's whenDone does.
var ErrTaskFailed = fmt.Errorf("%w: failed", ErrTaskFinished)

// ErrSchedulerStopped is the error the tasks of a stopped [Cooperator] fail
// with, including tasks given to it after [Cooperator.Stop]: Twisted's
// SchedulerStopped.
var ErrSchedulerStopped = errors.New("cooperate: cooperator stopped")

// ErrNotPaused is returned by [Task.Resume] when the task has not been
// paused more times than it has been resumed: Twisted's NotPaused.
var ErrNotPaused = errors.New("cooperate: task not paused")

// ErrNotRunning is returned by [LoopingCall.Stop] and [LoopingCall.Reset]
// when the call is not running: never started, already stopped, or stopped
// by a failure of its function.
var ErrNotRunning = errors.New("cooperate: looping call not running")

// ErrNegativeInterval is the error of a [LoopingCall] asked to run at a
// negative interval: [LoopingCall.Start] returns a Deferred that has already
// failed with it, and [LoopingCall.SetInterval] returns it.
var ErrNegativeInterval = errors.New("cooperate: negative interval")

// ErrGoexit is wrapped by the error a task fails with when one of its steps
// calls [runtime.Goexit] (as t.FailNow does), and by the error of a
// [DeferLater], a [LoopingCall], a [Parallel] or a [Map] whose function
// does. Go gives no way to keep a goroutine from ending then; the error says
// what the function was, and names it when it can.
//
// It is [deferred.ErrGoexit] itself, the one value for a function that
// ended its goroutine wherever twine ran it: errors.Is matches either name.
var ErrGoexit = deferred.ErrGoexit
