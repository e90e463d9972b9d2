package reactor

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWatchdogFindsNoStackWithoutAReactorGoroutine(t *testing.T) {
	// Between a callback's runtime.Goexit and the goroutine that takes
	// over, there is no reactor goroutine. The watchdog must not report the
	// dump of every goroutine then, which starts with its own.
	r := New(WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	r.gid.Store(1 << 62) // no such goroutine
	stack, _, ok := r.wd.reactorStack()
	assert.False(t, ok)
	assert.Empty(t, stack)

	r.gid.Store(goid())
	stack, _, ok = r.wd.reactorStack()
	assert.True(t, ok)
	assert.Contains(t, stack.String(), "reactor.TestWatchdogFindsNoStackWithoutAReactorGoroutine")
}
