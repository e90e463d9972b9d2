package process

import (
	"github.com/twinego/twine/deferred"
)

// MaxCallChunk is the most calls of [MapFunc.CallChunked] that share one
// task.
const MaxCallChunk = 1024

// openChunk gathers the CallChunked calls of one MapFunc on one pool until
// they are sent.
type openChunk[A, R any] struct {
	args []A
	ds   []*deferred.Deferred[R]
	sent bool
}

// CallChunked runs m with arg on a worker of p, as [Func.Call] does, but
// in one task with the other CallChunked calls of m on p made until p's
// loop next runs its queued functions (at most [MaxCallChunk] to a task):
// a Deferred per element, and the cost of a frame shared by many. It is
// the call to give [cooperate.Parallel] as its body for tiny elements,
// where a frame per element would cost more than the element's work:
//
//	cooperate.Parallel(c, seq, 4096, func(x int) *deferred.Deferred[int] {
//		return square.CallChunked(pool, x)
//	}, each)
//
// The Deferred fires on p's loop with m's result for arg, or fails as
// Call's would: with the element's own error (a [*RemoteError], a
// *deferred.PanicError), or with the error that failed its whole task (a
// [*WorkerError] if its worker died, [ErrClosed], [ErrFrameTooLarge] for a
// task too large for a frame). It never fires inside CallChunked.
// Cancelling it fails it with deferred.ErrCancelled at once; the element
// still runs with the others of its task, and its result is dropped.
//
// CallChunked may be used from any goroutine. A nil p panics.
func (m *MapFunc[A, R]) CallChunked(p *Pool, arg A) *deferred.Deferred[R] {
	m.check("MapFunc.CallChunked")
	if p == nil {
		panic("process: MapFunc.CallChunked: nil Pool")
	}
	d := deferred.New[R]()
	m.mu.Lock()
	oc := m.open[p]
	fresh := oc == nil
	if fresh {
		oc = &openChunk[A, R]{}
		if m.open == nil {
			m.open = map[*Pool]*openChunk[A, R]{}
		}
		m.open[p] = oc
	}
	oc.args = append(oc.args, arg)
	oc.ds = append(oc.ds, d)
	full := len(oc.args) >= MaxCallChunk
	if full {
		delete(m.open, p)
		oc.sent = true
	}
	m.mu.Unlock()
	if fresh && !postOn(p.loop, func() { m.flush(p, oc) }) {
		// The loop will never run: send what there is now, for the pool
		// to fail.
		m.flush(p, oc)
	}
	if full {
		m.send(p, oc)
	}
	return d
}

// flush sends the calls gathered in oc, on the loop, unless a full chunk
// has sent them already.
func (m *MapFunc[A, R]) flush(p *Pool, oc *openChunk[A, R]) {
	m.mu.Lock()
	if oc.sent {
		m.mu.Unlock()
		return
	}
	oc.sent = true
	if m.open[p] == oc {
		delete(m.open, p)
	}
	m.mu.Unlock()
	m.send(p, oc)
}

// send runs oc's calls as one task, and fires each call's Deferred with its
// part of the result.
func (m *MapFunc[A, R]) send(p *Pool, oc *openChunk[A, R]) {
	m.chunk.Call(p, oc.args).AddBoth(func(res chunkResult[R], err error) (chunkResult[R], error) {
		next := 0 // the next element error, in res.Errs
		for i, d := range oc.ds {
			switch {
			case err != nil:
				d.Errback(err)
			case next < len(res.Errs) && res.Errs[next].Index == i:
				d.Errback(res.elementError(m.Name(), next))
				next++
			case i < len(res.Values):
				d.Callback(res.Values[i])
			default:
				d.Errback(errShortChunk)
			}
		}
		return chunkResult[R]{}, nil
	})
}
