package cooperate

import "sync/atomic"

// Progress counts the elements of a [Parallel] or [Map] as they go, for a
// progress bar: give it with [WithProgress], and read it from any goroutine,
// at any time (from a [LoopingCall], say). An element is started when body
// is called on it, done once its result has been handed over, and failed
// once it has failed, for whatever reason (cancelled ones too). The zero
// value counts from zero; a Progress given to several loops adds them up.
type Progress struct {
	started, done, failed atomic.Int64
}

// Started returns how many elements have been taken from the iterator and
// given to body.
func (p *Progress) Started() int { return int(p.started.Load()) }

// Done returns how many elements have succeeded and been handed over.
func (p *Progress) Done() int { return int(p.done.Load()) }

// Failed returns how many elements have failed.
func (p *Progress) Failed() int { return int(p.failed.Load()) }

// InFlight returns how many elements have started and not yet been counted
// as done or failed. It is never negative, even while other goroutines
// count.
func (p *Progress) InFlight() int {
	// Read the ends first: an element is started before it can end.
	ended := p.done.Load() + p.failed.Load()
	return int(p.started.Load() - ended)
}
