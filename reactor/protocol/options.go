package protocol

import (
	"crypto/tls"
	"io/fs"
	"log/slog"
	"net"
	"time"
)

// Option configures a listening port or a connection attempt, in
// [ListenTCP], [ConnectTCP], [ListenUnix] and [ConnectUnix], and a UDP
// port in [ListenUDP]. An option that does not apply to a call is ignored
// by it.
type Option func(*options)

type options struct {
	logger  *slog.Logger
	backlog int
	high    int
	low     int
	timeout time.Duration
	bind    net.Addr
	mode    fs.FileMode
	noDelay bool
	tls     *tls.Config // ListenTLS, ConnectTLS

	maxPacket int  // a UDP port's
	multiple  bool // a UDP port's
}

// Defaults for the options, Twisted's where it has one.
const (
	// DefaultBacklog is the length of a listening port's queue of
	// connections not yet accepted: Twisted's listenTCP backlog.
	DefaultBacklog = 50

	// DefaultHighWater is the size of the write buffer above which a
	// streaming producer is paused: Twisted's FileDescriptor.bufferSize.
	DefaultHighWater = 64 << 10

	// DefaultLowWater is the size of the write buffer at or below which a
	// producer paused by the high water mark is resumed: 0, as in
	// Twisted, which resumes it once the buffer is empty.
	DefaultLowWater = 0

	// DefaultConnectTimeout bounds a connection attempt: Twisted's
	// connectTCP timeout.
	DefaultConnectTimeout = 30 * time.Second

	// DefaultUnixMode is the mode of a Unix socket's file: Twisted's
	// listenUNIX mode.
	DefaultUnixMode fs.FileMode = 0o666

	// DefaultMaxPacketSize is the most a UDP port reads of one datagram:
	// Twisted's listenUDP maxPacketSize.
	DefaultMaxPacketSize = 8192
)

func newOptions(opts []Option) *options {
	o := &options{
		backlog: DefaultBacklog,
		high:    DefaultHighWater,
		low:     DefaultLowWater,
		timeout: DefaultConnectTimeout,
		mode:    DefaultUnixMode,
		noDelay: true,

		maxPacket: DefaultMaxPacketSize,
	}
	for _, opt := range opts {
		opt(o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// WithLogger sets the logger that reports what no caller can be told of: a
// protocol callback that panicked (its connection is aborted), a factory
// that panicked, an accept that failed. The default is [slog.Default] at
// the time of the call.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithBacklog sets a listening port's queue of connections not yet
// accepted (default [DefaultBacklog]). n below 1 panics.
func WithBacklog(n int) Option {
	if n < 1 {
		panic("protocol: WithBacklog: n must be at least 1")
	}
	return func(o *options) { o.backlog = n }
}

// WithWriteBuffer sets a connection's write buffer water marks: a
// streaming producer is paused inside the Write that takes the buffer over
// high bytes, and resumed once the kernel has taken enough of it to leave
// low bytes or fewer (defaults [DefaultHighWater] and [DefaultLowWater]).
// low above high, or either negative, panics.
func WithWriteBuffer(high, low int) Option {
	if low < 0 || high < 0 || low > high {
		panic("protocol: WithWriteBuffer: need 0 <= low <= high")
	}
	return func(o *options) { o.high, o.low = high, low }
}

// WithTimeout bounds a connection attempt (default
// [DefaultConnectTimeout]); it then fails with an error matched by
// [ErrConnect] and [ErrTimeout]. Zero or a negative d waits as long as the
// system does.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithBindAddress makes a connection attempt bind its socket to addr first
// (a *net.TCPAddr or a *net.UnixAddr): Twisted's bindAddress.
func WithBindAddress(addr net.Addr) Option {
	return func(o *options) { o.bind = addr }
}

// WithMode sets the mode of the file of a Unix socket that [ListenUnix]
// makes (default [DefaultUnixMode]).
func WithMode(mode fs.FileMode) Option {
	return func(o *options) { o.mode = mode }
}

// WithNoDelay sets TCP_NODELAY on TCP connections (default true, as Go's
// net package does; Twisted leaves Nagle's algorithm on): small writes go
// out at once rather than waiting to be merged.
func WithNoDelay(on bool) Option {
	return func(o *options) { o.noDelay = on }
}

// WithMaxPacketSize sets the most a UDP port reads of one datagram
// (default [DefaultMaxPacketSize]); the rest of a longer datagram is
// dropped, as with Twisted's maxPacketSize. n below 1 panics.
func WithMaxPacketSize(n int) Option {
	if n < 1 {
		panic("protocol: WithMaxPacketSize: n must be at least 1")
	}
	return func(o *options) { o.maxPacket = n }
}

// WithListenMultiple lets several UDP ports, of this process or others,
// listen on the same address and port, each hearing the multicast groups
// it joins: Twisted's listenMulticast listenMultiple (SO_REUSEADDR, and
// SO_REUSEPORT where the system has it). Every port on the address needs
// it.
func WithListenMultiple(on bool) Option {
	return func(o *options) { o.multiple = on }
}
