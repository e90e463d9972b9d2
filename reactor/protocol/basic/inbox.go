package basic

import (
	"bytes"

	"github.com/twinego/twine/reactor/protocol"
)

// inbox holds the bytes a receiver has not parsed yet. While DataReceived
// runs, it borrows the caller's slice instead of copying it, so that the
// messages of a chunk reach their handler without a copy; what is left at
// the end is copied into storage of the inbox's own, reused from call to
// call.
//
// Slices handed to a handler point into the borrowed slice or the storage,
// so two rules keep them intact while the handler runs: bytes added during
// a callback (a nested DataReceived, SetLineMode(extra)) go after what is
// there, never over it; and storage given away whole (take) is forgotten
// rather than reused.
type inbox struct {
	buf      []byte // the bytes not yet parsed are buf[off:]
	off      int
	store    []byte // the inbox's own storage (length 0), reused
	borrowed bool   // buf is the caller's slice
	taken    []byte // what take last handed out, during this DataReceived
}

func (b *inbox) empty() bool   { return b.off >= len(b.buf) }
func (b *inbox) bytes() []byte { return b.buf[b.off:] }
func (b *inbox) consume(n int) { b.off += n }

// begin starts a DataReceived with data: the outermost one, when nothing
// the inbox holds is in a handler's hands.
func (b *inbox) begin(data []byte) {
	b.taken = nil
	if b.empty() {
		b.buf, b.off, b.borrowed = data, 0, true
		return
	}
	rest := b.buf[b.off:]
	b.buf = append(b.buf[:0], rest...) // owned: move what is left to the front
	b.buf = append(b.buf, data...)
	b.store = b.buf[:0]
	b.off = 0
}

// add appends data while a handler may hold slices of the inbox.
func (b *inbox) add(data []byte) {
	if len(data) == 0 {
		return
	}
	if b.empty() && isSuffix(data, b.taken) {
		// The handler gives back the end of what it was handed, as
		// SetLineMode(data[n:]) does: parse it where it lies rather than
		// copy it, so that a chunk that flips modes often costs no more
		// than one that does not.
		b.buf, b.off, b.borrowed = data, 0, true
		b.taken = nil
		return
	}
	if b.borrowed {
		own := append(b.store[:0], b.buf[b.off:]...)
		b.buf = append(own, data...)
		b.off = 0
		b.borrowed = false
	} else {
		b.buf = append(b.buf, data...)
	}
	b.store = b.buf[:0]
}

// take removes and returns every byte not yet parsed. Storage given away
// this way is not reused.
func (b *inbox) take() []byte {
	d := b.buf[b.off:]
	d = d[:len(d):len(d)]
	if !b.borrowed {
		b.store = nil
	}
	b.buf, b.off, b.borrowed = nil, 0, false
	b.taken = d
	return d
}

// isSuffix reports whether s is the end of t, in the same memory.
func isSuffix(s, t []byte) bool {
	return len(s) > 0 && len(s) <= len(t) && &t[len(t)-len(s)] == &s[0]
}

// clear removes every byte not yet parsed and returns a copy of them.
func (b *inbox) clear() []byte {
	d := bytes.Clone(b.buf[b.off:])
	if b.borrowed {
		b.buf, b.off, b.borrowed = nil, 0, false
	} else {
		b.off = len(b.buf)
	}
	return d
}

// end finishes the outermost DataReceived: a borrowed rest is copied into
// the inbox's storage, which the caller's slice must not outlive.
func (b *inbox) end() {
	b.taken = nil
	if b.borrowed {
		rest := b.buf[b.off:]
		b.buf, b.off, b.borrowed = nil, 0, false
		if len(rest) > 0 {
			b.buf = append(b.store[:0], rest...)
			b.store = b.buf[:0]
		}
		return
	}
	if b.empty() {
		b.buf, b.off = b.store[:0], 0
	}
}

// closeWatch returns t as a transport that can say whether it is closing,
// or nil for a nil transport or one that cannot (taken as never closing).
// A receiver asks once per DataReceived, not once per message.
func closeWatch(t protocol.Transport) protocol.DisconnectingTransport {
	d, _ := t.(protocol.DisconnectingTransport)
	return d
}
