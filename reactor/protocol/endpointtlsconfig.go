package protocol

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinego/twine/reactor"
)

// sslServer parses "ssl:..." for ServerFromString: Twisted's _parseSSL.
func (d *description) sslServer(r *reactor.Reactor) (ServerEndpoint, error) {
	v, err := d.bind([]string{"port", "privateKey", "certKey", "sslmethod", "interface", "backlog", "extraCertChain", "dhParameters"}, 1)
	if err != nil {
		return nil, err
	}
	e := &TLSServerEndpoint{TCPServerEndpoint: TCPServerEndpoint{Reactor: r, Network: "tcp4", Interface: v["interface"]}}
	if e.Port, err = d.port(v, 0); err != nil {
		return nil, err
	}
	if e.Backlog, err = d.backlog(v); err != nil {
		return nil, err
	}
	if e.Config, err = d.serverTLSConfig(v); err != nil {
		return nil, err
	}
	return e, nil
}

// serverTLSConfig builds a server's configuration from privateKey,
// certKey, extraCertChain and sslmethod.
func (d *description) serverTLSConfig(v map[string]string) (*tls.Config, error) {
	keyFile, ok := v["privateKey"]
	if !ok {
		keyFile = "server.pem"
	}
	certFile, ok := v["certKey"]
	if !ok {
		certFile = keyFile
	}
	cert, err := d.keyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if chainFile, ok := v["extraCertChain"]; ok {
		chain, err := d.certificates(chainFile)
		if err != nil {
			return nil, err
		}
		if len(chain) == 0 {
			return nil, d.errorf(nil, "chain file %q holds no certificate in PEM format", chainFile)
		}
		for _, c := range chain {
			cert.Certificate = append(cert.Certificate, c.Raw)
		}
	}
	config := &tls.Config{Certificates: []tls.Certificate{cert}}
	switch m := v["sslmethod"]; m {
	case "", "SSLv23_METHOD":
	case "TLSv1_METHOD":
		config.MinVersion, config.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
	case "TLSv1_1_METHOD":
		config.MinVersion, config.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
	case "TLSv1_2_METHOD":
		config.MinVersion, config.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	default:
		return nil, d.errorf(nil, "sslmethod %q is not one of SSLv23_METHOD, TLSv1_METHOD, TLSv1_1_METHOD, TLSv1_2_METHOD", m)
	}
	return config, nil
}

// sslClient parses "ssl:..." for ClientFromString: Twisted's
// _parseClientSSL.
func (d *description) sslClient(r *reactor.Reactor) (ClientEndpoint, error) {
	tcp, v, err := d.tcpClient(r, []string{"certKey", "privateKey", "caCertsDir", "hostname"})
	if err != nil {
		return nil, err
	}
	config, err := d.clientTLSConfig(v)
	if err != nil {
		return nil, err
	}
	return &TLSClientEndpoint{TCPClientEndpoint: *tcp, Config: config}, nil
}

// clientTLSConfig builds a client's configuration from hostname, certKey,
// privateKey and caCertsDir: Twisted's _parseClientSSLOptions.
func (d *description) clientTLSConfig(v map[string]string) (*tls.Config, error) {
	config := &tls.Config{}
	if certFile, ok := v["certKey"]; ok {
		keyFile, ok := v["privateKey"]
		if !ok {
			keyFile = certFile
		}
		cert, err := d.keyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{cert}
	} else if _, ok := v["privateKey"]; ok {
		return nil, d.errorf(nil, "privateKey needs certKey")
	}
	if dir, ok := v["caCertsDir"]; ok {
		pool, err := d.certPool(dir)
		if err != nil {
			return nil, err
		}
		config.RootCAs = pool
	}
	if name, ok := v["hostname"]; ok {
		config.ServerName = name
		return config, nil
	}
	// Twisted checks no name without hostname: the chain alone, against
	// caCertsDir's certificates, or nothing at all.
	config.InsecureSkipVerify = true
	if pool := config.RootCAs; pool != nil {
		config.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, pool)
		}
	}
	return config, nil
}

// verifyChain checks that the certificates a server sent lead to one of
// roots, whatever name the first carries.
func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("protocol: the server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

// keyPair reads a certificate and its private key: the first certificate
// of certFile, the first private key of keyFile (which may be the same
// file), as Twisted's PrivateCertificate.loadPEM.
func (d *description) keyPair(certFile, keyFile string) (tls.Certificate, error) {
	certs, err := d.certificates(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	if len(certs) == 0 {
		return tls.Certificate{}, d.errorf(nil, "certificate file %q holds no certificate in PEM format", certFile)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, d.errorf(err, "cannot read the private key")
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, d.errorf(err, "the private key in %q does not go with the certificate in %q", keyFile, certFile)
	}
	return cert, nil
}

// certificates reads every certificate of a PEM file, in order.
func (d *description) certificates(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, d.errorf(err, "cannot read the certificates")
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return certs, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, d.errorf(err, "a certificate in %q does not parse", file)
		}
		certs = append(certs, c)
	}
}

// certPool reads the certificates of the files of dir whose names end in
// ".pem" (in any case), skipping those it cannot read or parse, as
// Twisted's _loadCAsFromDir does.
func (d *description) certPool(dir string) (*x509.CertPool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, d.errorf(err, "cannot read caCertsDir")
	}
	pool := x509.NewCertPool()
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".pem") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		pool.AppendCertsFromPEM(data)
	}
	return pool, nil
}
