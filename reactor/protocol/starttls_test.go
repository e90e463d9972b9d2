//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// starter is a line protocol that switches to TLS when told: the server
// answers "STARTTLS" with "OK" in clear and starts TLS at once, in the
// same callback; afterwards it answers each line in upper case. The
// client says STARTTLS, starts TLS when it reads OK, then sends its
// secret.
type starter struct {
	protocol.Base
	config   *tls.Config
	server   bool
	buf      []byte
	tls      bool
	startErr error
	lines    chan string
	lost     chan error
}

func newStarter(server bool, config *tls.Config) *starter {
	return &starter{server: server, config: config, lines: make(chan string, 16), lost: make(chan error, 2)}
}

func (s *starter) ConnectionMade(t protocol.Transport) {
	s.Base.ConnectionMade(t)
	if !s.server {
		t.Write([]byte("STARTTLS\r\n"))
	}
}

func (s *starter) DataReceived(data []byte) {
	s.buf = append(s.buf, data...)
	for {
		i := bytes.Index(s.buf, []byte("\r\n"))
		if i < 0 {
			return
		}
		line := string(s.buf[:i])
		s.buf = s.buf[i+2:]
		s.lines <- line
		switch {
		case s.server && line == "STARTTLS":
			s.Transport.Write([]byte("OK\r\n"))
			s.startErr = s.Transport.(protocol.TLSTransport).StartTLS(s.config)
			s.tls = true
		case s.server:
			s.Transport.Write([]byte(string(bytes.ToUpper([]byte(line))) + "\r\n"))
		case line == "OK":
			s.startErr = s.Transport.(protocol.TLSTransport).StartTLS(s.config)
			s.tls = true
			s.Transport.Write([]byte("secret\r\n"))
		case line == "SECRET":
			s.Transport.LoseConnection()
		}
	}
}

func (s *starter) ConnectionLost(reason error) {
	s.Base.ConnectionLost(reason)
	s.lost <- reason
}

// StartTLS in mid-connection, on both ends of twine: the OK written before
// StartTLS goes out in clear, the secret after it is encrypted and
// decrypted, both ends learn the handshake's result, and the close is
// clean through close_notify.
func TestStartTLS(t *testing.T) {
	h := newHarness(t)
	cc := clientTLS()
	cc.ServerName = "localhost"
	server, client := newStarter(true, serverTLS()), newStarter(false, cc)
	port := h.listen(families[0], protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	h.connect(port, newClientFactory(func() protocol.Protocol { return client }))
	assert.Equal(t, "STARTTLS", recv(t, server.lines, "the server's first line"))
	assert.Equal(t, "OK", recv(t, client.lines, "the client's first line"))
	assert.Equal(t, "secret", recv(t, server.lines, "the secret"))
	assert.Equal(t, "SECRET", recv(t, client.lines, "the answer"))
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	type states struct {
		s, c     tls.ConnectionState
		sok, cok bool
		errs     [2]error
	}
	st := on(h, func() states {
		var x states
		x.s, x.sok = server.Transport.(protocol.SSLTransport).ConnectionState()
		x.c, x.cok = client.Transport.(protocol.SSLTransport).ConnectionState()
		x.errs = [2]error{server.startErr, client.startErr}
		return x
	})
	assert.Equal(t, [2]error{nil, nil}, st.errs)
	require.True(t, st.sok)
	require.True(t, st.cok)
	require.NotEmpty(t, st.c.PeerCertificates)
	assert.Empty(t, st.s.PeerCertificates, "the client sent no certificate")
}

// A twine server that starts TLS and crypto/tls's own client on the same
// socket: the OK comes in clear, then Go's handshake and its encrypted
// line work, so what twine sends after StartTLS is TLS.
func TestStartTLSWithGoClient(t *testing.T) {
	h := newHarness(t)
	server := newStarter(true, serverTLS())
	port := h.listen(families[0], protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	raw, err := net.Dial("tcp", port.Addr().String())
	require.NoError(t, err)
	defer raw.Close()
	require.NoError(t, raw.SetDeadline(time.Now().Add(waitLimit)))
	_, err = raw.Write([]byte("STARTTLS\r\n"))
	require.NoError(t, err)
	ok := make([]byte, 4)
	_, err = io.ReadFull(raw, ok)
	require.NoError(t, err)
	assert.Equal(t, "OK\r\n", string(ok))
	cc := clientTLS()
	cc.ServerName = "localhost"
	c := tls.Client(raw, cc)
	_, err = c.Write([]byte("hush\r\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HUSH\r\n", line)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
}

// StartTLS refuses, with ErrTLS, a second start, a connection that is
// closing, and a server config with no certificate; the connection is
// left as it was.
func TestStartTLSErrors(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(families[0], server, client)
	errs := on(h, func() []error {
		st := server.Transport.(protocol.TLSTransport)
		noCert := st.StartTLS(&tls.Config{})
		first := st.StartTLS(serverTLS())
		second := st.StartTLS(serverTLS())
		ct := client.Transport.(protocol.TLSTransport)
		ct.LoseConnection()
		closing := ct.StartTLS(clientTLS())
		return []error{noCert, first, second, closing}
	})
	assert.ErrorIs(t, errs[0], protocol.ErrTLS)
	assert.NoError(t, errs[1])
	assert.ErrorIs(t, errs[2], protocol.ErrTLS)
	assert.ErrorIs(t, errs[3], protocol.ErrTLS)
	assert.Panics(t, func() { _ = server.Transport.(protocol.TLSTransport).StartTLS(nil) })
	// The client closed in clear: the server's handshake sees the end.
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrTLS)
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
}
