package cooperate

import "iter"

// Each runs f on every value of seq as a task of c, and returns the task:
// the everyday way to wrap a `for v := range seq { ... }` loop so that it
// runs in slices between the loop's other work. A step is one call of f.
//
// f runs inside seq's own loop: between the ends of slices (or of turns,
// when other tasks are runnable), going from one value to the next costs no
// coroutine switch and no clock read. The first step runs in a later slice,
// never inside Each. When f returns an error, or f or seq panics, the task
// fails with that error (a *deferred.PanicError for a panic) and seq is not
// resumed; f's error does not affect other tasks. When f or seq calls
// [runtime.Goexit] (as t.FailNow does), the task fails with an error
// wrapping [ErrGoexit], as [Task] tells.
//
// With [WithLanes], f and seq run on a lane's goroutine, concurrently with
// the loop and with other tasks, but never concurrently with themselves.
//
// On a stopped Cooperator the task fails at once with [ErrSchedulerStopped].
// A nil c, seq or f panics.
func Each[T any](c *Cooperator, seq iter.Seq[T], f func(T) error) *Task {
	if c == nil {
		panic("cooperate: Each: nil Cooperator")
	}
	if seq == nil {
		panic("cooperate: Each: nil iterator")
	}
	if f == nil {
		panic("cooperate: Each: nil function")
	}
	t := c.newTask()
	// The loop body is the hot path: it captures only t and f, and leaves
	// the loop with break, which needs no hidden state, where return would.
	t.body = func() {
		for v := range seq {
			if err := f(v); err != nil {
				t.err = err
				break
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
