//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"io"
	"os/exec"
	"testing"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// line is what the round-trip benchmarks send through cat: 64 bytes.
var line = append(bytes.Repeat([]byte("twine "), 10), "...\n"...)

// linePinger writes a line to its child, waits for it to come back, and
// writes it again, for as long as b.Loop says; then it closes the child's
// standard input and stops the reactor once the child has ended.
type linePinger struct {
	protocol.ProcessBase
	b   *testing.B
	r   *reactor.Reactor
	got int
	err error
}

func (p *linePinger) ConnectionMade(t protocol.ProcessTransport) {
	p.ProcessBase.ConnectionMade(t)
	p.next()
}

func (p *linePinger) next() {
	if !p.b.Loop() {
		p.Transport.CloseStdin()
		return
	}
	p.Transport.Write(line)
}

func (p *linePinger) OutReceived(data []byte) {
	p.got += len(data)
	if p.got < len(line) {
		return
	}
	p.got = 0
	p.next()
}

func (p *linePinger) ProcessEnded(reason error) {
	p.err = reason
	p.r.Stop()
}

// BenchmarkProcessLineRoundTrip measures a line's round trip through a cat
// child on the reactor: a write to its standard input, the engine's pass,
// and a read of its standard output, per op.
func BenchmarkProcessLineRoundTrip(b *testing.B) {
	b.ReportAllocs()
	r := reactor.New(reactor.WithWatchdog(0))
	p := &linePinger{b: b, r: r}
	r.CallWhenRunning(func() {
		if _, err := protocol.SpawnProcess(r, p, "cat", nil); err != nil {
			b.Error(err)
			r.Stop()
		}
	})
	if err := r.Run(); err != nil {
		b.Fatal(err)
	}
	if p.err != protocol.ErrProcessDone {
		b.Fatal("the child ended with", p.err)
	}
}

// BenchmarkExecLineRoundTrip is the same round trip with os/exec and its
// pipes, the goroutine writing and then reading back the line itself.
func BenchmarkExecLineRoundTrip(b *testing.B) {
	b.ReportAllocs()
	cmd := exec.Command("cat")
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, len(line))
	for b.Loop() {
		if _, err := in.Write(line); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(out, buf); err != nil {
			b.Fatal(err)
		}
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
}
