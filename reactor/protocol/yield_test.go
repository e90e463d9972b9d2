//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/reactor/protocol"
)

// dialServer listens on loopback TCP with a rec per connection and dials
// it with a plain Go connection; it returns both ends.
func dialServer(t *testing.T, h *harness) (*rec, net.Conn) {
	t.Helper()
	server := newRec()
	port := h.listen(families[0], newServerFactory(func() protocol.Protocol { return server }))
	client, err := net.Dial("tcp", port.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	recv(t, server.made, "the server's connection")
	return server, client
}

func TestReactorSeesASocketReadyWhileItRunsACallback(t *testing.T) {
	h := newHarness(t)
	server, client := dialServer(t, h)

	type seen struct{ before, after, handled bool }
	got := on(h, func() seen {
		var s seen
		s.before = h.r.WorkWaiting()
		_, err := client.Write([]byte("x"))
		require.NoError(t, err)
		deadline := time.Now().Add(waitLimit)
		for !s.after && time.Now().Before(deadline) {
			s.after = h.r.WorkWaiting()
		}
		s.handled = server.all.Len() > 0
		return s
	})
	assert.False(t, got.before, "an idle connection is not work waiting")
	assert.True(t, got.after, "data that arrived during the callback is")
	assert.False(t, got.handled, "asking does not handle it")
	assert.Equal(t, []byte("x"), readAll(t, h, server, 1), "the next poll does")
	assert.False(t, on(h, h.r.WorkWaiting), "once handled, nothing waits")
}

// dataDelay runs a cooperative task whose steps spin for 50 µs in slices of
// 400 ms, writes one byte to a server on the same reactor during its first
// step, and returns how long after that the server's DataReceived ran.
func dataDelay(t *testing.T, opts ...cooperate.Option) time.Duration {
	t.Helper()
	h := newHarness(t)
	server, client := dialServer(t, h)
	delay := make(chan time.Duration, 1)
	var wrote time.Time
	server.onData = func(*rec, []byte) {
		select {
		case delay <- time.Since(wrote):
		default:
		}
	}
	var task *cooperate.Task
	h.do(func() {
		c := cooperate.New(h.r, append([]cooperate.Option{cooperate.WithSlice(400 * time.Millisecond)}, opts...)...)
		first := true
		task = c.Cooperate(func(yield func(any) bool) {
			for {
				if first {
					first = false
					wrote = time.Now()
					_, err := client.Write([]byte("x"))
					if err != nil {
						panic(err)
					}
				}
				for start := time.Now(); time.Since(start) < 50*time.Microsecond; {
				}
				if !yield(nil) {
					return
				}
			}
		})
	})
	d := recv(t, delay, "the data")
	h.do(func() { _ = task.Stop() })
	return d
}

func TestSocketDataEndsACooperatorSliceEarly(t *testing.T) {
	assert.Less(t, dataDelay(t), 200*time.Millisecond, "served about a millisecond into the slice, not at its end")
}

func TestStrictSlicesMakeSocketDataWaitForTheSliceEnd(t *testing.T) {
	assert.GreaterOrEqual(t, dataDelay(t, cooperate.WithStrictSlices()), 200*time.Millisecond, "served after the slice, as in Twisted")
}
