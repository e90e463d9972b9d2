package protocoltest_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// echo writes back what it receives.
type echo struct{ protocol.Base }

func (e *echo) DataReceived(data []byte) { _, _ = e.Transport.Write(data) }

// recorder notes the order of every call it receives.
type recorder struct {
	protocol.Base
	events []string
	onData func(r *recorder, data []byte)
}

func (r *recorder) ConnectionMade(t protocol.Transport) {
	r.Base.ConnectionMade(t)
	r.events = append(r.events, "made")
}

func (r *recorder) DataReceived(data []byte) {
	r.events = append(r.events, "data:"+string(data))
	if r.onData != nil {
		r.onData(r, data)
	}
	r.events = append(r.events, "data-end")
}

func (r *recorder) ConnectionLost(reason error) {
	r.Base.ConnectionLost(reason)
	r.events = append(r.events, "lost:"+reason.Error())
}

// halfRecorder is a recorder that hears half-closes.
type halfRecorder struct{ recorder }

func (h *halfRecorder) ReadConnectionLost()  { h.events = append(h.events, "read-lost") }
func (h *halfRecorder) WriteConnectionLost() { h.events = append(h.events, "write-lost") }

func TestStringTransportRecordsWrites(t *testing.T) {
	tr := protocoltest.NewStringTransport()
	p := &echo{}
	tr.Connect(p)
	assert.Same(t, protocol.Protocol(p), tr.Protocol())
	assert.True(t, tr.Connected())
	tr.FeedString("hello, ")
	tr.Feed([]byte("world"))
	assert.Equal(t, "hello, world", tr.String())
	assert.Equal(t, []byte("hello, world"), tr.Value())

	n, err := tr.WriteSequence([][]byte{[]byte("a"), []byte("bc")})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, "hello, worldabc", tr.String())
	tr.Clear()
	assert.Empty(t, tr.String())
}

func TestStringTransportAddresses(t *testing.T) {
	tr := protocoltest.NewStringTransport()
	assert.Equal(t, "192.0.2.1:12345", tr.LocalAddr().String())
	assert.Equal(t, "198.51.100.1:54321", tr.RemoteAddr().String())
	local := &net.UnixAddr{Name: "/tmp/a", Net: "unix"}
	remote := &net.UnixAddr{Name: "@peer", Net: "unix"}
	tr = protocoltest.NewStringTransport(protocoltest.WithLocalAddr(local), protocoltest.WithRemoteAddr(remote))
	assert.Equal(t, local, tr.LocalAddr())
	assert.Equal(t, remote, tr.RemoteAddr())
}

// Writes after LoseConnection are dropped, as in Twisted, and say so.
func TestStringTransportDropsWritesAfterLoseConnection(t *testing.T) {
	tr := protocoltest.NewStringTransport()
	p := &recorder{}
	tr.Connect(p)
	_, _ = tr.Write([]byte("before"))
	tr.LoseConnection()
	assert.True(t, tr.Disconnecting())
	assert.False(t, tr.Aborted())
	n, err := tr.Write([]byte("after"))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
	_, err = tr.WriteSequence([][]byte{[]byte("after")})
	assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
	assert.Equal(t, "before", tr.String())
	// The connection ends when the test says so.
	assert.Equal(t, []string{"made"}, p.events)
	tr.FeedString("ignored: the transport reads no more")
	tr.Disconnect(nil)
	tr.Disconnect(nil)
	assert.Equal(t, []string{"made", "lost:" + protocol.ErrConnectionDone.Error()}, p.events)
	assert.False(t, tr.Connected())
	assert.False(t, p.Connected)
}

func TestStringTransportDisconnectReasons(t *testing.T) {
	t.Run("abort", func(t *testing.T) {
		tr := protocoltest.NewStringTransport()
		p := &protocoltest.AccumulatingProtocol{}
		tr.Connect(p)
		tr.AbortConnection()
		assert.True(t, tr.Aborted())
		assert.True(t, tr.Disconnecting())
		tr.Disconnect(nil)
		assert.ErrorIs(t, p.Reason, protocol.ErrConnectionAborted)
	})
	t.Run("given", func(t *testing.T) {
		tr := protocoltest.NewStringTransport()
		p := &protocoltest.AccumulatingProtocol{}
		tr.Connect(p)
		reset := &protocol.DisconnectError{Reason: protocol.ErrConnectionLost}
		tr.Disconnect(reset)
		tr.Disconnect(protocol.ErrConnectionDone)
		assert.Same(t, error(reset), p.Reason)
		assert.Equal(t, 1, p.LostCount)
	})
	t.Run("stop producing aborts", func(t *testing.T) {
		tr := protocoltest.NewStringTransport(protocoltest.WithImmediateClose())
		p := &protocoltest.AccumulatingProtocol{}
		tr.Connect(p)
		tr.StopProducing()
		assert.Equal(t, protocoltest.Stopped, tr.ProducerState())
		assert.ErrorIs(t, p.Reason, protocol.ErrConnectionAborted)
	})
}

// With immediate close, a LoseConnection asked for inside DataReceived is
// reported after DataReceived returns, once.
func TestStringTransportImmediateCloseIsNotReentrant(t *testing.T) {
	tr := protocoltest.NewStringTransport(protocoltest.WithImmediateClose())
	p := &recorder{onData: func(r *recorder, _ []byte) {
		r.Transport.LoseConnection()
		r.Transport.LoseConnection()
		r.Transport.AbortConnection()
	}}
	tr.Connect(p)
	tr.FeedString("bye")
	assert.Equal(t, []string{"made", "data:bye", "data-end", "lost:" + protocol.ErrConnectionDone.Error()}, p.events)
}

// With immediate close, LoseConnection waits for a registered producer to
// be unregistered.
func TestStringTransportImmediateCloseWaitsForProducer(t *testing.T) {
	tr := protocoltest.NewStringTransport(protocoltest.WithImmediateClose())
	p := &protocoltest.AccumulatingProtocol{}
	tr.Connect(p)
	prod := &pushProducer{}
	tr.RegisterProducer(prod, true)
	tr.LoseConnection()
	assert.False(t, p.Closed)
	tr.UnregisterProducer()
	assert.True(t, p.Closed)
	assert.ErrorIs(t, p.Reason, protocol.ErrConnectionDone)
	assert.False(t, prod.stopped, "an unregistered producer is not stopped")
}

type pushProducer struct {
	paused, stopped bool
	pauses, resumes int
}

func (p *pushProducer) PauseProducing()  { p.paused = true; p.pauses++ }
func (p *pushProducer) ResumeProducing() { p.paused = false; p.resumes++ }
func (p *pushProducer) StopProducing()   { p.stopped = true }

type stopOnly struct{ stopped bool }

func (s *stopOnly) StopProducing() { s.stopped = true }

func TestStringTransportProducers(t *testing.T) {
	tr := protocoltest.NewStringTransport()
	p := &protocoltest.AccumulatingProtocol{}
	tr.Connect(p)
	prod := &pushProducer{}
	tr.RegisterProducer(prod, true)
	assert.Same(t, protocol.Producer(prod), tr.Producer())
	assert.True(t, tr.Streaming())
	assert.PanicsWithValue(t, "protocoltest: StringTransport.RegisterProducer: a producer is already registered",
		func() { tr.RegisterProducer(&pushProducer{}, true) })
	tr.UnregisterProducer()
	assert.Nil(t, tr.Producer())
	assert.False(t, tr.Streaming())

	assert.PanicsWithValue(t, "protocoltest: StringTransport.RegisterProducer: a streaming producer must be a protocol.PushProducer",
		func() { tr.RegisterProducer(&stopOnly{}, true) })
	assert.PanicsWithValue(t, "protocoltest: StringTransport.RegisterProducer: a non-streaming producer must be a protocol.PullProducer",
		func() { tr.RegisterProducer(&stopOnly{}, false) })

	// A registered producer is stopped when the connection ends, before
	// the protocol hears of it; one registered afterwards at once.
	tr.RegisterProducer(prod, false)
	assert.False(t, tr.Streaming())
	tr.Disconnect(nil)
	assert.True(t, prod.stopped)
	assert.Nil(t, tr.Producer())
	late := &pushProducer{}
	tr.RegisterProducer(late, true)
	assert.True(t, late.stopped)
	assert.Nil(t, tr.Producer())
}

func TestStringTransportProducerState(t *testing.T) {
	tr := protocoltest.NewStringTransport()
	assert.Equal(t, protocoltest.Producing, tr.ProducerState())
	tr.PauseProducing()
	assert.Equal(t, protocoltest.Paused, tr.ProducerState())
	assert.Equal(t, "paused", tr.ProducerState().String())
	tr.ResumeProducing()
	assert.Equal(t, "producing", tr.ProducerState().String())
	tr.StopProducing()
	tr.ResumeProducing()
	assert.Equal(t, "stopped", tr.ProducerState().String())
}

func TestStringTransportEndOfStream(t *testing.T) {
	t.Run("half-closeable", func(t *testing.T) {
		tr := protocoltest.NewStringTransport()
		p := &halfRecorder{}
		tr.Connect(p)
		tr.FeedEOF()
		tr.FeedEOF()
		_, err := tr.Write([]byte("still writing"))
		require.NoError(t, err)
		tr.LoseWriteConnection()
		_, err = tr.Write([]byte("no more"))
		assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
		assert.True(t, tr.WriteClosed())
		assert.False(t, tr.Disconnecting())
		assert.Equal(t, []string{"made", "read-lost", "write-lost"}, p.events)
		assert.Equal(t, "still writing", tr.String())
	})
	t.Run("not half-closeable", func(t *testing.T) {
		tr := protocoltest.NewStringTransport()
		p := &recorder{}
		tr.Connect(p)
		tr.FeedEOF()
		assert.Equal(t, []string{"made", "lost:" + protocol.ErrConnectionDone.Error()}, p.events)
	})
}

// The bytes given to DataReceived are reused once it returns, so a
// protocol that keeps them without copying is caught.
func TestStringTransportReusesTheReadBuffer(t *testing.T) {
	var kept []byte
	tr := protocoltest.NewStringTransport()
	tr.Connect(&recorder{onData: func(_ *recorder, data []byte) { kept = data }})
	input := []byte("abc")
	tr.Feed(input)
	assert.NotEqual(t, "abc", string(kept))
	assert.Equal(t, "abc", string(input), "the test's own slice is untouched")
}

func TestStringTransportMisuse(t *testing.T) {
	tr := protocoltest.NewStringTransport()
	assert.PanicsWithValue(t, "protocoltest: StringTransport.Feed: no protocol; call Connect first", func() { tr.FeedString("x") })
	assert.PanicsWithValue(t, "protocoltest: StringTransport.Connect: nil protocol", func() { tr.Connect(nil) })
	tr.Connect(&echo{})
	assert.PanicsWithValue(t, "protocoltest: StringTransport.Connect: already connected to a protocol", func() { tr.Connect(&echo{}) })
}
