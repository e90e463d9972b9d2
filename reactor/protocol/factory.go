package protocol

import "net"

// Factory makes a protocol for each connection: Twisted's IProtocolFactory.
// A listening port asks it for a protocol for each connection it accepts;
// a connector, for the connection it makes. BuildProtocol runs on the
// reactor goroutine. A factory that returns nil refuses the connection,
// which is closed at once.
//
// A factory that also has the methods of [FactoryHooks] is started when the
// first port or connector that uses it starts, and stopped when the last
// one stops, as Twisted's doStart and doStop do.
type Factory interface {
	BuildProtocol(addr net.Addr) Protocol
}

// FactoryHooks is implemented by a [Factory] that wants to know when it
// starts and stops being used: Twisted's startFactory and stopFactory.
// StartFactory is called before the first protocol is built, when the
// first port or connector that uses the factory starts; StopFactory after
// the last one has stopped (listening, or trying to connect). Both run on
// the reactor goroutine.
type FactoryHooks interface {
	StartFactory()
	StopFactory()
}

// FactoryFunc is a [Factory] made of a function, for the common case of a
// factory that only builds protocols: Twisted's Factory.forProtocol.
//
//	f := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} })
type FactoryFunc func(addr net.Addr) Protocol

// BuildProtocol calls f.
func (f FactoryFunc) BuildProtocol(addr net.Addr) Protocol { return f(addr) }

// ClientFactory is a [Factory] for the connections a [Connector] makes, told
// how each attempt goes: Twisted's ClientFactory. Its methods run on the
// reactor goroutine. Embed [ClientFactoryBase] to write only the methods
// that matter.
type ClientFactory interface {
	Factory

	// StartedConnecting is called when the connector starts an attempt.
	StartedConnecting(c Connector)

	// ClientConnectionFailed is called when an attempt fails before a
	// connection is made (refused, timed out, a name that does not
	// resolve), with the reason. c.Connect tries again.
	ClientConnectionFailed(c Connector, reason error)

	// ClientConnectionLost is called when a connection the connector made
	// has ended, after the protocol's ConnectionLost, with the same
	// reason. c.Connect connects again.
	ClientConnectionLost(c Connector, reason error)
}

// ClientFactoryBase implements the three connection methods of
// [ClientFactory] with methods that do nothing. Embed it, and add
// BuildProtocol.
type ClientFactoryBase struct{}

// StartedConnecting does nothing.
func (ClientFactoryBase) StartedConnecting(Connector) {}

// ClientConnectionFailed does nothing.
func (ClientFactoryBase) ClientConnectionFailed(Connector, error) {}

// ClientConnectionLost does nothing.
func (ClientFactoryBase) ClientConnectionLost(Connector, error) {}

// Connector makes and remakes one client connection for a [ClientFactory]:
// Twisted's IConnector. Its methods are called on the reactor goroutine.
type Connector interface {
	// Connect starts a new attempt to connect, after a failure or a lost
	// connection. Called while an attempt is in progress or a connection
	// is up, it panics.
	Connect()

	// StopConnecting stops the attempt in progress, which then fails with
	// an error matched by [ErrUserCancelled]. Without an attempt in
	// progress (the connection is up, or no attempt was started) it does
	// nothing: Twisted raises NotConnectingError there, and its callers
	// (ReconnectingClientFactory.stopTrying among them) catch it and go
	// on, since a factory cannot always tell an attempt from a connection.
	StopConnecting()

	// Disconnect ends the connection (LoseConnection) if there is one, or
	// stops the attempt in progress if there is one; otherwise it does
	// nothing.
	Disconnect()

	// Destination is the address the connector connects to.
	Destination() net.Addr
}
