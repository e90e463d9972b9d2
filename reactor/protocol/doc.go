// Package protocol is networking on the reactor: Twisted's protocols,
// factories, transports and endpoints, for Go.
//
// A [Protocol] is the code that speaks on one connection. Its methods
// (ConnectionMade, DataReceived, ConnectionLost) run on the reactor
// goroutine, one at a time, so the state a protocol shares with every other
// callback of the reactor needs no locks. It writes through its [Transport],
// whose methods never block: what the kernel does not take at once waits in
// the transport's buffer, and a [Producer] registered on the transport is
// paused while that buffer is full. A [Factory] builds a protocol for each
// connection. A [ServerEndpoint] listens and a [ClientEndpoint] connects,
// each answering with a Deferred, as Twisted's endpoints do.
//
//	type Echo struct{ protocol.Base }
//
//	func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }
//
// The reasons a connection ends keep Twisted's tree ([ErrConnectionDone],
// [ErrConnectionLost], [ErrConnectionAborted], all [ErrConnectionClosed]),
// tested with errors.Is.
//
// Datagrams have [DatagramProtocol] and child processes [ProcessProtocol],
// with the same rules.
//
// Clients that must stay connected have Twisted's two tools:
// [ReconnectingClientFactory], which connects again with exponential
// backoff whenever a connection fails or ends, and [ClientService], which
// keeps one connection to a [ClientEndpoint] up and hands it out as a
// Deferred ([ClientService.WhenConnected]).
//
// The framing protocols of twisted.protocols.basic are in the sub-package
// basic, TimeoutMixin in policies, and transports in memory for testing
// protocols in protocoltest.
package protocol
