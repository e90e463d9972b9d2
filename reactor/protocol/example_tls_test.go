//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// exampleConfigs returns a server config with a self-signed certificate
// for localhost and 127.0.0.1, and a client config that trusts it.
func exampleConfigs() (server, client *tls.Config) {
	cert, pool := testCert()
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: pool}
}

// TLSGreeter is the Greeter of ListenTCP's example, told of its handshake.
type TLSGreeter struct{ Greeter }

func (g *TLSGreeter) BuildProtocol(net.Addr) protocol.Protocol { return g }

func (g *TLSGreeter) HandshakeCompleted() {
	st, _ := g.Transport.(protocol.SSLTransport).ConnectionState()
	fmt.Println("handshake:", tls.VersionName(st.Version), "with", st.PeerCertificates[0].Subject.CommonName)
}

// The echo server of ListenTCP's example over TLS, and its client: the
// client writes as soon as the TCP connection is up, and TLS holds the
// write until the handshake has ended; LoseConnection closes with
// close_notify.
func ExampleListenTLS() {
	serverConfig, clientConfig := exampleConfigs()
	r := reactor.New()
	port, err := protocol.ListenTLS(r, "127.0.0.1:0", serverConfig,
		protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} }))
	if err != nil {
		fmt.Println(err)
		return
	}
	protocol.ConnectTLS(r, port.Addr().String(), clientConfig, &TLSGreeter{Greeter{r: r}})
	r.Run()
	// Output:
	// handshake: TLS 1.3 with twine test
	// the server said "hello, world"
	// closed: protocol: connection was closed cleanly
}

// StartTLSServer answers STARTTLS with OK, in clear, then switches the
// connection to TLS; afterwards it echoes.
type StartTLSServer struct {
	protocol.Base
	config *tls.Config
	tls    bool
}

func (s *StartTLSServer) DataReceived(data []byte) {
	if !s.tls && string(data) == "STARTTLS\r\n" {
		s.Transport.Write([]byte("OK\r\n")) // written before StartTLS: in clear
		s.tls = true
		if err := s.Transport.(protocol.TLSTransport).StartTLS(s.config); err != nil {
			fmt.Println(err)
		}
		return
	}
	s.Transport.Write(data)
}

// StartTLSClient asks for TLS, starts it on the server's OK, and sends a
// secret.
type StartTLSClient struct {
	protocol.Base
	protocol.ClientFactoryBase
	r      *reactor.Reactor
	config *tls.Config
}

func (c *StartTLSClient) BuildProtocol(net.Addr) protocol.Protocol { return c }

func (c *StartTLSClient) ConnectionMade(t protocol.Transport) {
	c.Base.ConnectionMade(t)
	t.Write([]byte("STARTTLS\r\n"))
}

func (c *StartTLSClient) DataReceived(data []byte) {
	if string(data) == "OK\r\n" {
		fmt.Printf("in clear: %q\n", data)
		if err := c.Transport.(protocol.TLSTransport).StartTLS(c.config); err != nil {
			fmt.Println(err)
			return
		}
		c.Transport.Write([]byte("secret"))
		return
	}
	fmt.Printf("over TLS: %q\n", data)
	c.Transport.LoseConnection()
}

func (c *StartTLSClient) HandshakeCompleted() { fmt.Println("handshake done") }

func (c *StartTLSClient) ClientConnectionLost(_ protocol.Connector, reason error) {
	fmt.Println("closed:", reason)
	c.r.Stop()
}

// A line of clear text, then TLS on the same connection, as SMTP's and
// IMAP's STARTTLS do: the server's side is the one that accepted the
// connection, the client's the one that made it.
func ExampleTLSTransport() {
	serverConfig, clientConfig := exampleConfigs()
	clientConfig.ServerName = "localhost" // StartTLS cannot tell the host
	r := reactor.New()
	port, err := protocol.ListenTCP(r, "127.0.0.1:0",
		protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &StartTLSServer{config: serverConfig} }))
	if err != nil {
		fmt.Println(err)
		return
	}
	protocol.ConnectTCP(r, port.Addr().String(), &StartTLSClient{r: r, config: clientConfig})
	r.Run()
	// Output:
	// in clear: "OK\r\n"
	// handshake done
	// over TLS: "secret"
	// closed: protocol: connection was closed cleanly
}
