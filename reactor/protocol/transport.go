package protocol

import "net"

// Transport is one end of a connection, as a protocol sees it: Twisted's
// ITransport with ITCPTransport's half-close and abort, and the producer and
// consumer sides of the connection (IConsumer, IPushProducer).
//
// Its methods are called on the reactor goroutine, by the protocol it was
// given to or by code running there; another goroutine goes through the
// reactor's CallSoon. None of them blocks.
type Transport interface {
	// Write queues p to be sent and returns len(p), nil. It never blocks:
	// what the kernel does not take at once waits in the transport's write
	// buffer, which is copied, so p may be reused at once. After
	// LoseConnection or LoseWriteConnection, or once the connection has
	// ended, Write drops p and returns 0 and an error that errors.Is
	// matches against [ErrConnectionClosed]; the one exception is a
	// producer still registered after LoseConnection, whose writes are
	// its output and go out before the close, as in Twisted. A streaming producer registered on the
	// transport is paused inside the Write that takes the buffer over its
	// high water mark.
	Write(p []byte) (int, error)

	// WriteSequence writes each slice of ps in order, as one Write of their
	// concatenation would.
	WriteSequence(ps [][]byte) (int, error)

	// LoseConnection closes the connection once the write buffer (and a
	// registered producer's output, when the producer has been
	// unregistered) has been written. Later writes are dropped.
	// ConnectionLost follows with ErrConnectionDone unless the write fails.
	// Calling it again does nothing.
	LoseConnection()

	// AbortConnection closes the connection at once and drops the write
	// buffer. ConnectionLost follows with ErrConnectionAborted. Calling it
	// again, or after the connection has ended, does nothing.
	AbortConnection()

	// LoseWriteConnection shuts down the write side once the buffer has
	// been written (a TCP FIN), and goes on reading: Twisted's
	// loseWriteConnection. A [HalfCloseable] protocol then hears
	// WriteConnectionLost. On a transport that cannot half-close it is
	// LoseConnection.
	LoseWriteConnection()

	// LocalAddr returns this end's address: Twisted's getHost.
	LocalAddr() net.Addr

	// RemoteAddr returns the peer's address: Twisted's getPeer.
	RemoteAddr() net.Addr

	// The transport is a consumer: a producer registered on it is paused
	// while the write buffer is above its high water mark and resumed when
	// it falls below its low water mark (streaming), or asked for more
	// whenever the buffer has drained (not streaming).
	Consumer

	// The transport is a push producer of the bytes it reads: PauseProducing
	// stops reading from the connection (so the peer's writes back up,
	// through TCP's flow control) until ResumeProducing; StopProducing is
	// LoseConnection, as Twisted's FileDescriptor.stopProducing is. A
	// protocol pauses it to apply backpressure to a peer that sends faster
	// than it can handle.
	PushProducer
}

// Producer is a source of data written to a [Consumer]: Twisted's IProducer.
// Its methods are called on the reactor goroutine.
type Producer interface {
	// StopProducing is called once when the consumer will take no more:
	// the connection has ended, say. The producer stops for good.
	StopProducing()
}

// PushProducer is a producer that writes on its own, as fast as it can,
// until it is paused: Twisted's IPushProducer. Register it with streaming
// true.
type PushProducer interface {
	Producer
	// PauseProducing asks the producer to stop writing until ResumeProducing.
	PauseProducing()
	// ResumeProducing lets a paused producer write again.
	ResumeProducing()
}

// PullProducer is a producer that writes once each time it is asked:
// Twisted's IPullProducer. Register it with streaming false; the consumer
// calls ResumeProducing whenever it wants more data.
type PullProducer interface {
	Producer
	// ResumeProducing asks the producer to write some more data, once.
	ResumeProducing()
}

// Consumer takes data from a producer: Twisted's IConsumer. A transport is
// one.
type Consumer interface {
	// RegisterProducer makes p the consumer's producer. If streaming is
	// true, p must be a [PushProducer] and the consumer pauses and resumes
	// it; if false, p must be a [PullProducer] and the consumer asks it for
	// data each time its buffer has drained. Registering while another
	// producer is registered panics (Twisted raises RuntimeError), as does
	// a p that lacks the methods streaming calls for. On a consumer that
	// has already closed, p is told StopProducing at once.
	RegisterProducer(p Producer, streaming bool)

	// UnregisterProducer forgets the producer; it is not stopped.
	UnregisterProducer()

	// Write hands data to the consumer.
	Write(p []byte) (int, error)
}

// DisconnectingTransport is a [Transport] that tells whether it is closing:
// Twisted's transport.disconnecting. Disconnecting reports true from the
// moment LoseConnection or AbortConnection has been called, or the
// connection has ended, on; a half-close (LoseWriteConnection) does not
// count. Framing protocols check it to stop delivering the messages of a
// chunk once one of them has closed the connection, as Twisted's
// LineReceiver does. Every transport twine provides implements it; a
// transport that does not is taken as never disconnecting.
type DisconnectingTransport interface {
	Transport
	Disconnecting() bool
}
