//go:build !(darwin || dragonfly || freebsd || linux || netbsd)

package protocol

import (
	"log/slog"

	"github.com/twinego/twine/reactor"
)

// Without sockets on the reactor no connection attempt starts a factory.
func startFactory(*reactor.Reactor, Factory, *slog.Logger) (stop func()) { return func() {} }
