package remote

import (
	"errors"
	"fmt"
)

// ErrClosed is the error of a call made on a [Pool] after [Pool.Close] has
// begun, and of a task still unanswered when Close gave up waiting.
var ErrClosed = errors.New("remote: pool closed")

// ErrTimeout is the error of a task that had no answer within its time
// ([WithTaskTimeout]), from the Pool's side or the Worker's.
var ErrTimeout = errors.New("remote: task timed out")

// ErrUnroutable is the error of a task that the broker returned because no
// queue took it: the task queue was deleted behind the pool's back, say.
var ErrUnroutable = errors.New("remote: task unroutable: no queue took it")

// ErrNotAccepted is the error of a task that the broker refused to take (a
// negative publisher confirm): its queue is full or failing.
var ErrNotAccepted = errors.New("remote: the broker did not accept the task")

// ErrUnknownFunc is the error of a task whose function no worker that took
// it has registered: workers and callers run different builds.
var ErrUnknownFunc = errors.New("remote: the worker has no such function")

// ErrMalformed is the error of a task that a worker could not read: another
// protocol version, another signature for its function, a codec it lacks,
// an argument it cannot decode. The worker rejects such a task to the
// dead-letter queue.
var ErrMalformed = errors.New("remote: malformed task")

// ErrTooLarge is the error of a task whose argument or result, encoded,
// exceeds the largest message ([WithMaxMessage]).
var ErrTooLarge = errors.New("remote: message too large")

// ErrUnreachable wraps the last failure to connect when the broker could
// not be reached within the time [WithConnectTimeout] allows.
var ErrUnreachable = errors.New("remote: broker unreachable")

// ErrAccessRefused wraps the broker's refusal of the login or of the virtual
// host in the URL: it is not retried.
var ErrAccessRefused = errors.New("remote: the broker refused access")

// ErrTopology wraps the broker's refusal to declare the queues and
// exchanges: one exists already with other settings (a queue of another
// type, another delivery limit), typically.
var ErrTopology = errors.New("remote: cannot declare the queues")

// ErrDrainTimeout is returned by [Worker.Run] when tasks were still running
// at the end of the drain ([WithDrainTimeout]); they were left to the broker,
// which gives them to another worker.
var ErrDrainTimeout = errors.New("remote: drain timed out: tasks left to the broker")

// ErrDeadLettered is wrapped by every [*DeadLetterError].
var ErrDeadLettered = errors.New("remote: task dead-lettered")

// DeadLetterError is the error of a task that reached its delivery limit
// ([WithDeliveryLimit]): every worker that took it went away (crashed,
// killed, disconnected, drained) before answering, as many times as the
// limit allows. The task is in the dead-letter queue, where [ListDead] finds
// it and [ReplayDead] can send it again.
type DeadLetterError struct {
	ID         string // the task's id
	Func       string // its function's registered name
	Deliveries int    // how many times the broker delivered it, the last one included
	Queue      string // the dead-letter queue that holds it
}

// Error says which task, how many deliveries, and where it is now.
func (e *DeadLetterError) Error() string {
	return fmt.Sprintf("remote: task %s (%s) dead-lettered after %d deliveries without an answer; it is in queue %q",
		e.ID, e.Func, e.Deliveries, e.Queue)
}

// Unwrap returns [ErrDeadLettered].
func (e *DeadLetterError) Unwrap() error { return ErrDeadLettered }
