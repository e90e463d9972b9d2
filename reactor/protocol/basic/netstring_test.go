package basic_test

import (
	"bytes"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// The tests in this file re-express Twisted's NetstringReceiverTests.

// testNetstring keeps the strings it gets and echoes them, as Twisted's
// TestNetstring; MaxLength is 50, as in Twisted's TestMixin.
type testNetstring struct {
	basic.NetstringReceiver
	received []string
	closed   bool
}

func (n *testNetstring) StringReceived(s []byte) {
	n.received = append(n.received, string(s))
	_, _ = n.Transport.Write(s)
}

func (n *testNetstring) ConnectionLost(reason error) {
	n.NetstringReceiver.ConnectionLost(reason)
	n.closed = true
}

func newNetstring() (*testNetstring, *protocoltest.StringTransport) {
	n := &testNetstring{}
	n.Handler = n
	n.MaxLength = 50
	tr := protocoltest.NewStringTransport()
	tr.Connect(n)
	return n, tr
}

// Strings come out whole whatever the packet size.
func TestNetstringBuffer(t *testing.T) {
	strings := []string{"hello", "world", "how", "are", "you123", ":today", string(bytes.Repeat([]byte("a"), 515))}
	for size := 1; size < 10; size++ {
		n, tr := newNetstring()
		n.MaxLength = 699
		for _, s := range strings {
			require.NoError(t, n.SendString([]byte(s)))
		}
		out := tr.Value()
		tr.Clear()
		feedInPackets(n, out, size)
		assert.Equal(t, strings, n.received, "packet size %d", size)
	}
}

func TestNetstringReceives(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  []string
	}{
		{"empty netstring", []string{"0:,"}, []string{""}},
		{"one character", []string{"1:a,"}, []string{"a"}},
		{"two characters", []string{"2:ab,"}, []string{"ab"}},
		// The parser is not confused by ':' and ',' in the payload.
		{"nested netstring", []string{"4:1:a,,"}, []string{"1:a,"}},
		{"two portions", []string{"4:aa", "aa,"}, []string{"aaaa"}},
		{"length split across portions", []string{"1", "0:01234", "56789", ","}, []string{"0123456789"}},
		{"one character at a time", []string{"2", ":", "a", "b", ","}, []string{"ab"}},
		{"two netstrings", []string{"1:a,1", ":b,"}, []string{"a", "b"}},
		{"length of MaxLength", []string{"50:" + string(bytes.Repeat([]byte("z"), 50)) + ","}, []string{string(bytes.Repeat([]byte("z"), 50))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, tr := newNetstring()
			for _, p := range tt.parts {
				tr.FeedString(p)
			}
			assert.Equal(t, tt.want, n.received)
			assert.False(t, tr.Disconnecting())
			assert.False(t, n.BrokenPeer())
			assert.NoError(t, n.Err())
		})
	}
}

// Bad netstrings close the connection, whether they come whole or a byte
// at a time, with an error that says why.
func TestNetstringIllegal(t *testing.T) {
	tests := []struct {
		input   string
		tooLong bool
	}{
		{"9999999999999999999999", true},
		{"abc", false},
		{"4:abcde", false},
		{"51:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab,", true},
		{"2:aaa,", false},       // more data than the length says
		{"0:a,", false},         // data in a netstring said to be empty
		{":aaa,", false},        // no length
		{"3aaa,", false},        // no colon
		{"aaa,", false},         // neither
		{"aaa", false},          // only data
		{"007:abcdefg,", false}, // a leading zero
	}
	for _, tt := range tests {
		for _, bytewise := range []bool{false, true} {
			n, tr := newNetstring()
			if bytewise {
				for i := range len(tt.input) {
					tr.FeedString(tt.input[i : i+1])
				}
			} else {
				tr.FeedString(tt.input)
			}
			assert.True(t, tr.Disconnecting(), "%q", tt.input)
			assert.True(t, n.BrokenPeer(), "%q", tt.input)
			assert.ErrorIs(t, n.Err(), basic.ErrNetstringParse, "%q", tt.input)
			if tt.tooLong {
				assert.ErrorIs(t, n.Err(), basic.ErrLengthLimitExceeded, "%q", tt.input)
			}
			assert.Empty(t, n.received)
		}
	}
}

// A length over MaxLength is refused before its payload arrives; at
// MaxLength it is accepted.
func TestNetstringMaxReceiveLimit(t *testing.T) {
	n, tr := newNetstring()
	tooLong := n.MaxLength + 1
	tr.FeedString(strconv.Itoa(tooLong) + ":")
	assert.True(t, tr.Disconnecting())
	assert.ErrorIs(t, n.Err(), basic.ErrLengthLimitExceeded)

	// Twisted's _consumeLength border cases.
	for _, tt := range []struct {
		max   int
		input string
		ok    bool
	}{
		{12, "12:", true},
		{11, "12:", false},
		{11, "1000:", false},
	} {
		n, tr := newNetstring()
		n.MaxLength = tt.max
		tr.FeedString(tt.input)
		assert.Equal(t, !tt.ok, tr.Disconnecting(), "max %d, %q", tt.max, tt.input)
	}
}

// A length with more digits than an int holds is refused, whatever the
// limit.
func TestNetstringLengthOverflow(t *testing.T) {
	n, tr := newNetstring()
	n.MaxLength = math.MaxInt
	tr.FeedString("99999999999999999999:")
	assert.True(t, tr.Disconnecting())
	assert.ErrorIs(t, n.Err(), basic.ErrLengthLimitExceeded)
}

// Once broken, the receiver reads nothing more.
func TestNetstringReadsNothingOnceBroken(t *testing.T) {
	n, _ := newNetstring()
	n.DataReceived([]byte("x"))
	n.DataReceived([]byte("1:a,"))
	assert.Empty(t, n.received)
}

func TestNetstringSendAndDefaults(t *testing.T) {
	n, tr := newNetstring()
	require.NoError(t, n.SendString([]byte("hello")))
	require.NoError(t, n.SendString(nil))
	assert.Equal(t, "5:hello,0:,", tr.String())
	tr.LoseConnection()
	assert.ErrorIs(t, n.SendString([]byte("x")), protocol.ErrConnectionClosed)
	assert.Equal(t, 99999, basic.DefaultStringMaxLength)

	var r basic.NetstringReceiver
	assert.Panics(t, func() { r.DataReceived([]byte("1:a,")) })
	assert.Panics(t, func() { _ = r.SendString(nil) })
}
