package basic_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// The tests in this file re-express Twisted's IntNTestCaseMixin and its
// Int32Tests, Int16Tests and Int8Tests.

// intN is what the tests need of the three receivers.
type intN interface {
	protocol.Protocol
	SendString(s []byte) error
	Err() error
	received() []string
	setMax(n int)
	onLimit(f func(int))
}

// strRecorder keeps the strings it gets (Twisted's TestMixin, with
// MaxLength 50) and may replace LengthLimitExceeded.
type strRecorder struct {
	got   []string
	limit func(int)
}

func (s *strRecorder) StringReceived(b []byte) { s.got = append(s.got, string(b)) }
func (s *strRecorder) received() []string      { return s.got }
func (s *strRecorder) onLimit(f func(int))     { s.limit = f }

type testInt32 struct {
	basic.Int32StringReceiver
	strRecorder
}

func (r *testInt32) setMax(n int) { r.MaxLength = n }
func (r *testInt32) LengthLimitExceeded(n int) {
	if r.limit != nil {
		r.limit(n)
		return
	}
	r.Int32StringReceiver.LengthLimitExceeded(n)
}

type testInt16 struct {
	basic.Int16StringReceiver
	strRecorder
}

func (r *testInt16) setMax(n int) { r.MaxLength = n }
func (r *testInt16) LengthLimitExceeded(n int) {
	if r.limit != nil {
		r.limit(n)
		return
	}
	r.Int16StringReceiver.LengthLimitExceeded(n)
}

type testInt8 struct {
	basic.Int8StringReceiver
	strRecorder
}

func (r *testInt8) setMax(n int) { r.MaxLength = n }
func (r *testInt8) LengthLimitExceeded(n int) {
	if r.limit != nil {
		r.limit(n)
		return
	}
	r.Int8StringReceiver.LengthLimitExceeded(n)
}

type intNCase struct {
	name           string
	prefix         int
	make           func() intN
	illegalStrings []string
	partialStrings []string
	data           string // "foo" as sent
}

var intNCases = []intNCase{
	{"Int32", 4, func() intN { r := &testInt32{}; r.Handler = r; r.MaxLength = 50; return r },
		[]string{"\x10\x00\x00\x00aaaaaa"}, []string{"\x00\x00\x00", "hello there", ""}, "\x00\x00\x00\x03foo"},
	{"Int16", 2, func() intN { r := &testInt16{}; r.Handler = r; r.MaxLength = 50; return r },
		[]string{"\x10\x00aaaaaa"}, []string{"\x00", "hello there", ""}, "\x00\x03foo"},
	{"Int8", 1, func() intN { r := &testInt8{}; r.Handler = r; r.MaxLength = 50; return r },
		[]string{"\x00\x00aaaaaa"}, []string{"\x08", "dzadz", ""}, "\x03foo"},
}

func prefixed(size int, s string) []byte {
	b := make([]byte, size, size+len(s))
	switch size {
	case 1:
		b[0] = byte(len(s))
	case 2:
		binary.BigEndian.PutUint16(b, uint16(len(s)))
	default:
		binary.BigEndian.PutUint32(b, uint32(len(s)))
	}
	return append(b, s...)
}

func connected(c intNCase) (intN, *protocoltest.StringTransport) {
	r := c.make()
	tr := protocoltest.NewStringTransport()
	tr.Connect(r)
	return r, tr
}

func TestIntN(t *testing.T) {
	for _, c := range intNCases {
		t.Run(c.name, func(t *testing.T) {
			// Strings fed a byte at a time come out whole.
			t.Run("receive", func(t *testing.T) {
				r, tr := connected(c)
				strings := []string{"a", string(bytes.Repeat([]byte("b"), 16))}
				for _, s := range strings {
					for _, b := range prefixed(c.prefix, s) {
						tr.Feed([]byte{b})
					}
				}
				assert.Equal(t, strings, r.received())
			})
			// Partial data delivers nothing.
			t.Run("partial", func(t *testing.T) {
				for _, s := range c.partialStrings {
					r, tr := connected(c)
					for i := range len(s) {
						tr.FeedString(s[i : i+1])
					}
					assert.Empty(t, r.received(), "%q", s)
				}
			})
			t.Run("send", func(t *testing.T) {
				r, tr := connected(c)
				require.NoError(t, r.SendString(bytes.Repeat([]byte("b"), 16)))
				assert.Equal(t, prefixed(c.prefix, string(bytes.Repeat([]byte("b"), 16))), tr.Value())
			})
			t.Run("data", func(t *testing.T) {
				r, tr := connected(c)
				require.NoError(t, r.SendString([]byte("foo")))
				assert.Equal(t, c.data, tr.String())
				tr.Feed(prefixed(c.prefix, "ubar"))
				assert.Equal(t, []string{"ubar"}, r.received())
			})
			// A prefix over the limit, fed a byte at a time, closes the
			// connection.
			t.Run("illegal", func(t *testing.T) {
				for _, s := range c.illegalStrings {
					r, tr := connected(c)
					for i := range len(s) {
						tr.FeedString(s[i : i+1])
					}
					assert.True(t, tr.Disconnecting(), "%q", s)
					assert.ErrorIs(t, r.Err(), basic.ErrLengthLimitExceeded)
				}
			})
			// LengthLimitExceeded hears the prefix that went over.
			t.Run("length limit exceeded", func(t *testing.T) {
				r, tr := connected(c)
				var lengths []int
				r.onLimit(func(n int) { lengths = append(lengths, n) })
				r.setMax(10)
				tr.Feed(prefixed(c.prefix, "")[:c.prefix-1])
				tr.Feed([]byte{11})
				assert.Equal(t, []int{11}, lengths)
				assert.False(t, tr.Disconnecting())
			})
			// A string over the limit is not delivered, even when it all
			// arrives with its prefix.
			t.Run("long string not delivered", func(t *testing.T) {
				r, tr := connected(c)
				r.setMax(10)
				tr.Feed(prefixed(c.prefix, "xxxxxxxxxxx"))
				assert.Empty(t, r.received())
				assert.True(t, tr.Disconnecting())
			})
			if c.prefix < 4 {
				t.Run("too long to send", func(t *testing.T) {
					r, tr := connected(c)
					err := r.SendString(make([]byte, 1<<(8*c.prefix)))
					assert.ErrorIs(t, err, basic.ErrStringTooLong)
					assert.Empty(t, tr.String())
					assert.NoError(t, r.SendString(make([]byte, 1<<(8*c.prefix)-1)))
				})
			}
		})
	}
}

// pausingInt32 pauses after each string, as ConsumingProtocol does for
// lines.
type pausingInt32 struct {
	basic.Int32StringReceiver
	got []string
}

func (p *pausingInt32) StringReceived(s []byte) {
	p.got = append(p.got, string(s))
	p.PauseProducing()
}

func TestIntNPauseResume(t *testing.T) {
	p := &pausingInt32{}
	p.Handler = p
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	tr.Feed(append(prefixed(4, "one"), prefixed(4, "two")...))
	assert.Equal(t, []string{"one"}, p.got)
	assert.Equal(t, protocoltest.Paused, tr.ProducerState())
	p.ResumeProducing()
	assert.Equal(t, []string{"one", "two"}, p.got)
	assert.True(t, p.Paused())
	p.ResumeProducing()
	assert.False(t, p.Paused())
	p.StopProducing()
	assert.True(t, tr.Aborted())
}

func TestIntNNeedsAHandler(t *testing.T) {
	var r basic.Int16StringReceiver
	assert.PanicsWithValue(t, "basic: Int16StringReceiver.DataReceived: Handler is nil; set it to the protocol that embeds the Int16StringReceiver",
		func() { r.DataReceived([]byte{0, 1, 'a'}) })
	assert.PanicsWithValue(t, "basic: Int16StringReceiver.SendString: not connected", func() { _ = r.SendString(nil) })
}
