package protocol_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// pki is a certificate authority and the PEM files of certificates it
// signed, written to a directory of a test.
type pki struct {
	t       *testing.T
	dir     string
	caCert  *x509.Certificate
	caKey   *ecdsa.PrivateKey
	serial  int64
	caFile  string // the CA's certificate
	caDir   string // a directory holding caFile as ca.pem, and a file to skip
	crtFile string // "localhost"'s certificate, for that name only
	keyFile string // its key
	both    string // certificate and key in one file
	chain   string // two more certificates
	leaf    *x509.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{t: t, dir: t.TempDir()}
	var err error
	p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.caCert = p.sign(&x509.Certificate{Subject: pkix.Name{CommonName: "twine test CA"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, &p.caKey.PublicKey, nil)
	p.caFile = p.write("ca.crt", pemOf("CERTIFICATE", p.caCert.Raw))
	p.caDir = filepath.Join(p.dir, "cas")
	require.NoError(t, os.Mkdir(p.caDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(p.caDir, "ca.PEM"), pemOf("CERTIFICATE", p.caCert.Raw), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(p.caDir, "junk.pem"), []byte("not a certificate"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(p.caDir, "other.txt"), pemOf("CERTIFICATE", p.selfSigned("elsewhere").Raw), 0o600))

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.leaf = p.sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}, &key.PublicKey, p.caKey)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	p.crtFile = p.write("server.crt", pemOf("CERTIFICATE", p.leaf.Raw))
	p.keyFile = p.write("server.key", pemOf("PRIVATE KEY", der))
	p.both = p.write("both.pem", append(pemOf("PRIVATE KEY", der), pemOf("CERTIFICATE", p.leaf.Raw)...))
	p.chain = p.write("chain.pem", append(pemOf("CERTIFICATE", p.selfSigned("one").Raw), pemOf("CERTIFICATE", p.selfSigned("two").Raw)...))
	return p
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func (p *pki) write(name string, data []byte) string {
	path := filepath.Join(p.dir, name)
	require.NoError(p.t, os.WriteFile(path, data, 0o600))
	return path
}

// sign makes a certificate of template for pub, signed by signer (self
// signed if nil).
func (p *pki) sign(template *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	p.serial++
	template.SerialNumber = big.NewInt(p.serial)
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(time.Hour)
	parent := template
	if signer != nil {
		parent = p.caCert
	} else {
		signer = p.caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, signer)
	require.NoError(p.t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(p.t, err)
	return c
}

// selfSigned makes a certificate that no CA of the test signed.
func (p *pki) selfSigned(name string) *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(p.t, err)
	return p.sign(&x509.Certificate{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}}, &key.PublicKey, nil)
}

// Twisted's ServerStringTests for ssl: the endpoint's fields, and the
// configuration built from the files.
func TestServerFromStringSSL(t *testing.T) {
	p := newPKI(t)
	r := reactor.New()
	q := protocol.QuoteStringArgument
	t.Run("test_ssl", func(t *testing.T) {
		e, err := protocol.ServerFromString(r, "ssl:1234:backlog=12:privateKey="+q(p.keyFile)+":certKey="+q(p.crtFile)+":sslmethod=TLSv1_2_METHOD:interface=10.0.0.1")
		require.NoError(t, err)
		s := e.(*protocol.TLSServerEndpoint)
		assert.Equal(t, protocol.TCPServerEndpoint{Reactor: r, Network: "tcp4", Port: 1234, Interface: "10.0.0.1", Backlog: 12}, s.TCPServerEndpoint)
		require.Len(t, s.Config.Certificates, 1)
		assert.Equal(t, [][]byte{p.leaf.Raw}, s.Config.Certificates[0].Certificate)
		assert.Equal(t, uint16(tls.VersionTLS12), s.Config.MinVersion)
		assert.Equal(t, uint16(tls.VersionTLS12), s.Config.MaxVersion)
	})
	t.Run("test_sslWithDefaults", func(t *testing.T) {
		e, err := protocol.ServerFromString(r, "ssl:4321:privateKey="+q(p.both))
		require.NoError(t, err)
		s := e.(*protocol.TLSServerEndpoint)
		assert.Equal(t, protocol.TCPServerEndpoint{Reactor: r, Network: "tcp4", Port: 4321, Backlog: 50}, s.TCPServerEndpoint)
		assert.Equal(t, [][]byte{p.leaf.Raw}, s.Config.Certificates[0].Certificate)
		assert.Zero(t, s.Config.MinVersion)
		assert.Zero(t, s.Config.MaxVersion)
	})
	t.Run("test_sslChainLoads", func(t *testing.T) {
		e, err := protocol.ServerFromString(r, "ssl:1234:privateKey="+q(p.both)+":extraCertChain="+q(p.chain))
		require.NoError(t, err)
		chain := e.(*protocol.TLSServerEndpoint).Config.Certificates[0].Certificate
		require.Len(t, chain, 3)
		for i, name := range []string{"one", "two"} {
			c, err := x509.ParseCertificate(chain[i+1])
			require.NoError(t, err)
			assert.Equal(t, name, c.Subject.CommonName, "the chain keeps its order")
		}
	})
	t.Run("test_sslDHparameters", func(t *testing.T) {
		_, err := protocol.ServerFromString(r, "ssl:4321:privateKey="+q(p.both)+":dhParameters=someFile")
		assert.NoError(t, err)
	})
	empty := p.write("empty.pem", nil)
	for _, c := range []struct{ name, desc, msg string }{
		{"test_sslChainFileMustContainCert", "ssl:1234:privateKey=" + q(p.both) + ":extraCertChain=" + q(empty), "holds no certificate in PEM format"},
		{"no key file", "ssl:1234:privateKey=" + q(filepath.Join(p.dir, "none")) + ":certKey=" + q(p.crtFile), "cannot read the private key"},
		{"no default server.pem", "ssl:1234", "cannot read the certificates"},
		{"key of another certificate", "ssl:1234:privateKey=" + q(p.keyFile) + ":certKey=" + q(p.caFile), "does not go with the certificate"},
		{"certificate without key", "ssl:1234:privateKey=" + q(p.crtFile), "does not go with the certificate"},
		{"key without certificate", "ssl:1234:privateKey=" + q(p.keyFile), "holds no certificate"},
		{"SSLv3", "ssl:1234:privateKey=" + q(p.both) + ":sslmethod=SSLv3_METHOD", `sslmethod "SSLv3_METHOD" is not one of`},
		{"unknown parameter", "ssl:1234:privateKey=" + q(p.both) + ":caCertsDir=/", `ssl has no parameter "caCertsDir"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := protocol.ServerFromString(r, c.desc)
			require.ErrorIs(t, err, protocol.ErrEndpointString)
			assert.Contains(t, err.Error(), c.msg)
			assert.Nil(t, e)
		})
	}
	_, err := protocol.ServerFromString(r, "ssl:1234:privateKey="+q(filepath.Join(p.dir, "none")))
	assert.ErrorIs(t, err, fs.ErrNotExist, "the cause is kept")
}

// Twisted's SSLClientStringTests.
func TestClientFromStringSSL(t *testing.T) {
	p := newPKI(t)
	r := reactor.New()
	q := protocol.QuoteStringArgument
	verifies := func(t *testing.T, c *tls.Config, cert *x509.Certificate) bool {
		t.Helper()
		_, err := cert.Verify(x509.VerifyOptions{Roots: c.RootCAs})
		return err == nil
	}
	t.Run("test_ssl", func(t *testing.T) {
		e, err := protocol.ClientFromString(r, "ssl:host=example.net:port=4321:privateKey="+q(p.keyFile)+":certKey="+q(p.crtFile)+":bindAddress=10.0.0.3:timeout=3:caCertsDir="+q(p.caDir))
		require.NoError(t, err)
		c := e.(*protocol.TLSClientEndpoint)
		assert.Equal(t, protocol.TCPClientEndpoint{Reactor: r, Host: "example.net", Port: 4321, Timeout: 3 * time.Second, BindAddress: &net.TCPAddr{IP: net.ParseIP("10.0.0.3")}}, c.TCPClientEndpoint)
		require.Len(t, c.Config.Certificates, 1)
		assert.Equal(t, [][]byte{p.leaf.Raw}, c.Config.Certificates[0].Certificate)
		require.NotNil(t, c.Config.RootCAs)
		assert.True(t, verifies(t, c.Config, p.leaf), "caCertsDir's CA is trusted")
		assert.False(t, verifies(t, c.Config, p.selfSigned("elsewhere")), "only caCertsDir's .pem files are read")
		// No hostname: the chain is checked, not the name.
		assert.True(t, c.Config.InsecureSkipVerify)
		require.NotNil(t, c.Config.VerifyPeerCertificate)
		assert.NoError(t, c.Config.VerifyPeerCertificate([][]byte{p.leaf.Raw}, nil))
		assert.Error(t, c.Config.VerifyPeerCertificate([][]byte{p.selfSigned("localhost").Raw}, nil))
		assert.Error(t, c.Config.VerifyPeerCertificate(nil, nil))
	})
	t.Run("test_sslPositionalArgs", func(t *testing.T) {
		e, err := protocol.ClientFromString(r, "ssl:example.net:4321:certKey="+q(p.both)+":bindAddress=10.0.0.3:timeout=3:caCertsDir="+q(p.caDir))
		require.NoError(t, err)
		c := e.(*protocol.TLSClientEndpoint)
		assert.Equal(t, "example.net", c.Host)
		assert.Equal(t, 4321, c.Port)
		assert.Equal(t, 3*time.Second, c.Timeout)
		assert.Equal(t, [][]byte{p.leaf.Raw}, c.Config.Certificates[0].Certificate, "the key comes from certKey's file")
	})
	t.Run("test_sslWithDefaults", func(t *testing.T) {
		e, err := protocol.ClientFromString(r, "ssl:example.net:4321")
		require.NoError(t, err)
		c := e.(*protocol.TLSClientEndpoint)
		assert.Equal(t, protocol.TCPClientEndpoint{Reactor: r, Host: "example.net", Port: 4321, Timeout: 30 * time.Second}, c.TCPClientEndpoint)
		assert.Empty(t, c.Config.Certificates)
		// test_sslSimple: without hostname nor caCertsDir, Twisted does not
		// verify the server.
		assert.True(t, c.Config.InsecureSkipVerify)
		assert.Nil(t, c.Config.RootCAs)
		assert.Nil(t, c.Config.VerifyPeerCertificate)
	})
	t.Run("hostname", func(t *testing.T) {
		e, err := protocol.ClientFromString(r, "ssl:127.0.0.1:4321:hostname=localhost:caCertsDir="+q(p.caDir))
		require.NoError(t, err)
		c := e.(*protocol.TLSClientEndpoint)
		assert.Equal(t, "localhost", c.Config.ServerName)
		assert.False(t, c.Config.InsecureSkipVerify, "the name and chain are verified")
		assert.True(t, verifies(t, c.Config, p.leaf))
	})
	for _, c := range []struct{ name, desc, msg string }{
		{"privateKey without certKey", "ssl:a:1:privateKey=" + q(p.keyFile), "privateKey needs certKey"},
		{"no caCertsDir", "ssl:a:1:caCertsDir=" + q(filepath.Join(p.dir, "none")), "cannot read caCertsDir"},
		{"unknown parameter", "ssl:a:1:sslmethod=TLSv1_METHOD", `ssl has no parameter "sslmethod"`},
		{"missing port", "ssl:a", "ssl needs a port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := protocol.ClientFromString(r, c.desc)
			require.ErrorIs(t, err, protocol.ErrEndpointString)
			assert.Contains(t, err.Error(), c.msg)
			assert.Nil(t, e)
		})
	}
}
