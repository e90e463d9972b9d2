package deferred

// A Deferred of any element type is a Deferred: a chain of any waits on
// one that a callback returns, and every Deferred is a cooperate.Waitable.

// isAny reports whether T is the empty interface, the one type whose values
// may hold a *Deferred[T] that the chain must wait on.
func isAny[T any]() bool {
	_, ok := any((*T)(nil)).(*any)
	return ok
}

// asDeferred returns the Deferred that v, a result in a chain of T, makes
// the chain wait on: when T is any and v holds a *Deferred of any element
// type. A *Deferred[any] is waited on itself; a Deferred of another type
// through a new Deferred[any] that takes its result (see bridge). A nil
// Deferred gives (nil, true): the caller fails the chain with its own words.
func asDeferred[T any](v T) (*Deferred[T], bool) {
	if !isAny[T]() {
		return nil, false
	}
	switch x := any(v).(type) {
	case *Deferred[T]:
		return x, true
	case anyDeferred:
		if b := x.bridge(); b != nil {
			return any(b).(*Deferred[T]), true
		}
		return nil, true
	}
	return nil, false
}

// anyDeferred is what every *Deferred[T] is, whatever its T: a Deferred
// that a chain of any can wait on.
type anyDeferred interface {
	OnComplete(done func(err error))
	bridge() *Deferred[any]
}

// OnComplete adds a step to d's chain that calls done with nil when the
// chain reaches it with a result, or with the error when it reaches it
// with one, and leaves T's zero value and no error: the result is
// consumed, as when a Twisted Cooperator waits on a Deferred, and an error
// handed to done counts as handled. It returns at once; done runs as any
// callback does, on the goroutine that fires d (or at once, if d has
// fired). A nil d or done panics.
//
// With it every *Deferred[T], whatever its T, is a cooperate.Waitable: a
// task that yields a Deferred of any type waits on it.
func (d *Deferred[T]) OnComplete(done func(err error)) {
	if d == nil {
		panicMisuse("Deferred.OnComplete", errNilDeferred)
	}
	if done == nil {
		panicMisuse("Deferred.OnComplete", errNilFunc)
	}
	d.addLink(relayFunc[T](func(_ T, err error) (T, error) {
		done(err)
		var zero T
		return zero, nil
	}))
}

// bridge returns a Deferred[any] that fires with d's result, as any, when
// d's chain reaches this point, after which d holds T's zero value and no
// error, as a Deferred a chain waits on does. Cancelling the bridge
// cancels d. A nil d gives nil.
func (d *Deferred[T]) bridge() *Deferred[any] {
	if d == nil {
		return nil
	}
	if b, ok := any(d).(*Deferred[any]); ok {
		return b
	}
	b := NewWithCanceller(func(*Deferred[any]) { d.Cancel() })
	d.addLink(relayFunc[T](func(v T, err error) (T, error) {
		// fire, not Callback: a T that is itself a Deferred is
		// passed on as a value.
		b.fire(v, err, "")
		var zero T
		return zero, nil
	}))
	return b
}

// checkNotDeferred panics, naming op, when T is any and v holds a
// Deferred: a Deferred's result is never a Deferred, as in Twisted.
func checkNotDeferred[T any](op string, v T) {
	if !isAny[T]() {
		return
	}
	if _, ok := any(v).(anyDeferred); ok {
		panicMisuse(op, errFireDeferred)
	}
}
