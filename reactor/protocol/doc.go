// Package protocol is networking on the reactor: Twisted's protocols,
// factories, transports, listening ports and connectors, for Go.
//
// Use it to port a Twisted server or client, or a program that talks to
// child processes, or to write one that keeps every connection's state on
// the reactor goroutine, with no locks, beside the reactor's timers,
// Deferreds and cooperative tasks.
//
// A [Protocol] is the code that speaks on one connection. Its methods
// (ConnectionMade, DataReceived, ConnectionLost) run on the reactor
// goroutine, one at a time, so the state a protocol shares with every other
// callback of the reactor needs no locks. It writes through its [Transport],
// whose methods never block: what the kernel does not take at once waits in
// the transport's buffer, and a [Producer] registered on the transport is
// paused while that buffer is full. A [Factory] builds a protocol for each
// connection. [ListenTCP] and [ListenUnix] listen, as Twisted's listenTCP
// and listenUNIX, and return a [Port]; [ConnectTCP] and [ConnectUnix]
// connect for a [ClientFactory], as connectTCP and connectUNIX, and return
// a [Connector]. [ListenTLS] and [ConnectTLS] do the same over TLS
// (crypto/tls), as listenSSL and connectSSL, and every TCP or Unix
// connection's transport is a [TLSTransport] that can StartTLS in
// mid-connection. A [ServerEndpoint] listens and a [ClientEndpoint]
// connects, each answering with a Deferred, as Twisted's endpoints do:
// [TCPServerEndpoint], [UnixServerEndpoint], [TCPClientEndpoint] (which
// looks a name up and tries its addresses), [UnixClientEndpoint], or one
// that Twisted's endpoint strings describe:
//
//	server, err := protocol.ServerFromString(r, "tcp:8000:interface=127.0.0.1")
//	client, err := protocol.ClientFromString(r, "tcp:host=example.com:port=80")
//	d := protocol.ConnectProtocol(client, &Echo{})
//
//	type Echo struct{ protocol.Base }
//
//	func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }
//
//	r := reactor.New()
//	port, err := protocol.ListenTCP(r, "127.0.0.1:8000",
//		protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} }))
//	...
//	r.Run()
//
// The reasons a connection ends keep Twisted's tree ([ErrConnectionDone],
// [ErrConnectionLost], [ErrConnectionAborted], all [ErrConnectionClosed]),
// tested with errors.Is. A protocol callback that panics has its connection
// aborted, and the panic logged; the reactor and the other connections go
// on. When the reactor stops, its ports close first, then every connection
// is lost, each protocol hearing ConnectionLost once.
//
// On Linux the reactor goroutine waits for its sockets itself, in an epoll
// set of its own, in place of its sleep; while it is busy it looks for
// ready sockets after each pass of its loop. Reads and writes happen on the
// reactor goroutine, with no hand-off to another. On macOS and the BSDs, a
// goroutine per socket waits through Go's own poller and hands each event
// to the reactor with CallSoon; the reads and writes still happen on the
// reactor goroutine. Other systems have no sockets on the reactor yet
// ([ErrUnsupported]).
//
// Datagrams have [DatagramProtocol], with the same rules: [ListenUDP]
// starts one on a UDP port, Twisted's listenUDP, whose transport writes a
// datagram to an address or, once connected, to its one peer. Child processes
// have [SpawnProcess], Twisted's spawnProcess: a [ProcessProtocol] hears
// the child's output (OutReceived, ErrReceived), the close of each pipe,
// ProcessExited when the child exits and ProcessEnded once it has exited
// and every pipe has closed, and writes to its standard input through a
// [ProcessTransport], whose pipes the engine serves as it serves sockets,
// with the same write buffer and producers:
//
//	type Capture struct {
//		protocol.ProcessBase
//		out bytes.Buffer
//	}
//
//	func (c *Capture) OutReceived(data []byte)   { c.out.Write(data) }
//	func (c *Capture) ProcessEnded(reason error) { fmt.Print(c.out.String(), reason) }
//
//	t, err := protocol.SpawnProcess(r, &Capture{}, "cat", nil)
//	...
//	t.Write([]byte("hello\n"))
//	t.CloseStdin()
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
