//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"syscall"

	"github.com/twinego/twine/deferred"
)

// conn is a connected stream socket (TCP or Unix) and the [Transport] its
// protocol writes to: Twisted's tcp.Connection over abstract.FileDescriptor.
// Everything in it runs on the reactor goroutine.
//
// Reads: while the connection reads, the engine calls ready when the
// socket has data, and DataReceived gets what one read(2) returned, in the
// engine's buffer. PauseProducing takes the socket out of the poller's read
// set, so that the kernel's buffer fills and TCP's flow control slows the
// peer.
//
// Writes: Write appends to the connection's buffer and marks it for the
// engine, which writes it at the end of the pass, after the callbacks that
// wrote have run; what the kernel does not take stays buffered, and the
// poller reports when the socket can take more. A large write to an empty
// buffer goes straight to the socket, without a copy.
//
// The end: lose closes the socket at once and tells the protocol, once; if
// the protocol's own callback is running (it asked for the close, say), it
// is told when that callback returns.
type conn struct {
	e     *engine
	fd    int
	gen   int32
	mask  uint32 // the events registered in the poller
	proto Protocol
	hc    HalfCloseable // proto, if it hears half-closes
	local net.Addr
	peer  net.Addr
	log   *slog.Logger
	high  int // write buffer water marks
	low   int

	wbuf []byte // bytes to write are wbuf[woff:]
	woff int

	producer       Producer
	streaming      bool
	producerPaused bool // paused by the buffer's high water mark

	readPaused         bool // PauseProducing
	readDisconnected   bool // the peer's end of stream reached a HalfCloseable
	disconnecting      bool // LoseConnection
	writeDisconnecting bool // LoseWriteConnection
	writeDisconnected  bool // the write side is shut down
	dirty              bool // in the engine's flush list
	lost               bool // the socket is closed; ConnectionLost is told or due
	depth              int  // the protocol's callbacks running
	pending            error
	told               bool // ConnectionLost has run

	onLost func(reason error) // the connector's, for a client connection

	client    bool        // this side connected: a TLS client
	tlsConfig *tls.Config // start TLS with it (ListenTLS, ConnectTLS)
	tls       *tlsLayer   // TLS has started: see tlsconn.go

	// onPanic, when set, takes the place of the log and the abort that
	// follow a callback that panicked: a child process's pipe kills the
	// child and closes all its pipes instead.
	onPanic func(pe *deferred.PanicError)
}

// directWrite is the size from which a Write to an empty buffer goes
// straight to the socket instead of waiting for the end of the pass.
const directWrite = 16 << 10

func newConn(e *engine, fd int, proto Protocol, local, peer net.Addr, o *options) *conn {
	c := &conn{e: e, fd: fd, proto: proto, local: local, peer: peer, log: o.logger, high: o.high, low: o.low}
	c.hc, _ = proto.(HalfCloseable)
	c.tlsConfig = o.tls
	c.gen = e.register(fd, c)
	e.conns[c] = struct{}{}
	return c
}

// start registers the socket for reading and tells the protocol.
func (c *conn) start() {
	c.setInterest()
	if c.tlsConfig != nil {
		c.beginTLS(c.tlsConfig)
	}
	c.call(func() { c.proto.ConnectionMade(c) })
}

// setInterest registers the events the connection waits for now.
func (c *conn) setInterest() {
	if c.lost {
		return
	}
	var mask uint32
	// A TLS handshake reads on through a pause, which holds back
	// only the decrypted bytes.
	paused := c.readPaused && (c.tls == nil || c.tls.handshook)
	if c.tls != nil && c.tls.readStopped() {
		paused = true
	}
	if !paused && !c.readDisconnected && !c.disconnecting {
		mask |= evRead
	}
	if c.woff < len(c.wbuf) {
		mask |= evWrite
	}
	if mask == c.mask {
		return
	}
	if err := c.e.p.control(c.fd, c.gen, c.mask, mask); err != nil {
		c.mask = 0
		c.lose(&DisconnectError{Reason: ErrConnectionLost, Err: err}, false)
		return
	}
	c.mask = mask
}

// ready implements handler.
func (c *conn) ready(readable, writable bool) {
	if readable && c.mask&evRead != 0 {
		c.read()
	}
	if writable && !c.lost && c.mask&evWrite != 0 {
		c.flush()
	}
}

func (c *conn) read() {
	n, err := syscall.Read(c.fd, c.e.buf)
	switch {
	case err == syscall.EAGAIN:
		c.e.p.again(c.fd, c.gen, evRead, false)
	case err == syscall.EINTR:
		c.e.p.again(c.fd, c.gen, evRead, true)
	case err != nil:
		c.lose(&DisconnectError{Reason: ErrConnectionLost, Err: os.NewSyscallError("read", err)}, true)
	case n == 0:
		c.readConnectionLost()
	case c.tls != nil:
		c.tls.received(c.e.buf[:n])
		if c.mask&evRead != 0 {
			c.e.p.again(c.fd, c.gen, evRead, n == len(c.e.buf))
		}
	default:
		c.call(func() { c.proto.DataReceived(c.e.buf[:n]) })
		if c.mask&evRead != 0 {
			// A read that filled the buffer may have left more behind.
			c.e.p.again(c.fd, c.gen, evRead, n == len(c.e.buf))
		}
	}
}

// readConnectionLost handles the peer's end of stream: a HalfCloseable
// protocol hears it and may go on writing; another sees the connection
// closed cleanly.
func (c *conn) readConnectionLost() {
	if c.tls != nil {
		c.tls.readEOF()
		return
	}
	if c.hc == nil {
		c.lose(ErrConnectionDone, true)
		return
	}
	c.readDisconnected = true
	c.setInterest()
	c.call(c.hc.ReadConnectionLost)
}

// call runs one of the protocol's (or the producer's) callbacks. A panic in
// it is logged and aborts the connection; a close it asked for is told to
// the protocol once it has returned.
func (c *conn) call(f func()) {
	c.depth++
	defer func() {
		c.depth--
		if v := recover(); v != nil {
			pe := deferred.NewPanicError(v)
			if c.onPanic != nil {
				c.onPanic(pe)
			} else {
				c.log.Error("protocol: protocol callback panicked; aborting its connection", "err", pe, "peer", c.peer, "stack", string(pe.Stack))
				c.lose(&DisconnectError{Reason: ErrConnectionAborted, Err: pe}, true)
			}
		}
		if c.depth == 0 && c.pending != nil {
			reason := c.pending
			c.pending = nil
			c.tell(reason)
		}
	}()
	f()
}

// Write implements [Transport].
func (c *conn) Write(p []byte) (int, error) {
	if c.tls != nil {
		return c.tls.write(p)
	}
	return c.writeRaw(p)
}

// writeRaw writes p to the socket, as it is.
func (c *conn) writeRaw(p []byte) (int, error) {
	if c.lost || c.writeDisconnecting || (c.disconnecting && c.producer == nil) {
		return 0, c.closedError()
	}
	if len(p) == 0 {
		return 0, nil
	}
	total := len(p)
	if c.woff == len(c.wbuf) && total >= directWrite {
		n, err := syscall.Write(c.fd, p)
		switch {
		case err == nil:
			p = p[n:]
		case err != syscall.EAGAIN && err != syscall.EINTR:
			// Told after the caller's callback, as a failed flush would be.
			c.lose(&DisconnectError{Reason: ErrConnectionLost, Err: os.NewSyscallError("write", err)}, false)
			return total, nil
		}
		if len(p) == 0 {
			if c.producer != nil {
				// Nothing is left to drain, yet the producer waits to
				// hear that the buffer has drained: flush says so.
				c.e.markDirty(c)
			}
			return total, nil
		}
	}
	c.buffer(p)
	return total, nil
}

// buffer appends p to the write buffer and pauses a streaming producer
// that takes it over the high water mark.
func (c *conn) buffer(p []byte) {
	if c.woff > 0 && c.woff >= len(c.wbuf)/2 {
		n := copy(c.wbuf, c.wbuf[c.woff:])
		c.wbuf = c.wbuf[:n]
		c.woff = 0
	}
	c.wbuf = append(c.wbuf, p...)
	if c.mask&evWrite == 0 {
		c.e.markDirty(c)
	}
	if c.producer != nil && c.streaming && !c.producerPaused && c.buffered() > c.high {
		c.producerPaused = true
		c.call(c.producer.(PushProducer).PauseProducing)
	}
}

func (c *conn) buffered() int { return len(c.wbuf) - c.woff }

// WriteSequence implements [Transport].
func (c *conn) WriteSequence(ps [][]byte) (int, error) {
	total := 0
	for _, p := range ps {
		n, err := c.Write(p)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (c *conn) closedError() error {
	return fmt.Errorf("%w: write after the connection was closed", ErrConnectionClosed)
}

// flush writes what the buffer holds, as much as the kernel takes.
func (c *conn) flush() {
	if c.lost {
		return
	}
	for c.woff < len(c.wbuf) {
		n, err := syscall.Write(c.fd, c.wbuf[c.woff:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil {
			c.lose(&DisconnectError{Reason: ErrConnectionLost, Err: os.NewSyscallError("write", err)}, true)
			return
		}
		c.woff += n
		if c.woff < len(c.wbuf) {
			break // the kernel's buffer is full
		}
	}
	if c.woff < len(c.wbuf) {
		if c.mask&evWrite != 0 {
			c.e.p.again(c.fd, c.gen, evWrite, false)
		}
		c.setInterest()
		if c.producerPaused && c.buffered() <= c.low {
			c.resumeProducer()
		}
		return
	}
	c.wbuf = c.wbuf[:0]
	c.woff = 0
	if cap(c.wbuf) > 4*c.high+readBufferSize {
		c.wbuf = nil // let a burst's buffer go
	}
	c.setInterest()
	c.drained()
}

// drained runs when the write buffer has emptied: Twisted's doWrite, once
// everything is written. A producer that is paused or pulls is asked for
// more; failing that, a LoseConnection or LoseWriteConnection waiting for
// the buffer goes ahead.
func (c *conn) drained() {
	switch {
	case c.lost:
	case c.producer != nil && (!c.streaming || c.producerPaused):
		c.resumeProducer()
	case c.disconnecting:
		c.lose(ErrConnectionDone, false)
	case c.writeDisconnecting && !c.writeDisconnected:
		c.closeWrite()
	}
}

func (c *conn) resumeProducer() {
	if c.tls != nil && c.tls.holding() {
		return // the producer waits for the handshake
	}
	c.producerPaused = false
	switch p := c.producer.(type) {
	case PushProducer:
		c.call(p.ResumeProducing)
	case PullProducer:
		c.call(p.ResumeProducing)
	}
}

// closeWrite shuts the write side down once the buffer has been written.
func (c *conn) closeWrite() {
	c.writeDisconnected = true
	if err := syscall.Shutdown(c.fd, syscall.SHUT_WR); err != nil {
		c.lose(&DisconnectError{Reason: ErrConnectionLost, Err: os.NewSyscallError("shutdown", err)}, false)
		return
	}
	if c.tls != nil {
		c.tls.writeShut()
	}
	if c.hc != nil {
		c.call(c.hc.WriteConnectionLost)
	}
}

// LoseConnection implements [Transport].
func (c *conn) LoseConnection() {
	if c.tls != nil {
		c.tls.loseConnection()
		return
	}
	c.loseConnectionRaw()
}

// loseConnectionRaw closes the socket once its buffer has been written.
func (c *conn) loseConnectionRaw() {
	if c.lost || c.disconnecting {
		return
	}
	if c.writeDisconnected {
		c.lose(ErrConnectionDone, false)
		return
	}
	c.disconnecting = true
	c.setInterest() // stop reading, as Twisted does
	if c.buffered() == 0 && !c.dirty {
		c.drained()
	}
}

// LoseWriteConnection implements [Transport]; with TLS it is
// LoseConnection.
func (c *conn) LoseWriteConnection() {
	if c.tls != nil {
		c.tls.loseConnection()
		return
	}
	c.loseWriteConnectionRaw()
}

// loseWriteConnectionRaw shuts the socket's write side down once its
// buffer has been written.
func (c *conn) loseWriteConnectionRaw() {
	if c.lost || c.disconnecting || c.writeDisconnecting {
		return
	}
	c.writeDisconnecting = true
	if c.buffered() == 0 && !c.dirty {
		c.drained()
	}
}

// AbortConnection implements [Transport].
func (c *conn) AbortConnection() {
	if c.lost {
		return
	}
	c.lose(ErrConnectionAborted, false)
}

// Disconnecting implements [DisconnectingTransport]: LoseConnection or
// AbortConnection has been called, or the connection has ended.
func (c *conn) Disconnecting() bool {
	return c.disconnecting || c.lost || (c.tls != nil && (c.tls.disconnecting || c.tls.failed || c.tls.closing))
}

// LocalAddr implements [Transport].
func (c *conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements [Transport].
func (c *conn) RemoteAddr() net.Addr { return c.peer }

// RegisterProducer implements [Consumer].
func (c *conn) RegisterProducer(p Producer, streaming bool) {
	if p == nil {
		panic("protocol: Transport.RegisterProducer: nil producer")
	}
	if c.producer != nil {
		panic("protocol: Transport.RegisterProducer: a producer is already registered")
	}
	if streaming {
		if _, ok := p.(PushProducer); !ok {
			panic("protocol: Transport.RegisterProducer: a streaming producer must be a PushProducer")
		}
	} else if _, ok := p.(PullProducer); !ok {
		panic("protocol: Transport.RegisterProducer: a non-streaming producer must be a PullProducer")
	}
	if c.lost || c.writeDisconnected {
		c.call(p.StopProducing)
		return
	}
	c.producer, c.streaming, c.producerPaused = p, streaming, false
	if !streaming {
		c.call(p.(PullProducer).ResumeProducing)
	}
}

// UnregisterProducer implements [Consumer].
func (c *conn) UnregisterProducer() {
	c.producer = nil
	c.producerPaused = false
	if !c.lost && (c.disconnecting || c.writeDisconnecting) && c.buffered() == 0 && !c.dirty {
		c.drained()
	}
	if c.tls != nil {
		c.tls.producerGone()
	}
}

// PauseProducing implements [PushProducer]: the connection stops reading.
func (c *conn) PauseProducing() {
	c.readPaused = true
	c.setInterest()
}

// ResumeProducing implements [PushProducer]: the connection reads again.
func (c *conn) ResumeProducing() {
	c.readPaused = false
	c.setInterest()
	if c.tls != nil {
		c.tls.scheduleRead() // what TLS decrypted before the pause
	}
}

// StopProducing implements [Producer]: Twisted's, which loses the
// connection.
func (c *conn) StopProducing() { c.LoseConnection() }

// lose ends the connection with reason: the socket is closed at once and
// the buffer dropped; the producer is stopped and the protocol told, at
// once if now and no callback of the protocol is running, else once the
// running callback has returned (or, with none, in a function given to
// CallSoon). It does nothing the second time.
func (c *conn) lose(reason error, now bool) {
	if c.lost {
		return
	}
	c.lost = true
	c.e.unregister(c.fd, c.mask)
	c.mask = 0
	if reason == ErrConnectionDone {
		_ = syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
	}
	_ = syscall.Close(c.fd)
	c.wbuf, c.woff = nil, 0
	delete(c.e.conns, c)
	if c.tls != nil {
		c.tls.closed()
	}
	switch {
	case c.depth > 0:
		c.pending = reason
	case now:
		c.tell(reason)
	default:
		c.e.r.CallSoon(func() { c.tell(reason) })
	}
}

// tell stops the producer and tells the protocol (and the connector, for a
// client connection) that the connection has ended.
func (c *conn) tell(reason error) {
	if c.told {
		return
	}
	c.told = true
	if c.tls != nil && c.tls.reason != nil {
		reason = c.tls.reason // Twisted's: the TLS layer's reason first
	}
	if p := c.producer; p != nil {
		c.producer = nil
		guard(c.log, "protocol: Producer.StopProducing panicked", p.StopProducing)
	}
	guard(c.log, "protocol: Protocol.ConnectionLost panicked", func() { c.proto.ConnectionLost(reason) })
	if c.onLost != nil {
		c.onLost(reason)
	}
}

var _ DisconnectingTransport = (*conn)(nil)
