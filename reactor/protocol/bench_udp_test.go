//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"errors"
	"net"
	"testing"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// BenchmarkUDPEcho measures a 64-byte datagram's round trip from a plain Go
// client (a connected net.UDPConn that writes, then reads the answer)
// through an echo server: twine's, a [UDPEcho] on a reactor running on
// its own goroutine, and plain Go's, a goroutine that reads from and
// writes to a net.UDPConn. The client is the same for both, so the
// difference is the servers'.
func BenchmarkUDPEcho(b *testing.B) {
	b.Run("twine", func(b *testing.B) {
		r := reactor.New(reactor.WithWatchdog(0))
		port, err := protocol.ListenUDP(r, "127.0.0.1:0", &UDPEcho{})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		defer func() {
			_ = r.Stop()
			if err := <-done; err != nil {
				b.Error(err)
			}
		}()
		udpEchoClient(b, port.LocalAddr().(*net.UDPAddr))
	})
	b.Run("go", func(b *testing.B) {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, protocol.DefaultMaxPacketSize)
			for {
				n, addr, err := conn.ReadFromUDPAddrPort(buf)
				if errors.Is(err, net.ErrClosed) {
					return
				}
				if err == nil {
					_, _ = conn.WriteToUDPAddrPort(buf[:n], addr)
				}
			}
		}()
		defer func() {
			conn.Close()
			<-done
		}()
		udpEchoClient(b, conn.LocalAddr().(*net.UDPAddr))
	})
}

// udpEchoClient sends a 64-byte datagram to server and waits for it to
// come back, once per op.
func udpEchoClient(b *testing.B, server *net.UDPAddr) {
	c, err := net.DialUDP("udp", nil, server)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 64)
	buf := make([]byte, 128)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if n, err := c.Read(buf); err != nil || n != len(msg) {
			b.Fatal(n, err)
		}
	}
}
