package protocoltest_test

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// greeter writes a greeting on connecting.
type greeter struct {
	protocoltest.AccumulatingProtocol
	greeting string
}

func (g *greeter) ConnectionMade(t protocol.Transport) {
	g.AccumulatingProtocol.ConnectionMade(t)
	_, _ = t.Write([]byte(g.greeting))
}

func TestPumpGreetsAndEchoes(t *testing.T) {
	server := &echo{}
	client := &greeter{greeting: "hello"}
	pump := protocoltest.Connect(server, client)
	// The greeting went to the server and came back before Connect
	// returned.
	assert.Equal(t, "hello", string(client.Data))
	assert.False(t, pump.Pump(), "nothing is left to move")

	_, _ = client.Transport.Write([]byte(" again"))
	assert.Equal(t, 6, pump.Client().Buffered())
	assert.True(t, pump.Pump())
	assert.Equal(t, "hello", string(client.Data), "one round takes the bytes one way")
	assert.True(t, pump.Pump())
	assert.Equal(t, "hello again", string(client.Data))
	assert.False(t, pump.Flush())
}

func TestPumpWithoutGreeting(t *testing.T) {
	server := &protocoltest.AccumulatingProtocol{}
	client := &greeter{greeting: "hi"}
	pump := protocoltest.Connect(server, client, protocoltest.WithoutGreeting())
	assert.True(t, server.Made)
	assert.True(t, client.Made)
	assert.Empty(t, server.Data)
	assert.True(t, pump.Flush())
	assert.Equal(t, "hi", string(server.Data))
	assert.Equal(t, "127.0.0.1:8080", pump.Server().LocalAddr().String())
	assert.Equal(t, "127.0.0.1:54321", pump.Server().RemoteAddr().String())
	assert.Equal(t, pump.Server().LocalAddr(), pump.Client().RemoteAddr())
}

func TestPumpChunks(t *testing.T) {
	server := &recorder{}
	client := &greeter{greeting: "abcdefg"}
	protocoltest.Connect(server, client, protocoltest.WithChunkSize(3))
	assert.Equal(t, []string{"made", "data:abc", "data-end", "data:def", "data-end", "data:g", "data-end"}, server.events)
}

// LoseConnection waits for the buffer: the peer gets every byte, then both
// sides lose the connection cleanly, each once.
func TestPumpLoseConnectionFlushesFirst(t *testing.T) {
	server := &protocoltest.AccumulatingProtocol{}
	client := &protocoltest.AccumulatingProtocol{}
	pump := protocoltest.Connect(server, client)
	done := pump.Done()
	_, _ = client.Transport.Write([]byte("last words"))
	client.Transport.LoseConnection()
	_, err := client.Transport.Write([]byte("dropped"))
	assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
	assert.True(t, pump.Client().Disconnecting())
	pump.Flush()
	assert.Equal(t, "last words", string(server.Data))
	assert.ErrorIs(t, client.Reason, protocol.ErrConnectionDone)
	assert.ErrorIs(t, server.Reason, protocol.ErrConnectionDone)
	assert.Equal(t, 1, client.LostCount)
	assert.Equal(t, 1, server.LostCount)
	assert.True(t, done.Called())
	assert.True(t, pump.Done().Called())
}

// AbortConnection drops the buffer: the aborting side hears
// ErrConnectionAborted, the peer a reset.
func TestPumpAbortDropsTheBuffer(t *testing.T) {
	server := &protocoltest.AccumulatingProtocol{}
	client := &protocoltest.AccumulatingProtocol{}
	pump := protocoltest.Connect(server, client)
	_, _ = client.Transport.Write([]byte("never delivered"))
	_, _ = server.Transport.Write([]byte("nor this"))
	client.Transport.AbortConnection()
	pump.Flush()
	assert.Empty(t, server.Data)
	assert.Empty(t, client.Data)
	assert.ErrorIs(t, client.Reason, protocol.ErrConnectionAborted)
	assert.ErrorIs(t, server.Reason, protocol.ErrConnectionLost)
	assert.ErrorIs(t, server.Reason, syscall.ECONNRESET)
	assert.NotErrorIs(t, server.Reason, protocol.ErrConnectionDone)
	assert.True(t, pump.Client().Aborted())
}

// A reader that stops reading backs the writer's buffer up until the
// writer's producer is paused, and drains it once it reads again.
func TestPumpBackpressure(t *testing.T) {
	server := &protocoltest.AccumulatingProtocol{}
	client := &protocoltest.AccumulatingProtocol{}
	pump := protocoltest.Connect(server, client, protocoltest.WithWaterMarks(10, 4), protocoltest.WithChunkSize(3))
	prod := &pushProducer{}
	client.Transport.RegisterProducer(prod, true)
	server.Transport.PauseProducing()
	assert.Equal(t, protocoltest.Paused, pump.Server().ProducerState())

	_, _ = client.Transport.Write([]byte("0123456789"))
	assert.False(t, prod.paused, "at the high water mark, not over it")
	_, _ = client.Transport.Write([]byte("a"))
	assert.True(t, prod.paused, "the write that crosses the mark pauses the producer")
	assert.True(t, pump.Client().ProducerPaused())
	assert.False(t, pump.Flush(), "a paused reader receives nothing")
	assert.Empty(t, server.Data)

	server.Transport.ResumeProducing()
	pump.Pump() // 8 left
	pump.Pump() // 5 left
	assert.True(t, prod.paused)
	pump.Pump() // 2 left: at or under the low water mark
	assert.False(t, prod.paused)
	assert.Equal(t, 1, prod.resumes)
	pump.Flush()
	assert.Equal(t, "0123456789a", string(server.Data))

	// LoseConnection waits while a producer is registered.
	client.Transport.LoseConnection()
	pump.Flush()
	assert.False(t, client.Closed)
	client.Transport.UnregisterProducer()
	pump.Flush()
	assert.True(t, client.Closed)
	assert.False(t, prod.stopped)
}

// counter is a pull producer that writes its count each time it is asked,
// ten times, as Twisted's NonStreamingProducer.
type counter struct {
	consumer protocol.Consumer
	n        int
	stopped  bool
}

func (c *counter) ResumeProducing() {
	if c.n >= 10 {
		panic("resumed after it unregistered")
	}
	_, _ = c.consumer.Write([]byte{byte('0' + c.n)})
	c.n++
	if c.n == 10 {
		c.consumer.UnregisterProducer()
	}
}

func (c *counter) StopProducing() { c.stopped = true }

func TestPumpPullProducer(t *testing.T) {
	server := &protocoltest.AccumulatingProtocol{}
	client := &protocoltest.AccumulatingProtocol{}
	pump := protocoltest.Connect(server, client)
	c := &counter{consumer: client.Transport}
	client.Transport.RegisterProducer(c, false)
	assert.Equal(t, 1, c.n, "a pull producer is asked for data at registration")
	pump.Flush()
	assert.Equal(t, "0123456789", string(server.Data))
	assert.Nil(t, pump.Client().Producer())
}

// A producer registered on a transport whose connection ends is stopped.
func TestPumpStopsTheProducerOnClose(t *testing.T) {
	server := &protocoltest.AccumulatingProtocol{}
	client := &protocoltest.AccumulatingProtocol{}
	pump := protocoltest.Connect(server, client)
	prod := &pushProducer{}
	server.Transport.RegisterProducer(prod, true)
	client.Transport.LoseConnection()
	pump.Flush()
	assert.True(t, prod.stopped)
	assert.Nil(t, pump.Server().Producer())
}

func TestPumpHalfClose(t *testing.T) {
	t.Run("to a half-closeable peer", func(t *testing.T) {
		server := &halfRecorder{}
		client := &halfRecorder{}
		pump := protocoltest.Connect(server, client)
		_, _ = client.Transport.Write([]byte("request"))
		client.Transport.LoseWriteConnection()
		pump.Flush()
		assert.Equal(t, []string{"made", "data:request", "data-end", "read-lost"}, server.events)
		assert.Equal(t, []string{"made", "write-lost"}, client.events)
		// The server answers and closes; the client reads the answer, then
		// the end of stream, and closes in turn.
		_, _ = server.Transport.Write([]byte("response"))
		server.Transport.LoseConnection()
		pump.Flush()
		assert.Equal(t, []string{"made", "write-lost", "data:response", "data-end", "read-lost"}, client.events)
		assert.False(t, pump.Done().Called())
		client.Transport.LoseConnection()
		pump.Flush()
		assert.True(t, pump.Done().Called())
		assert.Equal(t, "lost:"+protocol.ErrConnectionDone.Error(), server.events[len(server.events)-1])
	})
	t.Run("to a peer that is not", func(t *testing.T) {
		server := &recorder{}
		client := &halfRecorder{}
		pump := protocoltest.Connect(server, client)
		client.Transport.LoseWriteConnection()
		pump.Flush()
		assert.Equal(t, []string{"made", "lost:" + protocol.ErrConnectionDone.Error()}, server.events)
		assert.Equal(t, []string{"made", "write-lost", "read-lost"}, client.events)
	})
}

func TestPumpReusesTheReadBuffer(t *testing.T) {
	var kept []byte
	server := &recorder{onData: func(_ *recorder, data []byte) { kept = data }}
	protocoltest.Connect(server, &greeter{greeting: "xyz"})
	assert.NotEqual(t, "xyz", string(kept))
}

func TestPumpFromInsideACallbackPanics(t *testing.T) {
	var pump *protocoltest.Pump
	var got any
	server := &recorder{onData: func(*recorder, []byte) {
		defer func() { got = recover() }()
		pump.Pump()
	}}
	pump = protocoltest.Connect(server, &protocoltest.AccumulatingProtocol{}, protocoltest.WithoutGreeting())
	_, _ = pump.Client().Write([]byte("x"))
	pump.Flush()
	assert.Equal(t, "protocoltest: Pump.Pump: called from inside a protocol callback", got)
}

// chatter answers every message, for ever.
type chatter struct{ protocol.Base }

func (c *chatter) DataReceived(data []byte) { _, _ = c.Transport.Write(data) }

func TestFlushGivesUpOnEndlessTalk(t *testing.T) {
	client := &greeter{greeting: "ping"}
	assert.PanicsWithValue(t, "protocoltest: Pump.Flush: still moving after 100000 rounds", func() {
		protocoltest.Connect(&chatter{}, &chatterClient{greeter: client})
	})
}

type chatterClient struct{ *greeter }

func (c *chatterClient) DataReceived(data []byte) { _, _ = c.Transport.Write(data) }

// sender writes its payload on connecting and closes.
type sender struct {
	protocol.Base
	payload []byte
}

func (s *sender) ConnectionMade(t protocol.Transport) {
	s.Base.ConnectionMade(t)
	_, _ = t.Write(s.payload)
	t.LoseConnection()
}

func TestLoopbackOnAManualClock(t *testing.T) {
	clock := scheduler.NewManualClock()
	payload := bytes.Repeat([]byte("0123456789"), 1000)
	server := &protocoltest.AccumulatingProtocol{}
	client := &sender{payload: payload}
	done := protocoltest.Loopback(clock, server, client, protocoltest.WithChunkSize(4096))
	assert.False(t, done.Called(), "nothing moves before the loop runs")
	clock.Advance(0)
	require.True(t, done.Called())
	assert.Equal(t, payload, server.Data)
	assert.ErrorIs(t, server.Reason, protocol.ErrConnectionDone)
	assert.Empty(t, clock.Pending())
}

func TestPairMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "protocoltest: Connect: nil protocol", func() { protocoltest.Connect(nil, &echo{}) })
	assert.PanicsWithValue(t, "protocoltest: Loopback: nil loop", func() { protocoltest.Loopback(nil, &echo{}, &echo{}) })
}

// strictPushProducer fails on a transition from the wrong state: Twisted's
// StrictPushProducer of test_iosim.py.
type strictPushProducer struct {
	t     *testing.T
	state string
}

func (p *strictPushProducer) StopProducing() {
	if p.state == "stopped" {
		p.t.Error("stop of a stopped producer")
	}
	p.state = "stopped"
}

func (p *strictPushProducer) PauseProducing() {
	if p.state != "running" {
		p.t.Errorf("pause of a %s producer", p.state)
	}
	p.state = "paused"
}

func (p *strictPushProducer) ResumeProducing() {
	if p.state != "paused" {
		p.t.Errorf("resume of a %s producer", p.state)
	}
	p.state = "running"
}

// Pumping never resumes a streaming producer that the transport did not
// pause (Twisted's IOPumpTests), and a close stops it once.
func TestPumpLeavesARunningStreamingProducerAlone(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		t.Run(side, func(t *testing.T) {
			pump := protocoltest.Connect(&protocol.Base{}, &protocol.Base{}, protocoltest.WithoutGreeting())
			victim := pump.Server()
			if side == "client" {
				victim = pump.Client()
			}
			p := &strictPushProducer{t: t, state: "running"}
			victim.RegisterProducer(p, true)
			_, _ = victim.Write([]byte("some bytes"))
			pump.Flush()
			assert.Equal(t, "running", p.state)
			victim.AbortConnection()
			pump.Flush()
			assert.Equal(t, "stopped", p.state)
		})
	}
}
