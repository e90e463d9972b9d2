package protocoltest

import (
	"fmt"
	"net"

	"github.com/twinego/twine/reactor/protocol"
)

// Connector is a [protocol.Connector] whose attempts the test completes:
// Twisted's MemoryReactor.connectTCP with its _FakeConnector, and the
// ConnectionCompleter of iosim. It drives its [protocol.ClientFactory] as a
// real connector does: StartedConnecting when an attempt starts,
// BuildProtocol when it succeeds, ClientConnectionFailed when it fails,
// ClientConnectionLost after the protocol's ConnectionLost; a factory that
// is a [protocol.FactoryHooks] is started by the first attempt and stopped
// once an attempt has failed or a connection has ended and the factory has
// not connected again, as Twisted's BaseConnector does.
//
// A Connector is not safe for concurrent use; its methods and the factory's
// run on the calling goroutine.
type Connector struct {
	factory        protocol.ClientFactory
	dest           net.Addr
	state          connectorState
	attempts       int
	factoryStarted bool
	transport      protocol.Transport
}

type connectorState int

const (
	disconnected connectorState = iota
	connecting
	connected
)

// NewConnector returns a connector for f to dest that has not started an
// attempt: call Connect. It panics if f is nil.
func NewConnector(f protocol.ClientFactory, dest net.Addr) *Connector {
	if f == nil {
		panic("protocoltest: NewConnector: nil factory")
	}
	return &Connector{factory: f, dest: dest}
}

// Connect starts an attempt: the factory is started if it was not, then
// told StartedConnecting. It panics while an attempt is in progress or a
// connection is up.
func (c *Connector) Connect() {
	if c.state != disconnected {
		panic("protocoltest: Connector.Connect: an attempt is in progress or a connection is up")
	}
	c.state = connecting
	c.attempts++
	if !c.factoryStarted {
		c.factoryStarted = true
		if h, ok := c.factory.(protocol.FactoryHooks); ok {
			h.StartFactory()
		}
	}
	c.factory.StartedConnecting(c)
}

// StopConnecting fails the attempt in progress with an error matched by
// [protocol.ErrConnect] and [protocol.ErrUserCancelled]; the factory hears
// ClientConnectionFailed at once. Without an attempt it does nothing.
func (c *Connector) StopConnecting() {
	if c.state != connecting {
		return
	}
	c.Fail(fmt.Errorf("%w: %w", protocol.ErrConnect, protocol.ErrUserCancelled))
}

// Disconnect closes the connection (LoseConnection) if there is one, stops
// the attempt if there is one, and otherwise does nothing.
func (c *Connector) Disconnect() {
	switch c.state {
	case connected:
		c.transport.LoseConnection()
	case connecting:
		c.StopConnecting()
	}
}

// Destination returns the address given to NewConnector.
func (c *Connector) Destination() net.Addr { return c.dest }

// Attempts returns how many attempts Connect has started.
func (c *Connector) Attempts() int { return c.attempts }

// Connecting reports whether an attempt is in progress.
func (c *Connector) Connecting() bool { return c.state == connecting }

// Connected reports whether a connection is up.
func (c *Connector) Connected() bool { return c.state == connected }

// Fail ends the attempt in progress with reason: the factory hears
// ClientConnectionFailed. It panics without an attempt in progress.
func (c *Connector) Fail(reason error) {
	c.need("Fail")
	c.state = disconnected
	c.factory.ClientConnectionFailed(c, reason)
	c.maybeStopFactory()
}

// Succeed completes the attempt in progress with a [StringTransport] (made
// with opts, its remote address the destination): the factory builds the
// protocol, which hears ConnectionMade. When that connection ends the
// factory hears ClientConnectionLost. A factory that builds nil refuses the
// connection: it is closed at once (ClientConnectionLost with
// [protocol.ErrConnectionDone]) and Succeed returns nil. It panics without
// an attempt in progress.
func (c *Connector) Succeed(opts ...Option) *StringTransport {
	c.need("Succeed")
	p := c.factory.BuildProtocol(c.dest)
	if p == nil {
		c.lost(protocol.ErrConnectionDone)
		return nil
	}
	t := NewStringTransport(append([]Option{WithRemoteAddr(c.dest)}, opts...)...)
	c.state = connected
	c.transport = t
	t.afterLost = c.lost
	t.Connect(p)
	return t
}

// SucceedWith completes the attempt in progress by connecting the
// protocol the factory builds to server through a [Pump] (made with opts),
// and returns the pump; the client is the pump's client. As Succeed, it
// handles a factory that builds nil by returning nil.
func (c *Connector) SucceedWith(server protocol.Protocol, opts ...PairOption) *Pump {
	c.need("SucceedWith")
	p := c.factory.BuildProtocol(c.dest)
	if p == nil {
		c.lost(protocol.ErrConnectionDone)
		return nil
	}
	pump := newPump(nil, opts)
	c.state = connected
	c.transport = pump.client
	pump.client.afterLost = c.lost
	pump.start(server, p)
	return pump
}

func (c *Connector) lost(reason error) {
	c.state = disconnected
	c.transport = nil
	c.factory.ClientConnectionLost(c, reason)
	c.maybeStopFactory()
}

func (c *Connector) maybeStopFactory() {
	if c.state == disconnected && c.factoryStarted {
		c.factoryStarted = false
		if h, ok := c.factory.(protocol.FactoryHooks); ok {
			h.StopFactory()
		}
	}
}

func (c *Connector) need(op string) {
	if c.state != connecting {
		panic("protocoltest: Connector." + op + ": no attempt in progress")
	}
}

var _ protocol.Connector = (*Connector)(nil)
