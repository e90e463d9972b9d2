package remote

import (
	"cmp"
	"errors"
	"slices"
	"sync"
)

// acknowledger is the side of an AMQP channel that settles its deliveries:
// *amqp.Channel.
type acknowledger interface {
	Ack(tag uint64, multiple bool) error
	Nack(tag uint64, multiple, requeue bool) error
	Reject(tag uint64, requeue bool) error
}

// acker settles a worker's tasks on the channel they were delivered on,
// acknowledging several with one basic.ack when it can: a quorum queue
// takes each acknowledgement as a command of its log, so one that covers a
// run of tasks costs the broker about what one task's costs.
//
// An acknowledgement with the multiple flag covers every delivery of the
// channel up to its tag still unsettled, so the acker knows each delivery
// (add, in the order they come) and where it stands: running; answered,
// its result published and the broker's confirm awaited; ready, its
// acknowledgement due; settled. Tasks finish in any order, so a task ready
// behind one still answered is held until that one is settled too, which
// its confirm soon brings, and both go in one acknowledgement. A task ready
// behind one still running is acknowledged alone at once: a running task
// may take any time, and a task held back keeps its place in the prefetch
// window and, should the worker die, runs again. Rejections and requeues
// go at once, alone, before any acknowledgement that would cover them.
//
// The worker's confirmer marks tasks ready as their results' confirms come,
// and flushes after each batch of confirms; a session that ends flushes
// whatever is left.
//
// What is sent is decided and sent under sendMu, so that it reaches the
// channel in the order decided; the entries are kept under mu, which is
// never held across a write to the connection, so that add does not wait
// for a write that the broker is slow to take.
type acker struct {
	ch acknowledger

	sendMu sync.Mutex
	sends  []ackSend // flushing's, in sendMu

	mu   sync.Mutex
	q    []ackEntry // the deliveries in the order they came, from head
	head int        // q[:head] are settled
	held int        // ready entries past head
	live int        // entries not settled
}

type ackEntry struct {
	tag   uint64
	state ackState
}

type ackState uint8

const (
	ackRunning  ackState = iota // delivered, not answered
	ackAnswered                 // its result published, the confirm awaited
	ackReady                    // to acknowledge
	ackSettled                  // acknowledged, rejected or handed back
)

// ackSend is an acknowledgement to send.
type ackSend struct {
	tag      uint64
	multiple bool
}

func newAcker(ch acknowledger) *acker { return &acker{ch: ch} }

// add records a delivery; tags come in increasing order.
func (a *acker) add(tag uint64) {
	a.mu.Lock()
	a.compact()
	a.q = append(a.q, ackEntry{tag: tag})
	a.live++
	a.mu.Unlock()
}

// answered records that tag's result is published.
func (a *acker) answered(tag uint64) { a.mark(tag, ackAnswered) }

// ack marks tag's acknowledgement as due; the next flush sends it.
func (a *acker) ack(tag uint64) { a.mark(tag, ackReady) }

func (a *acker) mark(tag uint64, s ackState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e := a.find(tag); e != nil && e.state < s {
		if s == ackReady {
			a.held++
		}
		e.state = s
	}
}

// ackNow acknowledges tag alone, at once.
func (a *acker) ackNow(tag uint64) error {
	return a.settle(tag, func() error { return a.ch.Ack(tag, false) })
}

// nack hands tag back to the broker (requeue) or dead-letters it, at once.
func (a *acker) nack(tag uint64, requeue bool) error {
	return a.settle(tag, func() error { return a.ch.Nack(tag, false, requeue) })
}

// reject dead-letters tag, at once.
func (a *acker) reject(tag uint64) error {
	return a.settle(tag, func() error { return a.ch.Reject(tag, false) })
}

// errSettled says that a delivery was settled already, or never added: the
// broker would close the channel on a second settlement.
var errSettled = errors.New("remote: the delivery is settled already")

// settle sends what settles tag, unless it is settled already.
func (a *acker) settle(tag uint64, send func() error) error {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	a.mu.Lock()
	e := a.find(tag)
	if e != nil {
		a.settled(e)
		a.compact()
	}
	a.mu.Unlock()
	if e == nil {
		return errSettled
	}
	return send()
}

// flush acknowledges the ready tasks at the front in one basic.ack, and
// those behind a running task one by one; those behind an answered one
// stay for a later flush.
func (a *acker) flush() { a.flushing(false) }

// flushAll acknowledges every ready task: the channel is about to close.
func (a *acker) flushAll() { a.flushing(true) }

func (a *acker) flushing(all bool) {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	a.mu.Lock()
	sends := a.sends[:0]
	var last uint64
	for ; a.head < len(a.q); a.head++ {
		e := &a.q[a.head]
		if e.state == ackReady {
			last = e.tag
			a.settled(e)
		} else if e.state != ackSettled {
			break
		}
	}
	if last != 0 {
		sends = append(sends, ackSend{last, true})
	}
	running := all
	for i := a.head; i < len(a.q) && a.held > 0; i++ {
		switch e := &a.q[i]; e.state {
		case ackRunning:
			running = true
		case ackReady:
			if running {
				a.settled(e)
				sends = append(sends, ackSend{e.tag, false})
			}
		}
	}
	a.compact()
	a.mu.Unlock()
	for _, s := range sends {
		_ = a.ch.Ack(s.tag, s.multiple)
	}
	a.sends = sends[:0]
}

// settled marks e settled, in a.mu.
func (a *acker) settled(e *ackEntry) {
	if e.state == ackSettled {
		return
	}
	if e.state == ackReady {
		a.held--
	}
	e.state = ackSettled
	a.live--
}

// compact drops the settled entries when they are most of q, so that q
// stays within about twice the deliveries unsettled (at most the prefetch
// window), however long the task at the front runs.
func (a *acker) compact() {
	if a.head == len(a.q) {
		a.q, a.head = a.q[:0], 0
		return
	}
	if len(a.q) < 64 || (a.head <= len(a.q)/2 && len(a.q)-a.head <= 2*a.live) {
		return
	}
	n := 0
	for _, e := range a.q[a.head:] {
		if e.state != ackSettled {
			a.q[n] = e
			n++
		}
	}
	clear(a.q[n:])
	a.q, a.head = a.q[:n], 0
}

// find returns tag's entry if it is not settled yet, in a.mu. The entries
// are in tag order.
func (a *acker) find(tag uint64) *ackEntry {
	k, ok := slices.BinarySearchFunc(a.q[a.head:], tag, func(e ackEntry, tag uint64) int { return cmp.Compare(e.tag, tag) })
	if !ok || a.q[a.head+k].state == ackSettled {
		return nil
	}
	return &a.q[a.head+k]
}
