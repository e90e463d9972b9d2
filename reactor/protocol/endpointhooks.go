//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"log/slog"

	"github.com/twinego/twine/reactor"
)

// startFactory counts a use of f on r's engine, starting f at the first,
// and returns the function that ends that use, stopping f after the last:
// an endpoint's wrapping factory starts and stops the factory it wraps as
// ports and connectors start and stop theirs.
func startFactory(r *reactor.Reactor, f Factory, log *slog.Logger) (stop func()) {
	e, err := engineFor(r)
	if err != nil {
		return func() {}
	}
	e.startFactory(f, log)
	return func() { e.stopFactory(f, log) }
}
