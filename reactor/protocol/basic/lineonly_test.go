package basic_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// lineOnlyTester is Twisted's LineOnlyTester: it keeps the lines it gets.
type lineOnlyTester struct {
	basic.LineOnlyReceiver
	received []string
}

func (l *lineOnlyTester) LineReceived(line []byte) { l.received = append(l.received, string(line)) }

func newLineOnlyTester() (*lineOnlyTester, *protocoltest.StringTransport) {
	l := &lineOnlyTester{}
	l.Handler = l
	l.Delimiter = []byte("\n")
	l.MaxLength = 64
	tr := protocoltest.NewStringTransport()
	tr.Connect(l)
	return l, tr
}

// Lines fed one byte at a time come out whole.
func TestLineOnlyReceiverBuffer(t *testing.T) {
	buffer := "foo\n    bleakness\n    desolation\n    plastic forks\n    "
	l, tr := newLineOnlyTester()
	for i := range len(buffer) {
		tr.FeedString(buffer[i : i+1])
	}
	assert.Equal(t, []string{"foo", "    bleakness", "    desolation", "    plastic forks"}, l.received)
}

// A line longer than MaxLength closes the connection, with an error that
// says why.
func TestLineOnlyReceiverGreaterThanMaximumLineLength(t *testing.T) {
	l, tr := newLineOnlyTester()
	tr.Feed(append(bytes.Repeat([]byte("x"), 64+1+1), "\r\nr"...))
	assert.True(t, tr.Disconnecting())
	assert.ErrorIs(t, l.Err(), basic.ErrLineLengthExceeded)

	// And so do more than MaxLength bytes without a delimiter.
	l, tr = newLineOnlyTester()
	tr.Feed(bytes.Repeat([]byte("x"), 65))
	assert.True(t, tr.Disconnecting())
	assert.Empty(t, l.received)

	// MaxLength bytes without a delimiter wait for more.
	_, tr = newLineOnlyTester()
	tr.Feed(bytes.Repeat([]byte("x"), 64))
	assert.False(t, tr.Disconnecting())
}

type lineOnlyCloser struct{ lineOnlyTester }

func (c *lineOnlyCloser) LineReceived(line []byte) {
	c.lineOnlyTester.LineReceived(line)
	if string(line) == "quit" {
		c.Transport.LoseConnection()
	}
}

// No line of a chunk is delivered after one closed the connection, nor
// any once the transport is closing.
func TestLineOnlyReceiverStopsOnClose(t *testing.T) {
	c := &lineOnlyCloser{}
	c.Handler = c
	tr := protocoltest.NewStringTransport()
	tr.Connect(c)
	tr.FeedString("a\r\nquit\r\nb\r\n")
	assert.Equal(t, []string{"a", "quit"}, c.received)
	c.DataReceived([]byte("c\r\n"))
	assert.Equal(t, []string{"a", "quit"}, c.received)
}

func TestLineOnlyReceiverSendLineAndMisuse(t *testing.T) {
	l, tr := newLineOnlyTester()
	assert.NoError(t, l.SendLine([]byte("hi")))
	assert.Equal(t, "hi\n", tr.String())
	var r basic.LineOnlyReceiver
	assert.Panics(t, func() { r.DataReceived([]byte("x")) })
	assert.Panics(t, func() { _ = r.SendLine(nil) })
}
