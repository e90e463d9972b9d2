//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"context"
	"net"
)

// WaitReapers waits for the goroutines that wait for children to end: each
// does once its child has exited.
func WaitReapers() { reapers.Wait() }

// SetLookup makes TCPClientEndpoint look names up with f until t ends.
func SetLookup(t interface{ Cleanup(func()) }, f func(ctx context.Context, host string) ([]net.IPAddr, error)) {
	old := lookupIPAddr
	lookupIPAddr = f
	t.Cleanup(func() { lookupIPAddr = old })
}
