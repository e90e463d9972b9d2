package basic_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// The benchmarks feed a stream of messages in 4 KiB chunks, as a
// transport's reads would bring them (messages cut across chunks), and
// report the cost per message.

const benchChunk = 4096

type countLines struct {
	basic.LineReceiver
	n int
}

func (c *countLines) LineReceived([]byte) { c.n++ }

type countOnly struct {
	basic.LineOnlyReceiver
	n int
}

func (c *countOnly) LineReceived([]byte) { c.n++ }

type countStrings struct {
	basic.Int32StringReceiver
	n int
}

func (c *countStrings) StringReceived([]byte) { c.n++ }

type countStrings16 struct {
	basic.Int16StringReceiver
	n int
}

func (c *countStrings16) StringReceived([]byte) { c.n++ }

type countNetstrings struct {
	basic.NetstringReceiver
	n int
}

func (c *countNetstrings) StringReceived([]byte) { c.n++ }

// lineStream is n lines of 40 bytes, with their delimiters.
func lineStream(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "PRIVMSG #twine :message number %08d\r\n", i)
	}
	return b.Bytes()
}

func chunks(stream []byte) [][]byte {
	var out [][]byte
	for len(stream) > 0 {
		n := min(benchChunk, len(stream))
		out = append(out, stream[:n])
		stream = stream[n:]
	}
	return out
}

// benchFeed feeds the chunks to p once per iteration and reports the cost
// per message.
func benchFeed(b *testing.B, feed func([]byte), perPass int, cs [][]byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(bytes.Join(cs, nil))))
	start := time.Now()
	passes := 0
	for b.Loop() {
		for _, c := range cs {
			feed(c)
		}
		passes++
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(passes*perPass), "ns/msg")
}

const benchMessages = 1000

func BenchmarkLineReceiver(b *testing.B) {
	p := &countLines{}
	p.Handler = p
	protocoltest.NewStringTransport().Connect(p)
	benchFeed(b, p.DataReceived, benchMessages, chunks(lineStream(benchMessages)))
}

func BenchmarkLineOnlyReceiver(b *testing.B) {
	p := &countOnly{}
	p.Handler = p
	protocoltest.NewStringTransport().Connect(p)
	benchFeed(b, p.DataReceived, benchMessages, chunks(lineStream(benchMessages)))
}

func intStream(size, n int) []byte {
	payload := bytes.Repeat([]byte("x"), 60)
	var b bytes.Buffer
	for range n {
		b.Write(prefixed(size, string(payload)))
	}
	return b.Bytes()
}

func BenchmarkInt32StringReceiver(b *testing.B) {
	p := &countStrings{}
	p.Handler = p
	protocoltest.NewStringTransport().Connect(p)
	benchFeed(b, p.DataReceived, benchMessages, chunks(intStream(4, benchMessages)))
}

func BenchmarkInt16StringReceiver(b *testing.B) {
	p := &countStrings16{}
	p.Handler = p
	protocoltest.NewStringTransport().Connect(p)
	benchFeed(b, p.DataReceived, benchMessages, chunks(intStream(2, benchMessages)))
}

func BenchmarkNetstringReceiver(b *testing.B) {
	var s bytes.Buffer
	for range benchMessages {
		s.WriteString("60:" + string(bytes.Repeat([]byte("x"), 60)) + ",")
	}
	p := &countNetstrings{}
	p.Handler = p
	protocoltest.NewStringTransport().Connect(p)
	benchFeed(b, p.DataReceived, benchMessages, chunks(s.Bytes()))
}

// BenchmarkSendLine is the cost of SendLine into a transport that only
// records.
func BenchmarkSendLine(b *testing.B) {
	p := &countLines{}
	p.Handler = p
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	line := []byte("PRIVMSG #twine :message number 00000000")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = p.SendLine(line)
		if i++; i%1024 == 0 {
			tr.Clear()
		}
	}
}
