//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"context"
	"net"
)

// WaitReapers waits for the goroutines that wait for children to end: each
// does once its child has exited.
func WaitReapers() { reapers.Wait() }

// SetLookup makes TCPClientEndpoint and ConnectTCP look names up with f
// until t ends.
func SetLookup(t interface{ Cleanup(func()) }, f func(ctx context.Context, host string) ([]net.IPAddr, error)) {
	old := lookupIPAddr
	lookupIPAddr = f
	t.Cleanup(func() { lookupIPAddr = old })
}

// TLSClosing reports, for a TLS transport, how much its write buffer holds
// and whether the wait for the peer's close_notify is being timed.
func TLSClosing(t Transport) (buffered int, timed bool) {
	c := t.(*conn)
	return c.buffered(), c.tls != nil && c.tls.timer != nil
}

// OnTLSReadStopped makes f run, on the reactor goroutine, each time a TLS
// connection stops reading because its handshake's goroutine has too much
// left to read, until t ends.
func OnTLSReadStopped(t interface{ Cleanup(func()) }, f func()) {
	tlsReadStopped.Store(&f)
	t.Cleanup(func() { tlsReadStopped.Store(nil) })
}
