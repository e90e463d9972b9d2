package deferred

// Then returns a Deferred of another type that fires with f's result when d
// succeeds, or with d's error when d fails; f is not called then. An error or
// a panic in f fails the returned Deferred. For a U of any, a Deferred of
// any element type returned by f is waited on, as a callback's would be (a
// nil one fails the returned Deferred).
//
// Then adds one step to d's chain: after it, d's own result is the zero value
// with no error, as after Twisted's chainDeferred. Cancelling the returned
// Deferred before d fires cancels d.
func Then[T, U any](d *Deferred[T], f func(T) (U, error)) *Deferred[U] {
	if f == nil {
		panicMisuse("Then", errNilFunc)
	}
	return onSuccess(d, func(v T, out *Deferred[U]) {
		exited := true
		defer settleIfExited(out, "Then", f, &exited)
		u, err := callValue(f, v)
		exited = false
		if err == nil {
			if inner, ok := asDeferred(u); ok {
				if inner == nil {
					out.settle(*new(U), &misuse{op: "Then", err: errNilDeferred})
					return
				}
				out.follow(inner)
				return
			}
		}
		out.settle(u, err)
	})
}

// ThenDeferred is [Then] for a function that returns a Deferred: the returned
// Deferred fires with the result of the one f returns, when that one fires.
// Waiting does not recurse, however long the line of such Deferreds.
// Cancelling the returned Deferred cancels d before d fires, and the Deferred
// that f returned after. A nil Deferred from f fails the result.
func ThenDeferred[T, U any](d *Deferred[T], f func(T) *Deferred[U]) *Deferred[U] {
	if f == nil {
		panicMisuse("ThenDeferred", errNilFunc)
	}
	return onSuccess(d, func(v T, out *Deferred[U]) {
		exited := true
		defer settleIfExited(out, "ThenDeferred", f, &exited)
		inner, err := callDeferred(f, v)
		exited = false
		switch {
		case err != nil:
			out.settle(*new(U), err)
		case inner == nil:
			out.settle(*new(U), &misuse{op: "ThenDeferred", err: errNilDeferred})
		default:
			out.follow(inner)
		}
	})
}

// onSuccess returns a Deferred that next settles with d's error, or that
// settle gives when d succeeds. It adds one step to d's chain, after which
// d's result is the zero value with no error; cancelling the returned
// Deferred before d fires cancels d.
func onSuccess[T, U any](d *Deferred[T], settle func(v T, out *Deferred[U])) *Deferred[U] {
	out := NewWithCanceller(func(*Deferred[U]) { d.Cancel() })
	d.addLink(relayFunc[T](func(v T, err error) (T, error) {
		if err != nil {
			out.settle(*new(U), err)
		} else {
			settle(v, out)
		}
		var zero T
		return zero, nil
	}))
	return out
}

// Maybe calls f and returns a Deferred with its outcome: Twisted's
// maybeDeferred. A returned error or a panic (as a [*PanicError]) gives a
// failed Deferred. For a T of any, a *Deferred[any] returned by f is
// returned itself, a Deferred of another element type is waited on by the
// returned Deferred[any], and a nil one gives a failed Deferred.
func Maybe[T any](f func() (T, error)) *Deferred[T] {
	if f == nil {
		panicMisuse("Maybe", errNilFunc)
	}
	v, err := callValue(func(struct{}) (T, error) { return f() }, struct{}{})
	if err != nil {
		return Fail[T](err)
	}
	if d, ok := asDeferred(v); ok {
		if d == nil {
			return Fail[T](&misuse{op: "Maybe", err: errNilDeferred})
		}
		return d
	}
	return Succeed(v)
}

// Chain makes other fire with d's result when d's chain reaches this point:
// Twisted's chainDeferred. After it, d's own result is the zero value with no
// error, so an error passed on to other counts as handled in d. It returns d.
func (d *Deferred[T]) Chain(other *Deferred[T]) *Deferred[T] {
	if other == nil {
		panicMisuse("Deferred.Chain", errNilDeferred)
	}
	if other == d {
		panicMisuse("Deferred.Chain", errChainToItself)
	}
	return d.addLink(relayFunc[T](func(v T, err error) (T, error) {
		if err != nil {
			other.Errback(err)
		} else {
			other.Callback(v)
		}
		var zero T
		return zero, nil
	}))
}

// settle fires d without panicking if it has already fired: internal
// plumbing must not die of a Deferred that a cancellation fired first.
func (d *Deferred[T]) settle(v T, err error) {
	if err == nil {
		checkNotDeferred("Deferred.Callback", v)
	}
	d.fire(v, err, "")
}

// follow fires d with inner's eventual result: d counts as fired at once and
// its chain waits on inner, so cancelling d cancels inner.
func (d *Deferred[T]) follow(inner *Deferred[T]) {
	if inner == d {
		d.settle(*new(T), errReturnedSelf)
		return
	}
	s := d.lock()
	if s&sCalled != 0 {
		d.unlock(s &^ sSuppress)
		return
	}
	s |= sCalled
	if s&(sRunning|sPaused) == 0 {
		d.claimLocked(s)
		d.waitOn(inner)
		run(d, nil, nil)
		return
	}
	// Paused: record the wait; the result waits in d for Unpause.
	d.waitingOn = inner
	d.unlock(s | sWaiting)
	si := inner.linkLocked(inner.lock(), d)
	if si&(sCalled|sRunning|sPaused|sWaiting) == sCalled {
		inner.claimLocked(si)
		run(inner, nil, nil)
		return
	}
	inner.unlock(si)
}

// settleIfExited fails out with an error wrapping ErrGoexit that names f,
// the function given to op, if *exited is still set: deferred around the
// call of f, it fires out when f ended the goroutine with runtime.Goexit.
func settleIfExited[U any](out *Deferred[U], op string, f any, exited *bool) {
	if *exited {
		out.settle(*new(U), funcGoexit(op+" function", f))
	}
}

func callValue[T, U any](f func(T) (U, error), v T) (u U, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = NewPanicError(r)
		}
	}()
	return f(v)
}

func callDeferred[T, U any](f func(T) *Deferred[U], v T) (d *Deferred[U], err error) {
	defer func() {
		if r := recover(); r != nil {
			err = NewPanicError(r)
		}
	}()
	return f(v), nil
}
