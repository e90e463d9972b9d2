package protocoltest

import "github.com/twinego/twine/reactor/protocol"

// AccumulatingProtocol is a protocol that keeps what happens to it, for
// tests: Twisted's AccumulatingProtocol.
type AccumulatingProtocol struct {
	protocol.Base

	// Made is true once ConnectionMade has been called.
	Made bool
	// Data holds every byte DataReceived was given, in order.
	Data []byte
	// Closed is true once ConnectionLost has been called.
	Closed bool
	// Reason is the reason ConnectionLost was given.
	Reason error
	// LostCount counts the calls of ConnectionLost (one, on a correct
	// transport).
	LostCount int
}

// ConnectionMade keeps the transport and sets Made.
func (p *AccumulatingProtocol) ConnectionMade(t protocol.Transport) {
	p.Base.ConnectionMade(t)
	p.Made = true
}

// DataReceived appends data to Data.
func (p *AccumulatingProtocol) DataReceived(data []byte) { p.Data = append(p.Data, data...) }

// ConnectionLost sets Closed and Reason.
func (p *AccumulatingProtocol) ConnectionLost(reason error) {
	p.Base.ConnectionLost(reason)
	p.Closed = true
	p.Reason = reason
	p.LostCount++
}
