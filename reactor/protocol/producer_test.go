//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
)

// pushProducer writes chunks to its transport until paused, up to limit
// bytes; then it unregisters and loses the connection. Its fields are the
// reactor goroutine's.
type pushProducer struct {
	t       protocol.Transport
	chunk   []byte
	total   int
	limit   int
	paused  bool
	done    bool
	pauses  int
	resumes int
	stops   int
	pausedC chan int // the total written at each pause
	stopped chan struct{}
	panicOn string
}

func newPushProducer(t protocol.Transport, limit int) *pushProducer {
	return &pushProducer{t: t, chunk: bytes.Repeat([]byte("p"), 16<<10), limit: limit, pausedC: make(chan int, 1<<16), stopped: make(chan struct{}, 1)}
}

func (p *pushProducer) produce() {
	for !p.paused && !p.done {
		if p.total >= p.limit {
			p.done = true
			p.t.UnregisterProducer()
			p.t.LoseConnection()
			return
		}
		p.t.Write(p.chunk)
		p.total += len(p.chunk)
	}
}

func (p *pushProducer) PauseProducing() {
	p.paused = true
	p.pauses++
	p.pausedC <- p.total
}

func (p *pushProducer) ResumeProducing() {
	if p.panicOn == "resume" {
		panic("resume broken")
	}
	p.paused = false
	p.resumes++
	p.produce()
}

func (p *pushProducer) StopProducing() {
	p.stops++
	p.stopped <- struct{}{}
}

// Twisted's test_streamingProducer and the bad input "a client that never
// reads": a streaming producer is paused inside the Write that takes the
// buffer over the high water mark, so the writer's memory stays bounded
// while the reader does not read; it is resumed when the buffer drains,
// and everything arrives.
func TestStreamingProducerIsPausedByAReaderThatDoesNotRead(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(tcp4, server, client)
	const limit = 1 << 40 // never reached while the reader does not read
	var p *pushProducer
	h.do(func() {
		server.Transport.PauseProducing() // the reader does not read
		p = newPushProducer(client.Transport, limit)
		client.Transport.RegisterProducer(p, true)
		p.produce()
	})
	written := recv(t, p.pausedC, "the first pause")
	assert.Positive(t, written)
	// However long the reader waits, the writer stays paused once the
	// kernel's buffers are full: its memory is bounded.
	for {
		h.do(func() {})
		more := on(h, func() int {
			if !p.paused {
				return -1
			}
			return p.total
		})
		if more >= 0 {
			select {
			case <-p.pausedC: // paused again since: look once more
				continue
			default:
			}
			assert.Less(t, more, 32<<20, "the writer kept writing while the reader did not read")
			break
		}
		recv(t, p.pausedC, "the next pause")
	}
	// Let it finish soon, and the reader read: it is resumed, and
	// everything arrives.
	total := on(h, func() int {
		p.limit = p.total + 1<<20
		server.Transport.ResumeProducing()
		return p.limit
	})
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.Equal(t, total, on(h, func() int { return server.all.Len() }))
	assert.Positive(t, on(h, func() int { return p.resumes }))
	assert.Zero(t, on(h, func() int { return p.stops }), "an unregistered producer is not stopped")
}

// pullProducer writes one chunk each time it is asked, n times, then
// unregisters and loses the connection.
type pullProducer struct {
	t     protocol.Transport
	n     int
	size  int // of a chunk; 1000 if 0
	asked int
	stops int
}

func (p *pullProducer) ResumeProducing() {
	p.asked++
	if p.asked > p.n {
		return
	}
	size := p.size
	if size == 0 {
		size = 1000
	}
	p.t.Write(bytes.Repeat([]byte{byte('a' + p.asked%26)}, size))
	if p.asked == p.n {
		p.t.UnregisterProducer()
		p.t.LoseConnection()
	}
}

func (p *pullProducer) StopProducing() { p.stops++ }

// Twisted's test_nonStreamingProducer: a pull producer is asked for data
// at once, then each time the buffer has drained; LoseConnection waits for
// it to be unregistered.
func TestPullProducerIsAskedEachTimeTheBufferDrains(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(tcp4, server, client)
	p := &pullProducer{n: 50}
	h.do(func() {
		p.t = client.Transport
		client.Transport.RegisterProducer(p, false)
		assert.Equal(t, 1, p.asked, "asked for data when registered")
	})
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	got := on(h, func() []byte { return server.all.Bytes() })
	require.Len(t, got, 50*1000)
	for i := range 50 {
		assert.Equal(t, byte('a'+(i+1)%26), got[i*1000], "chunk %d in order", i)
	}
	assert.Equal(t, 50, on(h, func() int { return p.asked }))
}

// A chunk large enough to go straight to the socket, all of which the
// kernel takes at once, leaves nothing in the buffer to drain: the pull
// producer is asked for the next all the same.
func TestPullProducerOfChunksWrittenStraightThrough(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(tcp4, server, client)
	p := &pullProducer{n: 20, size: 32 << 10}
	h.do(func() {
		p.t = client.Transport
		client.Transport.RegisterProducer(p, false)
	})
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.Equal(t, 20*32<<10, on(h, func() int { return server.all.Len() }))
	assert.Equal(t, 20, on(h, func() int { return p.asked }))
}

// Twisted's registerProducer: a second producer, or one without the
// methods streaming calls for, panics; on a closed transport the producer
// is stopped at once; a registered producer is stopped when the
// connection ends.
func TestRegisterProducerMisuseAndStop(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(tcp4, server, client)
	p := newPushProducer(nil, 0)
	h.do(func() {
		p.t = client.Transport
		client.Transport.RegisterProducer(p, true)
		assert.PanicsWithValue(t, "protocol: Transport.RegisterProducer: a producer is already registered", func() {
			client.Transport.RegisterProducer(&pullProducer{}, false)
		})
	})
	h.do(func() {
		client.Transport.UnregisterProducer()
		assert.PanicsWithValue(t, "protocol: Transport.RegisterProducer: a streaming producer must be a PushProducer", func() {
			client.Transport.RegisterProducer(&pullProducer{}, true)
		})
		client.Transport.RegisterProducer(p, true)
	})
	h.do(func() { server.Transport.AbortConnection() })
	recv(t, p.stopped, "StopProducing when the connection ended")
	recv(t, client.lost, "the client's ConnectionLost")
	late := &pullProducer{}
	h.do(func() { client.Transport.RegisterProducer(late, false) })
	assert.Equal(t, 1, on(h, func() int { return late.stops }), "a producer registered on a closed transport is stopped")
	assert.Zero(t, on(h, func() int { return late.asked }))
}

// Twisted's test_resumeProducingThrows: a producer whose ResumeProducing
// panics has its connection aborted.
func TestProducerPanicAbortsTheConnection(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(tcp4, server, client)
	h.do(func() {
		p := newPushProducer(client.Transport, 1<<30)
		p.panicOn = "resume"
		client.Transport.RegisterProducer(p, true)
		p.produce() // paused at the high water mark; resumed, it panics
	})
	reason := recv(t, client.lost, "the client's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrConnectionAborted)
	var pe *deferred.PanicError
	assert.ErrorAs(t, reason, &pe)
}

// The transport is itself a producer: a proxy that pauses its reading
// side while its writing side is full gets TCP backpressure end to end.
// Here the server registers its own transport's reading side as the
// producer of its writes back (an echo), and a client that never reads
// makes it stop reading.
func TestEchoWithTransportAsProducerStopsReadingForASlowReader(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	server.onMade = func(p *rec) { p.Transport.RegisterProducer(p.Transport, true) }
	server.onData = func(p *rec, b []byte) { p.Transport.Write(b) }
	h.pair(tcp4, server, client)
	var p *pushProducer
	h.do(func() {
		client.Transport.PauseProducing() // the client never reads the echo
		p = newPushProducer(client.Transport, 1<<30)
		client.Transport.RegisterProducer(p, true)
		p.produce()
	})
	// The client ends up paused for good: the server stopped reading
	// because its own buffer was full, so the client's buffer filled too.
	for {
		select {
		case <-p.pausedC:
			continue
		default:
		}
		h.do(func() {})
		if on(h, func() bool { return p.paused }) && len(p.pausedC) == 0 {
			break
		}
		recv(t, p.pausedC, "a pause")
	}
	assert.Less(t, on(h, func() int { return p.total }), 64<<20, "memory stays bounded end to end")
	h.do(func() { client.Transport.AbortConnection() })
	recv(t, server.lost, "the server's ConnectionLost")
}

var _ = net.Addr(nil)
