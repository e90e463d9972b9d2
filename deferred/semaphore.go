package deferred

import (
	"errors"
	"sync"
)

// Semaphore limits how many holders share a resource at once, for
// event-driven code: Twisted's DeferredSemaphore. It starts with a number of
// tokens; [Semaphore.Acquire] takes one, through a Deferred that fires with
// the Semaphore once a token is the caller's, and [Semaphore.Release] gives
// it back.
//
// Waiters get tokens in the order they called Acquire; a released token goes
// straight to the first of them. Cancelling a waiting Acquire's Deferred
// takes it out of the line and fails it with [ErrCancelled]; a cancelled
// waiter never ends up with a token, even when the cancellation races with a
// Release on another goroutine.
//
// Deferreds are fired with no internal lock held, on the goroutine that frees
// the token: Acquire fires at once, on the caller's goroutine, when a token
// is free, and Release fires the next waiter's Deferred before it returns. A
// callback may call Release or Acquire again; as in Twisted, the next
// waiter's callbacks then run nested in it, up to 100 deep, and one after
// another beyond (see [Lock]).
//
// To bound how many of a loop's tasks run at once, [Run] is the usual entry
// point; a cooperate.Cooperator suits long loops better. A Semaphore is safe
// for concurrent use. Create it with [NewSemaphore]; the zero value has no
// tokens and panics on use. A Semaphore must not be copied after first use.
type Semaphore struct {
	mu      sync.Mutex
	tokens  int // free tokens
	limit   int // tokens given to NewSemaphore
	waiting fifo[*Deferred[*Semaphore]]
	relay   relay[*Semaphore]
	cancel  func(*Deferred[*Semaphore]) // the waiters' canceller, made once
}

var (
	errBadTokens     = errors.New("deferred: tokens must be at least 1")
	errZeroSemaphore = errors.New("deferred: Semaphore not made by NewSemaphore")
	errOverReleased  = errors.New("deferred: released more often than acquired")
)

// NewSemaphore returns a Semaphore with tokens free tokens, which is also
// its limit. It panics if tokens is less than 1, as Twisted raises
// ValueError.
func NewSemaphore(tokens int) *Semaphore {
	if tokens < 1 {
		panicMisuse("NewSemaphore", errBadTokens)
	}
	s := &Semaphore{tokens: tokens, limit: tokens}
	s.cancel = s.cancelAcquire
	return s
}

// Acquire asks for a token. The returned Deferred fires with s once the
// caller has one: at once, before Acquire returns, if a token is free;
// otherwise when a [Semaphore.Release] hands one over, after every earlier
// waiter has been served. The holder must call Release exactly once.
//
// Cancelling the Deferred while it waits removes it from the line and fails
// it with [ErrCancelled]; cancelling it after it fired does nothing, and the
// holder must still release.
func (s *Semaphore) Acquire() *Deferred[*Semaphore] {
	s.mu.Lock()
	if s.limit == 0 {
		s.mu.Unlock()
		panicMisuse("Semaphore.Acquire", errZeroSemaphore)
	}
	if s.tokens > 0 {
		s.tokens--
		s.mu.Unlock()
		return Succeed(s)
	}
	d := NewWithCanceller(s.cancel)
	s.waiting.push(d)
	s.mu.Unlock()
	return d
}

// cancelAcquire is the canceller of a waiting Acquire: it takes d out of the
// line, or, if a Release already gave d a token, lets the race between that
// fire and the cancellation decide (see Lock.cancelAcquire).
func (s *Semaphore) cancelAcquire(d *Deferred[*Semaphore]) {
	s.mu.Lock()
	s.waiting.remove(func(w *Deferred[*Semaphore]) bool { return w == d })
	s.mu.Unlock()
}

// Release gives a token back. If anyone waits, the token passes to the first
// waiter, whose Deferred fires on the calling goroutine before Release
// returns. Releasing more tokens than were acquired is a programming error
// and panics. Like [Lock.Release], a Release made while hand-offs are nested
// 100 deep leaves the firing to the hand-off under way.
func (s *Semaphore) Release() {
	s.mu.Lock()
	if s.limit == 0 {
		s.mu.Unlock()
		panicMisuse("Semaphore.Release", errZeroSemaphore)
	}
	if s.tokens == s.limit {
		s.mu.Unlock()
		panicMisuse("Semaphore.Release", errOverReleased)
	}
	s.passOn()
	s.relay.drain(&s.mu, s.passOnLost)
}

// passOn gives a released token to the first waiter, to be fired by the
// relay, or makes it free. Called with s.mu held.
func (s *Semaphore) passOn() {
	if s.waiting.len() == 0 {
		s.tokens++
		return
	}
	s.relay.push(s.waiting.pop(), s)
}

// passOnLost passes on a token that a cancelled waiter could not take.
func (s *Semaphore) passOnLost(*Semaphore) { s.passOn() }

// Tokens reports how many tokens are free: the limit less the tokens held.
// It is a snapshot: another goroutine may change it at once.
func (s *Semaphore) Tokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// Limit reports how many tokens the Semaphore has in all: the number given
// to [NewSemaphore].
func (s *Semaphore) Limit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit
}

// Waiting reports how many Acquire calls wait for a token.
func (s *Semaphore) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting.len()
}
