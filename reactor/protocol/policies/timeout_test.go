package policies_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/policies"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// The tests in this file re-express the TimeoutMixinTests of Twisted's
// twisted/test/test_policies.py.

// timeoutTester is Twisted's TimeoutTester: it starts its timeout (3 s)
// when connected, resets it on data, cancels it when disconnected, and
// records the timeout.
type timeoutTester struct {
	protocol.Base
	policies.TimeoutMixin
	timedOut bool
}

func newTimeoutTester(clock scheduler.Clock) *timeoutTester {
	p := &timeoutTester{}
	p.Clock, p.TimeoutHandler = clock, p
	p.Timeout = 3 * time.Second
	return p
}

func (p *timeoutTester) ConnectionMade(t protocol.Transport) {
	p.Base.ConnectionMade(t)
	p.SetTimeout(p.Timeout)
}

func (p *timeoutTester) DataReceived([]byte) { p.ResetTimeout() }

func (p *timeoutTester) ConnectionLost(reason error) {
	p.Base.ConnectionLost(reason)
	p.SetTimeout(0)
}

func (p *timeoutTester) TimeoutConnection() { p.timedOut = true }

func secs(ss ...float64) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out
}

// The timeout is scheduled on the mixin's clock.
func TestTimeoutOverriddenCallLater(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	p.SetTimeout(10 * time.Second)
	assert.Len(t, clock.Pending(), 1)
}

// The protocol times out when its period has gone by.
func TestTimeoutFires(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	protocoltest.NewStringTransport().Connect(p)
	clock.Pump(secs(0, 0.5, 1.0, 1.0)...)
	assert.False(t, p.timedOut)
	clock.Pump(secs(0, 1.0)...)
	assert.True(t, p.timedOut)
}

// Data delays the timeout.
func TestTimeoutNoTimeout(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	clock.Pump(secs(0, 0.5, 1.0, 1.0)...)
	assert.False(t, p.timedOut)
	tr.FeedString("hello there")
	clock.Pump(secs(0, 1.0, 1.0, 0.5)...)
	assert.False(t, p.timedOut)
	clock.Pump(secs(0, 1.0)...)
	assert.True(t, p.timedOut)
}

// A new period replaces the running one.
func TestTimeoutResetTimeout(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	p.Timeout = 0
	protocoltest.NewStringTransport().Connect(p)
	p.SetTimeout(time.Second)
	assert.Equal(t, time.Second, p.Timeout)
	clock.Pump(secs(0, 0.9)...)
	assert.False(t, p.timedOut)
	clock.Pump(secs(0, 0.2)...)
	assert.True(t, p.timedOut)
}

// A period of zero cancels the timeout.
func TestTimeoutCancelTimeout(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	p.Timeout = 5 * time.Second
	protocoltest.NewStringTransport().Connect(p)
	p.SetTimeout(0)
	assert.Zero(t, p.Timeout)
	clock.Pump(secs(0, 5, 5, 5)...)
	assert.False(t, p.timedOut)
	assert.Empty(t, clock.Pending())
}

// SetTimeout returns the previous period.
func TestTimeoutSetTimeoutReturn(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	p.Timeout = 5 * time.Second
	assert.Equal(t, 5*time.Second, p.SetTimeout(10*time.Second))
	assert.Equal(t, 10*time.Second, p.SetTimeout(0))
	assert.Zero(t, p.SetTimeout(time.Second))
	assert.Equal(t, time.Second, p.Timeout)
	p.SetTimeout(0)
	assert.Empty(t, clock.Pending())
}

// A timeout cancelled from elsewhere is forgotten without an error, and a
// new period schedules a new call.
func TestTimeoutCancelledElsewhere(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	p.SetTimeout(3 * time.Second)
	assert.NoError(t, clock.Pending()[0].Cancel())
	assert.NotZero(t, p.Timeout)
	p.SetTimeout(0)
	assert.Zero(t, p.Timeout)

	p.SetTimeout(3 * time.Second)
	assert.NoError(t, clock.Pending()[0].Cancel())
	p.SetTimeout(2 * time.Second)
	clock.Advance(2 * time.Second)
	assert.True(t, p.timedOut)
}

// Once fired, the timeout is gone: a reset does nothing until SetTimeout
// starts another.
func TestTimeoutResetAfterFiring(t *testing.T) {
	clock := scheduler.NewManualClock()
	p := newTimeoutTester(clock)
	protocoltest.NewStringTransport().Connect(p)
	clock.Advance(3 * time.Second)
	assert.True(t, p.timedOut)
	p.ResetTimeout()
	assert.Empty(t, clock.Pending())
	p.timedOut = false
	p.SetTimeout(time.Second)
	clock.Advance(time.Second)
	assert.True(t, p.timedOut)
}

func TestTimeoutMisuse(t *testing.T) {
	var m policies.TimeoutMixin
	assert.PanicsWithValue(t, "policies: TimeoutMixin.SetTimeout: nil Clock", func() { m.SetTimeout(time.Second) })
	m.Clock = scheduler.NewManualClock()
	assert.PanicsWithValue(t, "policies: TimeoutMixin.SetTimeout: nil TimeoutHandler; set it to the protocol that embeds the TimeoutMixin",
		func() { m.SetTimeout(time.Second) })
	m.ResetTimeout() // nothing running: nothing to do
	assert.Zero(t, m.SetTimeout(-time.Second))
}

// idleLines is a line protocol with an idle timeout: each line resets it,
// and a timeout says goodbye and closes the connection.
type idleLines struct {
	basic.LineReceiver
	policies.TimeoutMixin
	lines []string
}

func newIdleLines(clock scheduler.Clock) *idleLines {
	p := &idleLines{}
	p.Handler = p
	p.Clock, p.TimeoutHandler = clock, p
	return p
}

func (p *idleLines) ConnectionMade(t protocol.Transport) {
	p.LineReceiver.ConnectionMade(t)
	p.SetTimeout(10 * time.Second)
}

func (p *idleLines) LineReceived(line []byte) {
	p.ResetTimeout()
	p.lines = append(p.lines, string(line))
}

func (p *idleLines) ConnectionLost(reason error) {
	p.LineReceiver.ConnectionLost(reason)
	p.SetTimeout(0)
}

func (p *idleLines) TimeoutConnection() {
	_ = p.SendLine([]byte("idle for too long"))
	p.Transport.LoseConnection()
}

// An idle line connection over a pump: lines keep it open, silence closes
// it, and the close cancels nothing that is left.
func TestTimeoutIdleLineConnection(t *testing.T) {
	clock := scheduler.NewManualClock()
	server := newIdleLines(clock)
	client := &protocoltest.AccumulatingProtocol{}
	pump := protocoltest.Connect(server, client)
	for range 5 {
		clock.Advance(9 * time.Second)
		_, _ = client.Transport.Write([]byte("still here\r\n"))
		pump.Flush()
	}
	assert.True(t, server.Connected)
	clock.Advance(10 * time.Second)
	pump.Flush()
	assert.False(t, server.Connected)
	assert.Len(t, server.lines, 5)
	assert.Equal(t, "idle for too long\r\n", string(client.Data))
	assert.ErrorIs(t, client.Reason, protocol.ErrConnectionDone)
	assert.Empty(t, clock.Pending())
}
