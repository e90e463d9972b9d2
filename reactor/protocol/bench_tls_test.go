//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// tlsPinger is a pinger that starts once its handshake has ended, so that
// the handshake is not timed.
type tlsPinger struct{ *pinger }

func (p *tlsPinger) BuildProtocol(net.Addr) protocol.Protocol { return p }
func (p *tlsPinger) ConnectionMade(t protocol.Transport)      { p.Base.ConnectionMade(t) }
func (p *tlsPinger) HandshakeCompleted()                      { p.next() }

// BenchmarkTLSRoundTrip64 measures a 64-byte message's round trip through
// a TLS echo server on loopback: twine's, with the client on the same
// reactor, and the plain Go way, crypto/tls with a goroutine per
// connection and a blocking client. Run with -count to interleave them.
func BenchmarkTLSRoundTrip64(b *testing.B) {
	b.Run("twine", func(b *testing.B) { benchmarkTLSRoundTripTwine(b, 64) })
	b.Run("gotls", func(b *testing.B) { benchmarkTLSRoundTripGo(b, 64) })
}

func benchmarkTLSRoundTripTwine(b *testing.B, size int) {
	b.ReportAllocs()
	sc, cc := exampleConfigs()
	r := reactor.New(reactor.WithWatchdog(0))
	port, err := protocol.ListenTLS(r, "127.0.0.1:0", sc,
		protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} }))
	if err != nil {
		b.Fatal(err)
	}
	p := &tlsPinger{&pinger{b: b, r: r, msg: make([]byte, size)}}
	protocol.ConnectTLS(r, port.Addr().String(), cc, p)
	if err := r.Run(); err != nil {
		b.Fatal(err)
	}
	if !p.done {
		b.Fatal("the connection ended before the benchmark")
	}
}

func benchmarkTLSRoundTripGo(b *testing.B, size int) {
	b.ReportAllocs()
	sc, cc := exampleConfigs()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
	})
	defer func() {
		ln.Close()
		wg.Wait()
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), cc)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg, got := make([]byte, size), make([]byte, size)
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			b.Fatal(err)
		}
	}
}
