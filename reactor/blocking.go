package reactor

import (
	"bytes"
	"context"
	"runtime"
	"strconv"

	"github.com/twinego/twine/deferred"
)

// BlockingCall runs f on the reactor goroutine and waits for its result:
// Twisted's blockingCallFromThread, for code on another goroutine that needs
// reactor-owned state. A panic in f becomes a [*deferred.PanicError]; an f
// that calls [runtime.Goexit] returns a [*GoexitError] (and the reactor
// shuts down, as [Reactor.Run] says).
//
// Called on the reactor goroutine, where waiting would deadlock, it returns
// [ErrOnReactor] without running f. It returns [ErrNotRunning] without
// running f once the reactor has shut down. If ctx is done first, it returns
// ctx's error; f still runs, and its result is dropped. Before Run, f waits
// for the reactor to start. A nil ctx, r or f panics.
func BlockingCall[T any](ctx context.Context, r *Reactor, f func() (T, error)) (T, error) {
	if f == nil {
		panic("reactor: BlockingCall: nil function")
	}
	return blockingCall(ctx, r, "BlockingCall", f, func() *deferred.Deferred[T] {
		v, err := callGuarded(f)
		if err != nil {
			return deferred.Fail[T](err)
		}
		return deferred.Succeed(v)
	})
}

// BlockingCallDeferred is [BlockingCall] for a function that returns a
// Deferred: it waits until that Deferred fires, and returns its result. The
// result is consumed, as Twisted's blockingCallFromThread does. A nil
// Deferred counts as a [*deferred.PanicError].
func BlockingCallDeferred[T any](ctx context.Context, r *Reactor, f func() *deferred.Deferred[T]) (T, error) {
	if f == nil {
		panic("reactor: BlockingCallDeferred: nil function")
	}
	return blockingCall(ctx, r, "BlockingCallDeferred", f, f)
}

// blockingCall runs f on the reactor goroutine for BlockingCall (name) and
// waits for it. user is the caller's function, to name in reports.
func blockingCall[T any](ctx context.Context, r *Reactor, name string, user any, f func() *deferred.Deferred[T]) (T, error) {
	if ctx == nil {
		panic("reactor: " + name + ": nil context")
	}
	if r == nil {
		panic("reactor: " + name + ": nil reactor")
	}
	var zero T
	if r.state.Load() == stateStopped {
		return zero, ErrNotRunning
	}
	if r.onReactor() {
		return zero, ErrOnReactor
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	ok := r.enqueue(func() {
		returned := false
		defer func() {
			if !returned { // runtime.Goexit: tell the caller, who would wait for ever
				r.noteGoexit(user, name+" function")
				ch <- result{zero, r.exiting}
			}
		}()
		d := callDeferred(f)
		if d == nil {
			d = deferred.Fail[T](deferred.NewPanicError("reactor: " + name + ": nil Deferred"))
		}
		d.AddBoth(func(v T, err error) (T, error) {
			ch <- result{v, err}
			return zero, nil
		})
		returned = true
	})
	if !ok {
		return zero, ErrNotRunning
	}
	select {
	case res := <-ch:
		return res.v, res.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// onReactor reports whether the calling goroutine is the reactor goroutine.
func (r *Reactor) onReactor() bool {
	id := r.gid.Load()
	return id != 0 && goid() == id
}

// goid returns the calling goroutine's id, read from the first line of its
// stack trace ("goroutine 42 [running]:"). It costs about a microsecond, so
// it is kept off the hot paths.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic("reactor: cannot read the goroutine id: " + err.Error())
	}
	return id
}
