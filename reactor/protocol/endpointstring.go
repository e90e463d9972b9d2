package protocol

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/twinego/twine/reactor"
)

// ErrEndpointString is the error, wrapped with the description and what is
// wrong with it, that [ServerFromString] and [ClientFromString] fail with:
// an unknown endpoint type, an unknown or repeated parameter, a missing
// one, a number that does not parse or is out of range, a file of keys or
// certificates that cannot be read. Twisted raises ValueError or TypeError
// there.
var ErrEndpointString = errors.New("protocol: bad endpoint description")

// ServerFromString returns the server endpoint a description names:
// Twisted's serverFromString. A description is the endpoint's type, then
// its parameters, separated by colons; a parameter is a value (positional,
// in the order below) or name=value. A backslash makes the character after
// it plain ("\:" is a colon within a value, "\\" a backslash), and an '='
// within a value needs none ("unix:address=a=b" is the path "a=b"); see
// [QuoteStringArgument]. Numbers are decimal, a mode octal.
//
//	tcp:port[:interface][:backlog]         a [TCPServerEndpoint] over IPv4 (interface "", backlog 50)
//	tcp6:port[:backlog][:interface]        the same over IPv6 (interface "::")
//	unix:address[:mode][:backlog][:lockfile]
//	                                       a [UnixServerEndpoint] (mode 666, backlog 50)
//	ssl:port[:privateKey][:certKey][:sslmethod][:interface][:backlog][:extraCertChain][:dhParameters]
//	                                       a [TLSServerEndpoint] over IPv4: see below
//
// For example "tcp:8080:interface=127.0.0.1:backlog=10", "tcp6:8080",
// "unix:/run/app.sock:mode=660". The type is matched without regard to
// case. Twisted's lockfile is accepted (0 or 1) but no lock file is made.
//
// For "ssl", privateKey (default "server.pem") is a PEM file holding the
// private key, and certKey (default: privateKey) a PEM file whose first
// certificate is the server's; extraCertChain, a PEM file of the
// certificates that lead from it to a root, sent after it; sslmethod one of
// SSLv23_METHOD (the default: any version crypto/tls allows),
// TLSv1_METHOD, TLSv1_1_METHOD, TLSv1_2_METHOD (that version only).
// dhParameters is accepted and ignored: crypto/tls has no finite-field
// Diffie-Hellman, and its ECDHE key exchanges give forward secrecy without
// it. The files are read here, as Twisted does.
//
// A description that does not parse, or names what does not exist, fails
// with an error matched by [ErrEndpointString]; the endpoint itself is
// checked when it listens (an interface that is not an IP literal of its
// family fails Listen with [ErrCannotListen]). A nil r panics.
func ServerFromString(r *reactor.Reactor, description string) (ServerEndpoint, error) {
	if r == nil {
		panic("protocol: ServerFromString: nil reactor")
	}
	p, err := parseDescription(description)
	if err != nil {
		return nil, err
	}
	switch p.kind {
	case "tcp", "tcp6":
		names := []string{"port", "interface", "backlog"}
		e := &TCPServerEndpoint{Reactor: r, Network: "tcp4"}
		if p.kind == "tcp6" {
			// Twisted's TCP6 parser takes them in this order.
			names = []string{"port", "backlog", "interface"}
			e.Network, e.Interface = "tcp6", "::"
		}
		v, err := p.bind(names, 1)
		if err != nil {
			return nil, err
		}
		if e.Port, err = p.port(v, 0); err != nil {
			return nil, err
		}
		if iface, ok := v["interface"]; ok {
			e.Interface = iface
		}
		if e.Backlog, err = p.backlog(v); err != nil {
			return nil, err
		}
		return e, nil
	case "unix":
		v, err := p.bind([]string{"address", "mode", "backlog", "lockfile"}, 1)
		if err != nil {
			return nil, err
		}
		e := &UnixServerEndpoint{Reactor: r, Path: v["address"], Mode: DefaultUnixMode}
		if s, ok := v["mode"]; ok {
			m, err := strconv.ParseUint(s, 8, 32)
			if err != nil || m == 0 || m > 0o777 {
				return nil, p.errorf(err, "mode %q is not an octal file mode from 1 to 777", s)
			}
			e.Mode = fs.FileMode(m)
		}
		if e.Backlog, err = p.backlog(v); err != nil {
			return nil, err
		}
		if err := p.lockfile(v); err != nil {
			return nil, err
		}
		return e, nil
	case "ssl":
		return p.sslServer(r)
	}
	return nil, p.errorf(nil, "unknown endpoint type %q", p.kind)
}

// ClientFromString returns the client endpoint a description names:
// Twisted's clientFromString. The grammar is [ServerFromString]'s; a
// client takes its parameters as name=value, but for the host and port,
// which may also come first as values.
//
//	tcp:host:port, tcp:host=h:port=p, tcp:h:port=p, tcp:host=h:p
//	    [:timeout=seconds][:bindAddress=ip]      a [TCPClientEndpoint] (timeout 30)
//	unix:path or unix:path=p [:timeout=seconds][:lockfile=0|1]
//	                                             a [UnixClientEndpoint] (timeout 30)
//	ssl: as tcp, with [:certKey=file][:privateKey=file][:caCertsDir=dir][:hostname=name]
//	                                             a [TLSClientEndpoint]: see below
//
// For example "tcp:example.com:80", "tcp:host=::1:port=8080:timeout=5"
// ("tcp:\:\:1:8080" with the colons escaped), "unix:/run/app.sock". A
// timeout of 0 waits as long as the system does. The host is an IP literal
// or a name, whose addresses are tried in turn.
//
// For "ssl", hostname is the name the server's certificate must carry
// (sent in SNI too), checked against the certificates of the PEM files in
// caCertsDir, or the system's roots without it. certKey is a PEM file
// holding the client's certificate, and its key unless privateKey names
// another file. Without hostname the name is not checked, as in Twisted:
// with caCertsDir the server's chain must still lead to one of its
// certificates; with neither, the server is not verified at all, which
// Twisted allows and no program that cares who it talks to should use.
//
// A description that does not parse fails with an error matched by
// [ErrEndpointString]. A nil r panics.
func ClientFromString(r *reactor.Reactor, description string) (ClientEndpoint, error) {
	if r == nil {
		panic("protocol: ClientFromString: nil reactor")
	}
	p, err := parseDescription(description)
	if err != nil {
		return nil, err
	}
	switch p.kind {
	case "tcp":
		e, _, err := p.tcpClient(r, nil)
		if err != nil {
			return nil, err
		}
		return e, nil
	case "unix":
		if len(p.args) > 1 {
			return nil, p.errorf(nil, "unix takes at most 1 positional parameter (path), not %d", len(p.args))
		}
		v, err := p.bind([]string{"path", "timeout", "lockfile"}, 1)
		if err != nil {
			return nil, err
		}
		e := &UnixClientEndpoint{Reactor: r, Path: v["path"]}
		if e.Timeout, err = p.timeout(v); err != nil {
			return nil, err
		}
		if err := p.lockfile(v); err != nil {
			return nil, err
		}
		return e, nil
	case "ssl":
		return p.sslClient(r)
	}
	return nil, p.errorf(nil, "unknown endpoint type %q", p.kind)
}

// QuoteStringArgument escapes the backslashes and colons of s, so that it
// can stand as a value in a description for [ServerFromString] or
// [ClientFromString]: Twisted's quoteStringArgument.
func QuoteStringArgument(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

// description is a parsed endpoint description: Twisted's _parse.
type description struct {
	text string
	kind string
	args []string          // the positional parameters after the type
	kw   map[string]string // the name=value ones
}

// parseDescription splits text as Twisted's _tokenize and _parse do: a
// colon ends a parameter; the first '=' of a parameter splits its name
// from its value, and any later one is part of the value; a backslash
// makes the character after it plain. A name given twice keeps its last
// value, as in Twisted.
func parseDescription(text string) (*description, error) {
	d := &description{text: text, kw: map[string]string{}}
	var (
		params    []string // the current parameter: its value, or name and value
		current   strings.Builder
		hasName   bool
		typeFirst = true // whether the first parameter is a value, the type
		count     int
	)
	end := func() {
		params = append(params, current.String())
		current.Reset()
		if len(params) == 1 {
			d.args = append(d.args, params[0])
		} else {
			d.kw[params[0]] = params[1]
			if count == 0 {
				typeFirst = false
			}
		}
		params, hasName = nil, false
		count++
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == ':':
			end()
		case c == '=' && !hasName:
			params = append(params, current.String())
			current.Reset()
			hasName = true
		case c == '\\':
			if i+1 == len(text) {
				return nil, d.errorf(nil, "a backslash at the end escapes nothing")
			}
			i++
			current.WriteByte(text[i])
		default:
			current.WriteByte(c)
		}
	}
	end()
	if !typeFirst {
		return nil, d.errorf(nil, "a description starts with the endpoint's type, not a name=value parameter")
	}
	d.kind = strings.ToLower(d.args[0])
	d.args = d.args[1:]
	if _, ok := d.kw[""]; ok {
		return nil, d.errorf(nil, "a parameter has a value but no name")
	}
	return d, nil
}

// errorf returns an error matched by ErrEndpointString, and by cause if
// not nil.
func (d *description) errorf(cause error, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if cause != nil {
		return fmt.Errorf("%w %q: %s: %w", ErrEndpointString, d.text, msg, cause)
	}
	return fmt.Errorf("%w %q: %s", ErrEndpointString, d.text, msg)
}

// bind gives the parameters to names as Python gives arguments to a
// function's parameters: the positional ones in order, then the named
// ones; the first required names must be given. It fails on too many
// positional parameters, an unknown name, and a name given both ways.
func (d *description) bind(names []string, required int) (map[string]string, error) {
	if len(d.args) > len(names) {
		return nil, d.errorf(nil, "%s takes at most %d positional parameters (%s), not %d", d.kind, len(names), strings.Join(names, ", "), len(d.args))
	}
	v := map[string]string{}
	for i, a := range d.args {
		v[names[i]] = a
	}
	for k, val := range d.kw {
		if !contains(names, k) {
			return nil, d.errorf(nil, "%s has no parameter %q (it has %s)", d.kind, k, strings.Join(names, ", "))
		}
		if _, ok := v[k]; ok {
			return nil, d.errorf(nil, "%s's parameter %q is given twice", d.kind, k)
		}
		v[k] = val
	}
	for _, n := range names[:required] {
		if _, ok := v[n]; !ok {
			return nil, d.errorf(nil, "%s needs a %s", d.kind, n)
		}
	}
	return v, nil
}

func contains(names []string, k string) bool {
	for _, n := range names {
		if n == k {
			return true
		}
	}
	return false
}

// port parses v's port, from lowest to 65535.
func (d *description) port(v map[string]string, lowest int) (int, error) {
	s := v["port"]
	n, err := strconv.Atoi(s)
	if err != nil || n < lowest || n > 65535 {
		return 0, d.errorf(err, "port %q is not a number from %d to 65535", s, lowest)
	}
	return n, nil
}

// backlog parses v's backlog, DefaultBacklog if absent.
func (d *description) backlog(v map[string]string) (int, error) {
	s, ok := v["backlog"]
	if !ok {
		return DefaultBacklog, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, d.errorf(err, "backlog %q is not a number above 0", s)
	}
	return n, nil
}

// timeout parses v's timeout in whole seconds, DefaultConnectTimeout if
// absent; 0 is no timeout (a negative Timeout).
func (d *description) timeout(v map[string]string) (time.Duration, error) {
	s, ok := v["timeout"]
	if !ok {
		return DefaultConnectTimeout, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > int(time.Duration(1<<63-1)/time.Second) {
		return 0, d.errorf(err, "timeout %q is not a number of seconds, 0 or more", s)
	}
	if n == 0 {
		return -1, nil
	}
	return time.Duration(n) * time.Second, nil
}

// lockfile checks v's lockfile, an integer as in Twisted.
func (d *description) lockfile(v map[string]string) error {
	if s, ok := v["lockfile"]; ok {
		if _, err := strconv.Atoi(s); err != nil {
			return d.errorf(err, "lockfile %q is not 0 or 1", s)
		}
	}
	return nil
}

// tcpClient parses a TCP client's parameters, and those of extra, which
// it returns: Twisted's _parseClientTCP. One positional parameter is the
// port if host is named, the host otherwise; two are the host and the
// port.
func (d *description) tcpClient(r *reactor.Reactor, extra []string) (*TCPClientEndpoint, map[string]string, error) {
	names := append([]string{"host", "port", "timeout", "bindAddress"}, extra...)
	if _, named := d.kw["host"]; named && len(d.args) == 1 {
		// The one value is the port.
		if _, ok := d.kw["port"]; ok {
			return nil, nil, d.errorf(nil, "%s's parameter \"port\" is given twice", d.kind)
		}
		d.kw["port"], d.args = d.args[0], nil
	}
	if len(d.args) > 2 {
		return nil, nil, d.errorf(nil, "%s takes at most 2 positional parameters (host, port), not %d", d.kind, len(d.args))
	}
	v, err := d.bind(names, 2)
	if err != nil {
		return nil, nil, err
	}
	e := &TCPClientEndpoint{Reactor: r, Host: v["host"]}
	if e.Port, err = d.port(v, 1); err != nil {
		return nil, nil, err
	}
	if e.Timeout, err = d.timeout(v); err != nil {
		return nil, nil, err
	}
	if s, ok := v["bindAddress"]; ok {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, nil, d.errorf(nil, "bindAddress %q is not an IP address", s)
		}
		e.BindAddress = &net.TCPAddr{IP: ip}
	}
	return e, v, nil
}
