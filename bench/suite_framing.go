package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// The framing suite: the per-message cost of the framing protocols of
// reactor/protocol/basic, fed the same stream as bench/twisted/
// framing_bench.py feeds Twisted's: framingMessages messages in
// framingChunk-byte chunks, as a transport's reads would bring them, so
// that messages are cut across chunks.
func framingSuite() suite {
	twisted := &script{
		comparison: "twisted",
		file:       "twisted/framing_bench.py",
		args: func(cfg *config) []string {
			if cfg.quick {
				return []string{"--target", "0.05"}
			}
			return []string{"--target", "0.2"}
		},
	}
	return suite{
		name: "framing",
		doc:  "Framing: a stream cut into messages by basic.LineReceiver and Int32StringReceiver",
		scenarios: []scenario{
			{
				name:         "line_receiver",
				doc:          "LineReceiver: 1,000 lines of 40 bytes in 4 KiB chunks, per line",
				metrics:      []metric{timeMetric("msg", "line_receiver")},
				twine:        micro(perOp(framingMessages, feedLines())),
				baseline:     micro(perOp(framingMessages, scanLines())),
				baselineName: "bufio.Scanner",
				other:        twisted.round("line_receiver"),
			},
			{
				name:    "int32_receiver",
				doc:     "Int32StringReceiver: 1,000 strings of 60 bytes in 4 KiB chunks, per string",
				metrics: []metric{timeMetric("msg", "int32_receiver")},
				twine:   micro(perOp(framingMessages, feedInt32())),
				other:   twisted.round("int32_receiver"),
			},
		},
	}
}

const (
	framingMessages = 1000
	framingChunk    = 4096
)

// framingLines is the line stream: framingMessages lines of 40 bytes with
// their CRLF, the same as framing_bench.py's.
func framingLines() []byte {
	var b bytes.Buffer
	for i := range framingMessages {
		fmt.Fprintf(&b, "PRIVMSG #twine :message number %08d\r\n", i)
	}
	return b.Bytes()
}

// framingStrings is the Int32 stream: framingMessages strings of 60 bytes.
func framingStrings() []byte {
	var b bytes.Buffer
	payload := bytes.Repeat([]byte("x"), 60)
	for range framingMessages {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(payload))))
		b.Write(payload)
	}
	return b.Bytes()
}

func framingChunks(stream []byte) [][]byte {
	var out [][]byte
	for len(stream) > 0 {
		n := min(framingChunk, len(stream))
		out = append(out, stream[:n])
		stream = stream[n:]
	}
	return out
}

type benchLines struct {
	basic.LineReceiver
	n int
}

func (l *benchLines) LineReceived([]byte) { l.n++ }

type benchStrings struct {
	basic.Int32StringReceiver
	n int
}

func (s *benchStrings) StringReceived([]byte) { s.n++ }

// feedLines feeds the line stream to a LineReceiver, and checks the count.
func feedLines() func() error {
	chunks := framingChunks(framingLines())
	p := &benchLines{}
	p.Handler = p
	protocoltest.NewStringTransport().Connect(p)
	return func() error {
		p.n = 0
		for _, c := range chunks {
			p.DataReceived(c)
		}
		if p.n != framingMessages {
			return fmt.Errorf("LineReceiver delivered %d lines, want %d", p.n, framingMessages)
		}
		return nil
	}
}

// scanLines splits the same stream with a bufio.Scanner reading the same
// chunks: plain Go's way of cutting lines.
func scanLines() func() error {
	chunks := framingChunks(framingLines())
	r := &chunkReader{}
	buf := make([]byte, 0, framingChunk)
	work := make([][]byte, len(chunks))
	return func() error {
		copy(work, chunks) // Read consumes the chunks it is given
		r.chunks = work
		sc := bufio.NewScanner(r)
		sc.Buffer(buf, bufio.MaxScanTokenSize) // reused, as the receiver's is
		n := 0
		for sc.Scan() {
			n++
		}
		if n != framingMessages {
			return fmt.Errorf("bufio.Scanner found %d lines, want %d", n, framingMessages)
		}
		return sc.Err()
	}
}

// chunkReader returns its chunks one Read at a time.
type chunkReader struct{ chunks [][]byte }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if n == len(c.chunks[0]) {
		c.chunks = c.chunks[1:]
	} else {
		c.chunks[0] = c.chunks[0][n:]
	}
	return n, nil
}

// feedInt32 feeds the string stream to an Int32StringReceiver.
func feedInt32() func() error {
	chunks := framingChunks(framingStrings())
	p := &benchStrings{}
	p.Handler = p
	protocoltest.NewStringTransport().Connect(p)
	return func() error {
		p.n = 0
		for _, c := range chunks {
			p.DataReceived(c)
		}
		if p.n != framingMessages {
			return fmt.Errorf("Int32StringReceiver delivered %d strings, want %d", p.n, framingMessages)
		}
		return nil
	}
}
