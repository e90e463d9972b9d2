package reactor_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
)

// slowCallback holds the loop for d of the bubble's fake time.
func slowCallback(d time.Duration) {
	<-time.After(d)
}

func TestWatchdogReportsACallbackHoldingTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(100 * time.Millisecond))
		var reportsWhileRunning int
		r.CallWhenRunning(func() {
			slowCallback(300 * time.Millisecond)
			reportsWhileRunning = len(rec.messages())
			_ = r.Stop()
		})
		require.NoError(t, r.Run())

		assert.Equal(t, 1, reportsWhileRunning, "reported while the callback still ran")
		assert.Equal(t, []string{
			"reactor: callback is holding the loop",
			"reactor: slow callback finished",
		}, rec.messages())
		report := rec.attrs(t, "reactor: callback is holding the loop")
		assert.GreaterOrEqual(t, report["held"].Duration(), 100*time.Millisecond)
		assert.Contains(t, report["stack"].String(), "reactor_test.slowCallback",
			"the report shows the reactor goroutine's stack")
		assert.Contains(t, report["stack"].String(), "TestWatchdogReportsACallbackHoldingTheLoop")
		held := rec.attrs(t, "reactor: slow callback finished")["held"].Duration()
		// Measured from the watchdog's first sight of the callback: within a
		// quarter of the threshold of the true 300 ms.
		assert.GreaterOrEqual(t, held, 275*time.Millisecond)
		assert.LessOrEqual(t, held, 300*time.Millisecond)
	})
}

func TestWatchdogIgnoresQuickCallbacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(100 * time.Millisecond))
		n := 0
		var tick func()
		tick = func() {
			slowCallback(60 * time.Millisecond)
			if n++; n == 10 {
				_ = r.Stop()
				return
			}
			r.CallSoon(tick)
		}
		r.CallWhenRunning(tick)
		require.NoError(t, r.Run())
		assert.Empty(t, rec.messages(), "ten 60 ms callbacks in a row: none held the loop 100 ms")
	})
}

func TestWatchdogOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(0))
		r.CallWhenRunning(func() {
			slowCallback(time.Second)
			_ = r.Stop()
		})
		require.NoError(t, r.Run())
		assert.Empty(t, rec.messages())
	})
}

func TestWatchdogSleepsWithTheReactor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithWatchdog(100 * time.Millisecond))
		stop := start(t, r)
		synctest.Wait()
		<-time.After(time.Hour) // fake time: an idle hour
		synctest.Wait()
		assert.Empty(t, rec.messages(), "a sleeping reactor holds nothing")
		// And it wakes again with the reactor.
		done := make(chan struct{})
		r.CallSoon(func() { slowCallback(200 * time.Millisecond); close(done) })
		<-done
		stop()
		assert.Equal(t, []string{
			"reactor: callback is holding the loop",
			"reactor: slow callback finished",
		}, rec.messages())
	})
}

// syncBuffer is a bytes.Buffer that the watchdog goroutine and the test may
// share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWatchdogReportReadsThroughTextAndJSONHandlers(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler func(io.Writer) slog.Handler
	}{
		{"text", func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }},
		{"json", func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out syncBuffer
				r := reactor.New(reactor.WithWatchdog(100*time.Millisecond), reactor.WithLogger(slog.New(tt.handler(&out))))
				r.CallWhenRunning(func() {
					slowCallback(200 * time.Millisecond)
					_ = r.Stop()
				})
				require.NoError(t, r.Run())
				lines := strings.Split(strings.TrimSpace(out.String()), "\n")
				require.Len(t, lines, 2, "the report and the end of the slow callback")
				report := lines[0]
				assert.Contains(t, report, "reactor: callback is holding the loop")
				assert.NotContains(t, report, `\n`, "no escaped newlines")
				assert.NotContains(t, report, `\t`, "no escaped tabs")
				assert.NotContains(t, report, "0x", "no argument words")
				callback := `reactor_test\.TestWatchdogReportReadsThroughTextAndJSONHandlers\.func\d+\.1\.1 \(watchdog_test\.go:\d+\)`
				if tt.name == "json" {
					var rec struct {
						Callback string
						Stack    []string
					}
					require.NoError(t, json.Unmarshal([]byte(report), &rec))
					require.NotEmpty(t, rec.Stack, "the stack is an array of calls")
					i := slices.IndexFunc(rec.Stack, func(s string) bool { return strings.HasPrefix(s, "reactor_test.slowCallback ") })
					require.GreaterOrEqual(t, i, 0, "the call that holds the loop: %q", rec.Stack)
					assert.Regexp(t, `^reactor_test\.slowCallback \(watchdog_test\.go:\d+\)$`, rec.Stack[i])
					assert.Regexp(t, "^"+callback+"$", rec.Stack[i+1])
					assert.Regexp(t, "^"+callback+"$", rec.Callback,
						"the callback is the function given to CallWhenRunning, not the reactor's code that calls it")
					assert.NotContains(t, rec.Stack[len(rec.Stack)-1], "runOne", "the reactor's loop is left out")
					return
				}
				assert.Regexp(t, `stack="(?:[^"]*; )?reactor_test\.slowCallback \(watchdog_test\.go:\d+\); `+callback+`; `, report)
				assert.Regexp(t, `callback="`+callback+`"`, report)
			})
		})
	}
}
