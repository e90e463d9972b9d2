package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/twinego/twine/reactor/protocol"
)

// The net suite's TLS echo: the same load client as the echo scenario,
// over TLS, against twine's ListenTLS and against crypto/tls with a
// goroutine per connection. The handshakes happen before the load starts,
// so the figures are those of records, not of handshakes.

// benchCert is a self-signed ECDSA P-256 certificate for 127.0.0.1, made
// once; the load client does not verify it.
var benchCert = sync.OnceValues(func() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "twine bench"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
})

func benchServerTLS() (*tls.Config, error) {
	cert, err := benchCert()
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// dialTLS is the load client's dial for the TLS echo: the handshake is
// done before it returns.
func dialTLS(addr string) (net.Conn, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // the bench's own certificate
	if err != nil {
		return nil, err
	}
	return c, nil
}

// twineEchoTLS serves the echo over TLS on a new reactor.
func twineEchoTLS() (string, func() error, error) {
	config, err := benchServerTLS()
	if err != nil {
		return "", nil, err
	}
	r := startReactor()
	var port *protocol.Port
	r.call(func() {
		port, err = protocol.ListenTLS(r.Reactor, "127.0.0.1:0", config,
			protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &echoProtocol{} }),
			protocol.WithBacklog(1024), protocol.WithLogger(quietLogger))
	})
	if err != nil {
		_ = r.stop()
		return "", nil, err
	}
	return port.Addr().String(), r.stop, nil
}

// goEchoTLS is the plain Go baseline over TLS: crypto/tls's listener and a
// goroutine per connection that reads and writes back.
func goEchoTLS() (string, func() error, error) {
	config, err := benchServerTLS()
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	return serveGoEcho(tls.NewListener(ln, config))
}
