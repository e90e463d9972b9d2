package cooperate

import (
	"iter"
	"reflect"

	"github.com/twinego/twine/deferred"
)

// Cooperate adds seq as a new task and returns it: Twisted's cooperate. The
// task's first step runs in a later slice, never inside Cooperate. Each step
// runs the iterator to its next value. A value that is a Deferred of any
// type (a *deferred.Deferred[T]) or another [Waitable] pauses the task until
// it completes, and fails the task if it fails, as in Twisted; other values,
// nil and nil Deferreds included, are ignored. A step that panics fails the
// task with a *deferred.PanicError; one that calls [runtime.Goexit] (as
// t.FailNow does) fails it with an error wrapping [ErrGoexit] (see [Task]).
// With [WithLanes], seq runs on a lane's goroutine, concurrently with the
// loop and with other tasks, and a task that waits resumes on its lane.
//
// On a stopped Cooperator the task fails at once with [ErrSchedulerStopped].
// A nil c or seq panics.
func (c *Cooperator) Cooperate(seq iter.Seq[any]) *Task {
	if c == nil {
		panic("cooperate: Cooperator.Cooperate: nil Cooperator")
	}
	if seq == nil {
		panic("cooperate: Cooperator.Cooperate: nil iterator")
	}
	t := c.newTask()
	t.body = func() {
		for v := range seq {
			if v != nil {
				if w := asWaitable(v); w != nil {
					t.wait = w
					t.left--
					if !t.yield(struct{}{}) {
						break
					}
					continue
				}
			}
			t.left--
			if t.left > 0 && t.c.attn.Load()&attnMask == 0 {
				continue
			}
			if t.suspend() {
				break
			}
		}
	}
	return c.adopt(t)
}

// Coiterate runs seq as a task of c, as [Cooperator.Cooperate] does, and
// returns a Deferred that fires when the task finishes, as [Task.Done]'s:
// Twisted's coiterate. A nil c or seq panics.
func Coiterate(c *Cooperator, seq iter.Seq[any]) *deferred.Deferred[struct{}] {
	if c == nil {
		panic("cooperate: Coiterate: nil Cooperator")
	}
	return c.Cooperate(seq).Done()
}

// Waitable is a value a task can yield to wait for it: the task pauses until
// the value completes, then resumes on the loop, or fails if the value
// failed. Every *deferred.Deferred[T] is one, whatever its T, through its
// OnComplete method: a task that yields a Deferred of any type waits on it,
// as Twisted's Cooperator waits on any Deferred a step yields.
type Waitable interface {
	// OnComplete arranges for done to be called once, when the value
	// completes: with nil on success, or with the error it failed with. done
	// may be called at once, and on any goroutine.
	OnComplete(done func(err error))
}

// Wait returns d as a [Waitable], for a task to yield so that it waits on
// it. Waiting consumes d's result, as Twisted's Cooperator does: callbacks
// added to d afterwards receive T's zero value and no error. A
// *deferred.Deferred[T] is a Waitable already, and may be yielded as it is;
// Wait says so in the code, and refuses a nil d, which panics.
func Wait[T any](d *deferred.Deferred[T]) Waitable {
	if d == nil {
		panic("cooperate: Wait: nil Deferred")
	}
	return d
}

// deferredLike is the method set that every *deferred.Deferred[T] has,
// whatever its T.
type deferredLike interface {
	Waitable
	Called() bool
	Cancel()
}

// asWaitable returns the Waitable a yielded value stands for, or nil if the
// task should not wait on it. A nil Deferred, of any type, is not waited
// on, as nil is not.
func asWaitable(v any) Waitable {
	switch x := v.(type) {
	case *deferred.Deferred[any]:
		if x != nil {
			return x
		}
	case *deferred.Deferred[struct{}]:
		if x != nil {
			return x
		}
	case deferredLike:
		if rv := reflect.ValueOf(x); rv.Kind() != reflect.Pointer || !rv.IsNil() {
			return x
		}
	case Waitable:
		return x
	}
	return nil
}
