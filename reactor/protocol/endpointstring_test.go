package protocol_test

import (
	"io/fs"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// Twisted's ParserTests and ServerStringTests: what each description
// gives, escapes and defaults included.
func TestServerFromString(t *testing.T) {
	r := reactor.New()
	tcp := func(port int, iface string, backlog int) *protocol.TCPServerEndpoint {
		return &protocol.TCPServerEndpoint{Reactor: r, Network: "tcp4", Port: port, Interface: iface, Backlog: backlog}
	}
	tcp6 := func(port int, iface string, backlog int) *protocol.TCPServerEndpoint {
		return &protocol.TCPServerEndpoint{Reactor: r, Network: "tcp6", Port: port, Interface: iface, Backlog: backlog}
	}
	unix := func(path string, mode uint32, backlog int) *protocol.UnixServerEndpoint {
		return &protocol.UnixServerEndpoint{Reactor: r, Path: path, Mode: fsMode(mode), Backlog: backlog}
	}
	for _, c := range []struct {
		desc string
		want protocol.ServerEndpoint
	}{
		{"tcp:80", tcp(80, "", 50)},                                           // test_simpleTCP
		{"tcp:80:interface=127.0.0.1", tcp(80, "127.0.0.1", 50)},              // test_interfaceTCP
		{"tcp:80:backlog=6", tcp(80, "", 6)},                                  // test_backlogTCP
		{"tcp:1234:backlog=12:interface=10.0.0.1", tcp(1234, "10.0.0.1", 12)}, // test_tcp
		{"tcp:0", tcp(0, "", 50)},
		{"tcp:8080:127.0.0.1:7", tcp(8080, "127.0.0.1", 7)}, // positional, in _parseTCP's order
		{"TCP:80", tcp(80, "", 50)},
		{"tcp:port=80", tcp(80, "", 50)},
		{"tcp6:8080", tcp6(8080, "::", 50)},
		{"tcp6:8080:12", tcp6(8080, "::", 12)}, // the TCP6 parser's order: port, backlog, interface
		{`tcp6:8080:interface=\:\:1`, tcp6(8080, "::1", 50)},
		{"unix:/var/run/finger", unix("/var/run/finger", 0o666, 50)},                         // test_simpleUNIX
		{"unix:/var/run/finger:mode=0660", unix("/var/run/finger", 0o660, 50)},               // test_modeUNIX
		{"unix:/var/run/finger:lockfile=0", unix("/var/run/finger", 0o666, 50)},              // test_wantPIDUNIX
		{"unix:/var/foo/bar:backlog=7:mode=0123:lockfile=1", unix("/var/foo/bar", 0o123, 7)}, // test_unix
		{`unix:foo\:bar\=baz\:qux\\`, unix(`foo:bar=baz:qux\`, 0o666, 50)},                   // test_escape
		{"unix:address=foo=bar", unix("foo=bar", 0o666, 50)},                                 // test_impliedEscape
		{"unix:@abstract:mode=600", unix("@abstract", 0o600, 50)},
	} {
		t.Run(c.desc, func(t *testing.T) {
			got, err := protocol.ServerFromString(r, c.desc)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func fsMode(m uint32) fs.FileMode { return fs.FileMode(m) }

// Bad descriptions fail with ErrEndpointString, and a message that says
// what is wrong: Twisted's test_unknownType and the TypeErrors and
// ValueErrors its parsers raise.
func TestServerFromStringErrors(t *testing.T) {
	r := reactor.New()
	for _, c := range []struct{ desc, msg string }{
		{"ftl:andromeda/carcosa/hali/2387", `unknown endpoint type "ftl"`},
		{"", `unknown endpoint type ""`},
		{"tcp", "tcp needs a port"},
		{"tcp:interface=127.0.0.1", "tcp needs a port"},
		{"tcp:http", `port "http" is not a number from 0 to 65535`},
		{"tcp:-1", "is not a number from 0 to 65535"},
		{"tcp:65536", "is not a number from 0 to 65535"},
		{"tcp:80:backlog=x", `backlog "x" is not a number above 0`},
		{"tcp:80:backlog=0", `backlog "0" is not a number above 0`},
		{"tcp:80:bogus=1", `tcp has no parameter "bogus"`},
		{"tcp:80:port=81", `tcp's parameter "port" is given twice`},
		{"tcp:80:1.2.3.4:5:6", "tcp takes at most 3 positional parameters"},
		{"tcp:80:=5", "a parameter has a value but no name"},
		{"tcp6:8080:interface=::1", `tcp6's parameter "interface" is given twice`}, // an unescaped "::1" splits
		{"unix", "unix needs a address"},
		{"unix:/x:mode=999", `mode "999" is not an octal file mode`},
		{"unix:/x:mode=0", `mode "0" is not an octal file mode`},
		{"unix:/x:mode=1777", `mode "1777" is not an octal file mode`},
		{"unix:/x:lockfile=yes", `lockfile "yes" is not 0 or 1`},
		{`unix:/x\`, "a backslash at the end escapes nothing"},
		{"unix:/x:timeout=3", `unix has no parameter "timeout"`},
		{"port=80", "starts with the endpoint's type"},
		{"interface=127.0.0.1:tcp:80", "starts with the endpoint's type"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			e, err := protocol.ServerFromString(r, c.desc)
			require.ErrorIs(t, err, protocol.ErrEndpointString)
			assert.Contains(t, err.Error(), c.msg)
			assert.Nil(t, e)
		})
	}
}

// Twisted's ClientStringTests.
func TestClientFromString(t *testing.T) {
	r := reactor.New()
	tcp := func(host string, port int, timeout time.Duration, bind string) *protocol.TCPClientEndpoint {
		e := &protocol.TCPClientEndpoint{Reactor: r, Host: host, Port: port, Timeout: timeout}
		if bind != "" {
			e.BindAddress = &net.TCPAddr{IP: net.ParseIP(bind)}
		}
		return e
	}
	unix := func(path string, timeout time.Duration) *protocol.UnixClientEndpoint {
		return &protocol.UnixClientEndpoint{Reactor: r, Path: path, Timeout: timeout}
	}
	for _, c := range []struct {
		desc string
		want protocol.ClientEndpoint
	}{
		{"tcp:host=example.com:port=1234:timeout=7:bindAddress=10.0.0.2", tcp("example.com", 1234, 7*time.Second, "10.0.0.2")}, // test_tcp
		{"tcp:example.com:1234:timeout=7:bindAddress=10.0.0.2", tcp("example.com", 1234, 7*time.Second, "10.0.0.2")},           // test_tcpPositionalArgs
		{"tcp:example.com:port=1234:timeout=7:bindAddress=10.0.0.2", tcp("example.com", 1234, 7*time.Second, "10.0.0.2")},      // test_tcpHostPositionalArg
		{"tcp:host=example.com:1234:timeout=7:bindAddress=10.0.0.2", tcp("example.com", 1234, 7*time.Second, "10.0.0.2")},      // test_tcpPortPositionalArg
		{"tcp:host=example.com:port=1234", tcp("example.com", 1234, 30*time.Second, "")},                                       // test_tcpDefaults
		{`tcp:host=\:\:1:port=80:bindAddress=\:\:1`, tcp("::1", 80, 30*time.Second, "::1")},
		{"tcp:127.0.0.1:80:timeout=0", tcp("127.0.0.1", 80, -1, "")},
		{"TCP:example.com:80", tcp("example.com", 80, 30*time.Second, "")},
		{"unix:path=/var/foo/bar:lockfile=1:timeout=9", unix("/var/foo/bar", 9*time.Second)}, // test_unix
		{"unix:path=/var/foo/bar", unix("/var/foo/bar", 30*time.Second)},                     // test_unixDefaults
		{"unix:/var/foo/bar:lockfile=1:timeout=9", unix("/var/foo/bar", 9*time.Second)},      // test_unixPathPositionalArg
		{`unix:C\:\\sock`, unix(`C:\sock`, 30*time.Second)},
	} {
		t.Run(c.desc, func(t *testing.T) {
			got, err := protocol.ClientFromString(r, c.desc)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestClientFromStringErrors(t *testing.T) {
	r := reactor.New()
	for _, c := range []struct{ desc, msg string }{
		{"ftl:andromeda/carcosa/hali/2387", `unknown endpoint type "ftl"`}, // test_unknownType
		{"tcp:example.com", "tcp needs a port"},
		{"tcp:port=80", "tcp needs a host"},
		{"tcp:example.com:http", `port "http" is not a number from 1 to 65535`},
		{"tcp:example.com:0", "is not a number from 1 to 65535"},
		{"tcp:a:1:2", "tcp takes at most 2 positional parameters"},
		{"tcp:a:1:timeout=x", `timeout "x" is not a number of seconds`},
		{"tcp:a:1:timeout=-1", `timeout "-1" is not a number of seconds`},
		{"tcp:a:1:bindAddress=example.com", `bindAddress "example.com" is not an IP address`},
		{"tcp:a:1:bogus=1", `tcp has no parameter "bogus"`},
		{"tcp:a:1:host=b", `tcp's parameter "host" is given twice`},
		{"tcp:80:host=a:port=81", `tcp's parameter "port" is given twice`},
		{"unix", "unix needs a path"},
		{"unix:/a:/b", "unix takes at most 1 positional parameter"},
		{"unix:/a:mode=1", `unix has no parameter "mode"`},
		{"unix:/a:timeout=1.5", `timeout "1.5" is not a number of seconds`},
		{"tcp6:a:1", `unknown endpoint type "tcp6"`},
		{"host=a:tcp:80", "starts with the endpoint's type"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			e, err := protocol.ClientFromString(r, c.desc)
			require.ErrorIs(t, err, protocol.ErrEndpointString)
			assert.Contains(t, err.Error(), c.msg)
			assert.Nil(t, e)
		})
	}
}

// Twisted's test_quoteStringArgument, and a quoted value read back.
func TestQuoteStringArgument(t *testing.T) {
	assert.Equal(t, `some \: stuff \\`, protocol.QuoteStringArgument(`some : stuff \`))
	// An '=' needs no quoting after a name; without one it would make
	// the value a name.
	path := `C:\dir:with=odd\chars`
	e, err := protocol.ServerFromString(reactor.New(), "unix:address="+protocol.QuoteStringArgument(path)+":mode=600")
	require.NoError(t, err)
	assert.Equal(t, path, e.(*protocol.UnixServerEndpoint).Path)
}

// No description makes the parsers panic: each gives an endpoint or an
// error matched by ErrEndpointString. (Descriptions of ssl read files, and
// are left out.)
func FuzzFromString(f *testing.F) {
	for _, s := range []string{
		"tcp:80", "tcp:80:interface=127.0.0.1:backlog=5", "tcp6:8080:12", `unix:foo\:bar\=baz\:qux\\`,
		"unix:address=foo=bar", "tcp:host=example.com:port=1234:timeout=7:bindAddress=10.0.0.2",
		"tcp:example.com:1234", "unix:path=/x:lockfile=1:timeout=9", "", ":", "=", `\`, "a=b", "tcp::::",
	} {
		f.Add(s)
	}
	r := reactor.New()
	f.Fuzz(func(t *testing.T, desc string) {
		if strings.Contains(strings.ToLower(desc), "ssl") {
			t.Skip("ssl descriptions read files")
		}
		if s, err := protocol.ServerFromString(r, desc); err != nil {
			require.ErrorIs(t, err, protocol.ErrEndpointString)
			require.Nil(t, s)
		} else {
			require.NotNil(t, s)
		}
		if c, err := protocol.ClientFromString(r, desc); err != nil {
			require.ErrorIs(t, err, protocol.ErrEndpointString)
			require.Nil(t, c)
		} else {
			require.NotNil(t, c)
		}
	})
}
