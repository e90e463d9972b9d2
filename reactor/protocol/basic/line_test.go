package basic_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// The tests in this file re-express Twisted's
// twisted/protocols/test/test_basic.py for LineReceiver.

// lineTester is Twisted's LineTester: a line receiver that acts on some
// lines (pause, rawpause, stop, len N, produce, unproduce) and reads raw
// data up to a length given by a "len N" line.
type lineTester struct {
	basic.LineReceiver
	clock    *scheduler.ManualClock
	received [][]byte
	length   int
}

func newLineTester(clock *scheduler.ManualClock) *lineTester {
	t := &lineTester{clock: clock}
	t.Handler = t
	t.Delimiter = []byte("\n")
	t.MaxLength = 64
	return t
}

func (t *lineTester) ConnectionMade(tr protocol.Transport) {
	t.LineReceiver.ConnectionMade(tr)
	t.received = [][]byte{}
}

func (t *lineTester) LineReceived(line []byte) {
	t.received = append(t.received, bytes.Clone(line))
	switch s := string(line); {
	case s == "":
		t.SetRawMode()
	case s == "pause":
		t.PauseProducing()
		t.clock.CallLater(0, t.ResumeProducing)
	case s == "rawpause":
		t.PauseProducing()
		t.SetRawMode()
		t.received = append(t.received, []byte{})
		t.clock.CallLater(0, t.ResumeProducing)
	case s == "stop":
		t.StopProducing()
	case len(s) > 4 && s[:4] == "len ":
		t.length, _ = strconv.Atoi(s[4:])
	case bytes.HasPrefix(line, []byte("produce")):
		t.Transport.RegisterProducer(t, false)
	case bytes.HasPrefix(line, []byte("unproduce")):
		t.Transport.UnregisterProducer()
	}
}

func (t *lineTester) RawDataReceived(data []byte) {
	n := min(t.length, len(data))
	data, rest := data[:n], data[n:]
	t.length -= len(data)
	last := len(t.received) - 1
	t.received[last] = append(t.received[last], data...)
	if t.length == 0 {
		t.SetLineMode(rest)
	}
}

func (t *lineTester) LineLengthExceeded(line []byte) {
	if len(line) > t.MaxLength+1 {
		t.SetLineMode(line[t.MaxLength+1:])
	}
}

// feedInPackets calls DataReceived with data cut into packets of size
// bytes, and a last empty one when size divides the length, as Twisted's
// tests do.
func feedInPackets(p protocol.Protocol, data []byte, size int) {
	for i := 0; i < len(data)/size+1; i++ {
		p.DataReceived(data[min(i*size, len(data)):min((i+1)*size, len(data))])
	}
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

const lineBuffer = "len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\nfoo 5\n\n1234567890123456789012345678901234567890123456789012345678901234567890\nlen 1\n\na"

var lineOutput = []string{
	"len 10", "0123456789", "len 5", "1234\n", "len 20", "foo 123", "0123456789\n012345678",
	"len 0", "foo 5", "", "67890", "len 1", "a",
}

// Lines and raw data come out the same whatever the packet size.
func TestLineReceiverBuffer(t *testing.T) {
	for size := 1; size < 10; size++ {
		a := newLineTester(nil)
		protocoltest.NewStringTransport().Connect(a)
		feedInPackets(a, []byte(lineBuffer), size)
		assert.Equal(t, lineOutput, strs(a.received), "packet size %d", size)
	}
}

// PauseProducing inside LineReceived holds the next lines until
// ResumeProducing.
func TestLineReceiverPausing(t *testing.T) {
	buf := []byte("twiddle1\ntwiddle2\npause\ntwiddle3\n")
	for size := 1; size < 10; size++ {
		clock := scheduler.NewManualClock()
		a := newLineTester(clock)
		tr := protocoltest.NewStringTransport()
		tr.Connect(a)
		feedInPackets(a, buf, size)
		assert.Equal(t, []string{"twiddle1", "twiddle2", "pause"}, strs(a.received), "packet size %d", size)
		assert.Equal(t, protocoltest.Paused, tr.ProducerState())
		clock.Advance(0)
		assert.Equal(t, []string{"twiddle1", "twiddle2", "pause", "twiddle3"}, strs(a.received), "packet size %d", size)
		assert.Equal(t, protocoltest.Producing, tr.ProducerState())
	}
}

// A pause taken while switching to raw mode holds the raw data too.
func TestLineReceiverRawPausing(t *testing.T) {
	buf := []byte("twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n")
	for size := 1; size < 10; size++ {
		clock := scheduler.NewManualClock()
		a := newLineTester(clock)
		protocoltest.NewStringTransport().Connect(a)
		feedInPackets(a, buf, size)
		assert.Equal(t, []string{"twiddle1", "twiddle2", "len 5", "rawpause", ""}, strs(a.received), "packet size %d", size)
		clock.Advance(0)
		assert.Equal(t, []string{"twiddle1", "twiddle2", "len 5", "rawpause", "12345", "twiddle3"}, strs(a.received), "packet size %d", size)
	}
}

// StopProducing inside LineReceived stops the lines for good, and stops
// the transport.
func TestLineReceiverStopProducing(t *testing.T) {
	buf := []byte("twiddle1\ntwiddle2\nstop\nmore\nstuff\n")
	for size := 1; size < 10; size++ {
		a := newLineTester(nil)
		tr := protocoltest.NewStringTransport()
		tr.Connect(a)
		feedInPackets(a, buf, size)
		assert.Equal(t, []string{"twiddle1", "twiddle2", "stop"}, strs(a.received), "packet size %d", size)
		assert.Equal(t, protocoltest.Stopped, tr.ProducerState())
		assert.True(t, tr.Aborted())
	}
}

// A LineReceiver registers itself as a pull producer from inside
// LineReceived without losing a line.
func TestLineReceiverAsProducer(t *testing.T) {
	a := newLineTester(nil)
	tr := protocoltest.NewStringTransport()
	tr.Connect(a)
	a.DataReceived([]byte("produce\nhello world\nunproduce\ngoodbye\n"))
	assert.Equal(t, []string{"produce", "hello world", "unproduce", "goodbye"}, strs(a.received))
	assert.Nil(t, tr.Producer())
}

type clearingReceiver struct {
	basic.LineReceiver
	line, rest []byte
}

func (c *clearingReceiver) LineReceived(line []byte) {
	c.line = bytes.Clone(line)
	c.rest = c.ClearLineBuffer()
}

// ClearLineBuffer returns what follows the current line and empties the
// buffer.
func TestLineReceiverClearLineBuffer(t *testing.T) {
	p := &clearingReceiver{}
	p.Handler = p
	p.DataReceived([]byte("foo\r\nbar\r\nbaz"))
	assert.Equal(t, "foo", string(p.line))
	assert.Equal(t, "bar\r\nbaz", string(p.rest))
	p.DataReceived([]byte("quux\r\n"))
	assert.Equal(t, "quux", string(p.line))
	assert.Empty(t, p.rest)
}

// flippingLineTester switches to raw mode after each line, and back after
// each raw byte.
type flippingLineTester struct {
	basic.LineReceiver
	lines [][]byte
}

func (f *flippingLineTester) LineReceived(line []byte) {
	f.lines = append(f.lines, bytes.Clone(line))
	f.SetRawMode()
}

func (f *flippingLineTester) RawDataReceived(data []byte) { f.SetLineMode(data[1:]) }

// Flipping modes many times on the same data does not recurse: the
// re-entrancy guard adds to the buffer instead.
func TestLineReceiverStackRecursion(t *testing.T) {
	const n = 100_000
	p := &flippingLineTester{}
	p.Handler = p
	p.Delimiter = []byte("\n")
	protocoltest.NewStringTransport().Connect(p)
	p.DataReceived(bytes.Repeat([]byte("x\nx"), n))
	assert.Equal(t, bytes.Repeat([]byte("x"), n), bytes.Join(p.lines, nil))
}

// discard is a LineReceiver that ignores its lines.
type discard struct{ basic.LineReceiver }

func (*discard) LineReceived([]byte) {}

func newDiscard() (*discard, *protocoltest.StringTransport) {
	p := &discard{}
	p.Handler = p
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	return p, tr
}

// A line over MaxLength closes the connection, with an error that says
// why.
func TestLineReceiverMaximumLineLength(t *testing.T) {
	p, tr := newDiscard()
	assert.Equal(t, 16384, basic.DefaultMaxLength)
	tr.Feed(append(bytes.Repeat([]byte("x"), basic.DefaultMaxLength+1), "\r\nr"...))
	assert.True(t, tr.Disconnecting())
	assert.ErrorIs(t, p.Err(), basic.ErrLineLengthExceeded)
}

// A finished line of MaxLength bytes passes even when the packet before
// ended with the first byte of the delimiter and took the total over
// MaxLength plus the delimiter.
func TestLineReceiverMaximumLineLengthPartialDelimiter(t *testing.T) {
	p := newLineTester(nil)
	p.MaxLength = 4
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	line := []byte("xxx")
	p.DataReceived(line)
	p.DataReceived([]byte(""))
	p.DataReceived(append([]byte("\n"), line...))
	assert.False(t, tr.Disconnecting())
	assert.Equal(t, []string{"xxx"}, strs(p.received))

	// The same with a two-byte delimiter cut between two packets.
	q := newLineTester(nil)
	q.MaxLength = 4
	q.Delimiter = []byte("\r\n")
	tr = protocoltest.NewStringTransport()
	tr.Connect(q)
	q.DataReceived([]byte("xxxx"))
	q.DataReceived([]byte("\r"))
	q.DataReceived([]byte("\nxxxx"))
	assert.False(t, tr.Disconnecting())
	assert.Equal(t, []string{"xxxx"}, strs(q.received))
}

// An unfinished line of MaxLength bytes followed by the start of the
// delimiter does not close the connection.
func TestLineReceiverNotQuiteMaximumLineLengthUnfinished(t *testing.T) {
	_, tr := newDiscard()
	tr.Feed(append(bytes.Repeat([]byte("x"), basic.DefaultMaxLength), '\r'))
	assert.False(t, tr.Disconnecting())
}

// An unfinished line of MaxLength plus the delimiter's length closes the
// connection.
func TestLineReceiverMaximumLineLengthRemaining(t *testing.T) {
	p, tr := newDiscard()
	tr.Feed(bytes.Repeat([]byte("x"), basic.DefaultMaxLength+2))
	assert.True(t, tr.Disconnecting())
	assert.ErrorIs(t, p.Err(), basic.ErrLineLengthExceeded)
}

// A handler without RawDataReceived cannot switch to raw mode (Twisted's
// rawDataReceived raises NotImplementedError).
func TestLineReceiverRawModeNeedsRawDataReceived(t *testing.T) {
	p, _ := newDiscard()
	assert.PanicsWithValue(t, "basic: LineReceiver.SetRawMode: the Handler has no RawDataReceived method", p.SetRawMode)
	assert.True(t, p.LineMode())
}

func TestLineReceiverNeedsAHandler(t *testing.T) {
	var r basic.LineReceiver
	assert.PanicsWithValue(t, "basic: LineReceiver.DataReceived: Handler is nil; set it to the protocol that embeds the LineReceiver",
		func() { r.DataReceived([]byte("x\r\n")) })
	assert.PanicsWithValue(t, "basic: LineReceiver.SendLine: not connected", func() { _ = r.SendLine(nil) })
}

// excessivelyLargeLineCatcher records what exceeds the limit.
type excessivelyLargeLineCatcher struct {
	basic.LineReceiver
	longLines [][]byte
}

func (*excessivelyLargeLineCatcher) LineReceived([]byte) {}

func (c *excessivelyLargeLineCatcher) LineLengthExceeded(line []byte) {
	c.longLines = append(c.longLines, bytes.Clone(line))
}

func newCatcher() *excessivelyLargeLineCatcher {
	c := &excessivelyLargeLineCatcher{}
	c.Handler = c
	c.MaxLength = 6
	protocoltest.NewStringTransport().Connect(c)
	return c
}

func TestLineLengthExceeded(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 6*2+2)
	tests := []struct {
		name        string
		input, want []byte
	}{
		// All the bytes of a long line with no delimiter.
		{"long unended line", long, long},
		// All the bytes after a short line's delimiter.
		{"long line after a short line", append([]byte("x\r\n"), long...), long},
		// A delimiter past the limit: everything.
		{"long line with delimiter", bytes.Join([][]byte{long, long}, []byte("\r\n")), bytes.Join([][]byte{long, long}, []byte("\r\n"))},
		{"multiple long lines", bytes.Repeat(append(bytes.Clone(long), "\r\n"...), 2), bytes.Repeat(append(bytes.Clone(long), "\r\n"...), 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCatcher()
			c.DataReceived(tt.input)
			assert.Equal(t, [][]byte{tt.want}, c.longLines)
		})
	}
}

// The lines after one that closed the connection, in the same chunk, are
// not delivered.
type closer struct {
	basic.LineReceiver
	lines []string
}

func (c *closer) LineReceived(line []byte) {
	c.lines = append(c.lines, string(line))
	if string(line) == "quit" {
		c.Transport.LoseConnection()
	}
}

func TestLineReceiverStopsAfterClose(t *testing.T) {
	c := &closer{}
	c.Handler = c
	tr := protocoltest.NewStringTransport()
	tr.Connect(c)
	tr.FeedString("a\r\nquit\r\nb\r\nc\r\n")
	assert.Equal(t, []string{"a", "quit"}, c.lines)
}

// Modes switch in the middle of a chunk; raw data is passed on as it
// comes, and a line handed over may be appended to without touching what
// follows it.
type modal struct {
	basic.LineReceiver
	events  []string
	rawLeft int
}

func (m *modal) LineReceived(line []byte) {
	line = append(line, '!') // must not clobber the buffer
	m.events = append(m.events, "line:"+string(line))
	if n, err := strconv.Atoi(string(line[:len(line)-1])); err == nil {
		m.rawLeft = n
		m.SetRawMode()
	}
}

func (m *modal) RawDataReceived(data []byte) {
	n := min(m.rawLeft, len(data))
	m.events = append(m.events, "raw:"+string(data[:n]))
	m.rawLeft -= n
	if m.rawLeft == 0 {
		m.SetLineMode(data[n:])
	}
}

func TestLineReceiverModeSwitchesInMidChunk(t *testing.T) {
	input := "hello\r\n3\r\nabcworld\r\n2\r\nxy\r\nbye\r\n"
	want := []string{"line:hello!", "line:3!", "raw:abc", "line:world!", "line:2!", "raw:xy", "line:!", "line:bye!"}
	for size := 1; size <= len(input); size++ {
		m := &modal{}
		m.Handler = m
		server := protocoltest.NewStringTransport()
		server.Connect(m)
		for i := 0; i < len(input); i += size {
			server.FeedString(input[i:min(i+size, len(input))])
		}
		// Raw data comes in as many pieces as the chunks cut it in; join
		// neighbouring raw events to compare.
		require.Equal(t, want, joinRaw(m.events), "chunk size %d", size)
	}
}

func joinRaw(events []string) []string {
	var out []string
	for _, e := range events {
		if n := len(out); n > 0 && len(e) > 4 && e[:4] == "raw:" && len(out[n-1]) > 4 && out[n-1][:4] == "raw:" {
			out[n-1] += e[4:]
			continue
		}
		out = append(out, e)
	}
	return out
}

type echoLines struct{ basic.LineReceiver }

func (e *echoLines) LineReceived(line []byte) { _ = e.SendLine(line) }

// Through a pump that cuts the stream in every size, the lines come out
// whole, and SendLine adds the delimiter.
func TestLineReceiverOverAPump(t *testing.T) {
	for size := 1; size < 12; size++ {
		server := &echoLines{}
		server.Handler = server
		client := &protocoltest.AccumulatingProtocol{}
		pump := protocoltest.Connect(server, client, protocoltest.WithChunkSize(size))
		_, _ = client.Transport.Write([]byte("one\r\ntwo\r\nthree\r\n"))
		pump.Flush()
		assert.Equal(t, "one\r\ntwo\r\nthree\r\n", string(client.Data), "chunk size %d", size)
	}
}

// consumingProtocol pauses itself after every line, and writes the line
// to its transport: Twisted's ConsumingProtocol.
type consumingProtocol struct{ basic.LineReceiver }

func (c *consumingProtocol) LineReceived(line []byte) {
	_, _ = c.Transport.Write(line)
	_, _ = c.Transport.Write([]byte("|"))
	c.PauseProducing()
}

// Twisted's ProducerTests.test_pauseResume: a paused LineReceiver delivers
// no lines, and delivers the waiting ones when resumed.
func TestLineReceiverPauseResume(t *testing.T) {
	p := &consumingProtocol{}
	p.Handler = p
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)

	p.DataReceived([]byte("hello, "))
	assert.Empty(t, tr.String())
	assert.Equal(t, protocoltest.Producing, tr.ProducerState())
	assert.False(t, p.Paused())

	p.DataReceived([]byte("world\r\n"))
	assert.Equal(t, "hello, world|", tr.String())
	assert.Equal(t, protocoltest.Paused, tr.ProducerState())
	assert.True(t, p.Paused())

	p.ResumeProducing()
	assert.Equal(t, "hello, world|", tr.String())
	assert.Equal(t, protocoltest.Producing, tr.ProducerState())
	assert.False(t, p.Paused())

	p.DataReceived([]byte("hello\r\nworld\r\n"))
	assert.Equal(t, "hello, world|hello|", tr.String())
	assert.True(t, p.Paused())

	p.ResumeProducing()
	assert.Equal(t, "hello, world|hello|world|", tr.String())
	assert.True(t, p.Paused())

	p.DataReceived([]byte("goodbye\r\n"))
	assert.Equal(t, "hello, world|hello|world|", tr.String())

	p.ResumeProducing()
	assert.Equal(t, "hello, world|hello|world|goodbye|", tr.String())
	assert.True(t, p.Paused())

	p.ResumeProducing()
	assert.Equal(t, "hello, world|hello|world|goodbye|", tr.String())
	assert.False(t, p.Paused())
	assert.Equal(t, protocoltest.Producing, tr.ProducerState())
}

// A peer that never sends a delimiter cannot make the receiver hold more
// than the limit and a chunk, even when LineLengthExceeded keeps the
// connection open.
func TestLineReceiverBufferStaysBounded(t *testing.T) {
	c := newCatcher()
	c.MaxLength = 16384
	chunk := bytes.Repeat([]byte("x"), 4096)
	for range 256 { // 1 MiB
		c.DataReceived(chunk)
		assert.LessOrEqual(t, len(c.ClearLineBufferPeek()), c.MaxLength+2+len(chunk))
	}
	assert.NotEmpty(t, c.longLines)
	for _, l := range c.longLines {
		assert.LessOrEqual(t, len(l), c.MaxLength+2+len(chunk))
	}
}

// ClearLineBufferPeek returns what the buffer holds, and puts it back.
func (c *excessivelyLargeLineCatcher) ClearLineBufferPeek() []byte {
	b := c.ClearLineBuffer()
	c.DataReceived(b)
	return b
}
