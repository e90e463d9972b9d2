package protocol

import (
	"crypto/tls"
	"errors"
)

// ErrTLS is the error under the reason a TLS connection ends with when TLS
// itself failed: a handshake that failed (a certificate that does not
// verify, a wrong host name, a peer that does not speak TLS), a record
// that does not decrypt, a peer that closed without close_notify. The
// reason is a *[DisconnectError] whose Reason is [ErrConnectionLost] and
// whose Err wraps ErrTLS and crypto/tls's own error, so errors.Is matches
// ErrTLS and errors.As finds, say, a *tls.CertificateVerificationError.
// [TLSTransport.StartTLS] fails with it too. Twisted's SSL.Error.
var ErrTLS = errors.New("protocol: TLS failed")

// TLSTransport is the [Transport] of a connection that can start TLS:
// Twisted's ITLSTransport. The transports of TCP and Unix connections are
// TLSTransports.
type TLSTransport interface {
	Transport

	// StartTLS makes the connection a TLS connection from now on, as
	// Twisted's startTLS(ctx) with normal=True: a connection this side
	// accepted is the TLS server, and config must then hold a certificate;
	// a connection this side made is the client, and config must name the
	// server (ServerName) or skip verification, as crypto/tls's Client
	// requires, since the transport cannot tell the host name it was
	// given. The config's callbacks run on the handshake's goroutine, not
	// on the reactor goroutine. What was written before
	// StartTLS goes out in clear first; then the handshake starts at once,
	// and from here on writes are encrypted (held until the handshake
	// ends, as with [ListenTLS]) and the bytes received are decrypted
	// before DataReceived sees them. It fails with an error matched by
	// [ErrTLS] when TLS has already started, or when the connection is
	// closing or closed. A nil config panics.
	StartTLS(config *tls.Config) error
}

// SSLTransport is the transport of a TLS connection, which tells the
// outcome of its handshake: Twisted's ISSLTransport, whose
// getPeerCertificate is ConnectionState().PeerCertificates[0].
// ConnectionState reports false until the handshake has ended, and after a
// failed one. The transports of TCP and Unix connections are
// SSLTransports; without TLS they report false.
type SSLTransport interface {
	Transport
	ConnectionState() (tls.ConnectionState, bool)
}

// HandshakeListener is implemented by a protocol that wants to hear when
// its TLS handshake has ended well: Twisted's IHandshakeListener.
// HandshakeCompleted runs on the reactor goroutine, after ConnectionMade
// and before any decrypted byte reaches DataReceived; the transport's
// ConnectionState is then known. What it writes goes out after the writes
// held during the handshake. A failed handshake ends the connection instead
// (ConnectionLost with an error matched by [ErrTLS]).
type HandshakeListener interface {
	HandshakeCompleted()
}
