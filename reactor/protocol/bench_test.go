//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"net"
	"testing"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// pinger sends a message, waits for it to come back, and sends it again,
// for as long as b.Loop says; then it stops the reactor. It runs on the
// reactor, which runs on the benchmark's goroutine, so b.Loop is called
// there.
type pinger struct {
	protocol.Base
	protocol.ClientFactoryBase
	b    *testing.B
	r    *reactor.Reactor
	msg  []byte
	got  int
	done bool
}

func (p *pinger) BuildProtocol(net.Addr) protocol.Protocol { return p }

func (p *pinger) ConnectionMade(t protocol.Transport) {
	p.Base.ConnectionMade(t)
	p.next()
}

func (p *pinger) next() {
	if !p.b.Loop() {
		p.done = true
		p.Transport.LoseConnection()
		return
	}
	p.Transport.Write(p.msg)
}

func (p *pinger) DataReceived(data []byte) {
	p.got += len(data)
	if p.got < len(p.msg) {
		return
	}
	p.got = 0
	p.next()
}

func (p *pinger) ClientConnectionLost(protocol.Connector, error)   { p.r.Stop() }
func (p *pinger) ClientConnectionFailed(protocol.Connector, error) { p.r.Stop() }

// benchmarkRoundTrip measures a message's round trip through an echo
// server, client and server on the same reactor: two reads, two writes and
// the engine's passes, per op.
func benchmarkRoundTrip(b *testing.B, network string, size int) {
	b.ReportAllocs()
	r := reactor.New(reactor.WithWatchdog(0))
	var port *protocol.Port
	var err error
	echo := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} })
	if network == "unix" {
		port, err = protocol.ListenUnix(r, b.TempDir()+"/s", echo)
	} else {
		port, err = protocol.ListenTCP(r, "127.0.0.1:0", echo)
	}
	if err != nil {
		b.Fatal(err)
	}
	p := &pinger{b: b, r: r, msg: make([]byte, size)}
	if network == "unix" {
		protocol.ConnectUnix(r, port.Addr().String(), p)
	} else {
		protocol.ConnectTCP(r, port.Addr().String(), p)
	}
	if err := r.Run(); err != nil {
		b.Fatal(err)
	}
	if !p.done {
		b.Fatal("the connection ended before the benchmark")
	}
}

func BenchmarkRoundTripTCP64(b *testing.B)  { benchmarkRoundTrip(b, "tcp", 64) }
func BenchmarkRoundTripUnix64(b *testing.B) { benchmarkRoundTrip(b, "unix", 64) }
func BenchmarkRoundTripTCP16K(b *testing.B) { benchmarkRoundTrip(b, "tcp", 16<<10) }
