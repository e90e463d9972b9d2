package protocol_test

import (
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// The first tests re-express Twisted's twisted/test/test_factories.py.

var quiet = slog.New(slog.DiscardHandler)

var dest = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7}

func newReconnecting(clock scheduler.Clock) *protocol.ReconnectingClientFactory {
	f := protocol.NewReconnectingClientFactory(clock, func(net.Addr) protocol.Protocol { return &protocol.Base{} })
	f.Logger = quiet
	return f
}

// noConnectConnector fails the test if the factory touches it.
type noConnectConnector struct{ t *testing.T }

func (c noConnectConnector) Connect() { c.t.Error("reconnected after StopTrying") }
func (c noConnectConnector) StopConnecting() {
	c.t.Error("StopConnecting on a connector that is connected")
}
func (c noConnectConnector) Disconnect()           {}
func (c noConnectConnector) Destination() net.Addr { return dest }

// Stopped while connected, the factory does not reconnect once the
// connection is lost.
func TestReconnectingStopTryingWhenConnected(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := newReconnecting(clock)
	f.BuildProtocol(dest)
	f.StopTrying()
	f.ClientConnectionLost(noConnectConnector{t}, protocol.ErrConnectionDone)
	assert.False(t, f.ContinueTrying())
	assert.Empty(t, clock.Pending())
}

// StopTrying during an attempt stops it, and the failure it causes is not
// retried.
func TestReconnectingStopTryingDoesNotReconnect(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := newReconnecting(clock)
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	c.Fail(errors.New("refused"))
	require.Len(t, clock.Pending(), 1)
	clock.Advance(time.Hour)
	require.True(t, c.Connecting(), "the retry started a second attempt")
	f.StopTrying()
	assert.False(t, c.Connecting(), "StopTrying stopped the attempt")
	assert.Equal(t, 2, c.Attempts())
	assert.Empty(t, clock.Pending())
}

// The retries go on the factory's clock.
func TestReconnectingParametrizedClock(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := newReconnecting(clock)
	f.ClientConnectionLost(protocoltest.NewConnector(f, dest), protocol.ErrConnectionDone)
	assert.Len(t, clock.Pending(), 1)
}

// A new factory has Twisted's parameters.
func TestReconnectingDefaults(t *testing.T) {
	f := newReconnecting(scheduler.NewManualClock())
	assert.Equal(t, time.Second, f.InitialDelay)
	assert.Equal(t, 3600*time.Second, f.MaxDelay)
	assert.Equal(t, 2.7182818284590451, f.Factor)
	assert.Equal(t, 0.119626565582, f.Jitter)
	assert.Negative(t, f.MaxRetries)
	assert.Equal(t, time.Second, f.Delay())
	assert.Zero(t, f.Retries())
	assert.True(t, f.ContinueTrying())
	assert.Nil(t, f.Connector())
	assert.Panics(t, func() { protocol.NewReconnectingClientFactory(nil, nil) })
	assert.PanicsWithValue(t, "protocol: ReconnectingClientFactory.Retry: no connector to retry", func() { f.Retry(nil) })
}

// Without jitter the delays grow by Factor from InitialDelay up to
// MaxDelay, and ResetDelay starts them again.
func TestReconnectingBackoff(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := newReconnecting(clock)
	f.Jitter = 0
	f.MaxDelay = 60 * time.Second
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	var delays []time.Duration
	for range 6 {
		start := clock.Now()
		c.Fail(errors.New("refused"))
		pending := clock.Pending()
		require.Len(t, pending, 1)
		delays = append(delays, pending[0].When().Sub(start))
		clock.Advance(pending[0].When().Sub(start))
		require.True(t, c.Connecting())
	}
	want := []float64{math.E, math.E * math.E, math.Pow(math.E, 3), math.Pow(math.E, 4), 60, 60}
	for i, d := range delays {
		assert.InDelta(t, want[i], d.Seconds(), 1e-6, "retry %d", i+1)
	}
	assert.Equal(t, 6, f.Retries())

	c.Succeed()
	f.ResetDelay()
	assert.Equal(t, time.Second, f.Delay())
	assert.Zero(t, f.Retries())
}

// With jitter, each delay is drawn from a normal distribution around the
// grown one, with Jitter times it as standard deviation.
func TestReconnectingJitter(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := newReconnecting(clock)
	f.Rand = rand.New(rand.NewPCG(1, 2))
	draws := rand.New(rand.NewPCG(1, 2))
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	base := 1.0
	for i := range 4 {
		start := clock.Now()
		c.Fail(errors.New("refused"))
		base = math.Min(base*math.E, 3600)
		base += draws.NormFloat64() * base * 0.119626565582
		when := clock.Pending()[0].When().Sub(start)
		assert.InDelta(t, base, when.Seconds(), 1e-6, "retry %d", i+1)
		clock.Advance(when)
	}
}

// After MaxRetries retries in a row the factory gives up.
func TestReconnectingMaxRetries(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := newReconnecting(clock)
	f.MaxRetries = 2
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	for range 2 {
		c.Fail(errors.New("refused"))
		clock.Advance(time.Hour)
	}
	c.Fail(errors.New("refused"))
	assert.Empty(t, clock.Pending())
	assert.Equal(t, 3, c.Attempts())
	assert.True(t, f.ContinueTrying(), "giving up is not StopTrying")
}

// StopTrying while a retry waits cancels it.
func TestReconnectingStopTryingCancelsTheRetry(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := newReconnecting(clock)
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	c.Fail(errors.New("refused"))
	f.StopTrying()
	assert.Empty(t, clock.Pending())
	clock.Advance(time.Hour)
	assert.Equal(t, 1, c.Attempts())
}

// resettingFactory is the usual Twisted client: it resets the delay in
// buildProtocol.
type resettingFactory struct {
	*protocol.ReconnectingClientFactory
	built []*protocoltest.AccumulatingProtocol
}

func (f *resettingFactory) BuildProtocol(net.Addr) protocol.Protocol {
	f.ResetDelay()
	p := &protocoltest.AccumulatingProtocol{}
	f.built = append(f.built, p)
	return p
}

// A client that reconnects after each loss, with the delay started again
// after each connection; StopTrying while connected (when the connector
// has no attempt to stop) makes the next loss final.
func TestReconnectingClientReconnects(t *testing.T) {
	clock := scheduler.NewManualClock()
	f := &resettingFactory{ReconnectingClientFactory: newReconnecting(clock)}
	f.Jitter = 0
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	c.Fail(errors.New("refused"))
	clock.Advance(3 * time.Second)
	server := &protocoltest.AccumulatingProtocol{}
	pump := c.SucceedWith(server)
	assert.Zero(t, f.Retries())

	server.Transport.LoseConnection()
	pump.Flush()
	assert.ErrorIs(t, f.built[0].Reason, protocol.ErrConnectionDone)
	require.Len(t, clock.Pending(), 1)
	assert.InDelta(t, math.E, clock.Pending()[0].When().Sub(clock.Now()).Seconds(), 1e-6)
	clock.Advance(3 * time.Second)
	tr := c.Succeed()

	f.StopTrying()
	assert.True(t, c.Connected(), "StopTrying leaves a connection up")
	tr.Disconnect(protocol.ErrConnectionLost)
	assert.Empty(t, clock.Pending())
	assert.Equal(t, 3, c.Attempts())
}
