package remote

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingConn counts the writes that reach a socket.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countingConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// loopbackPair returns the two ends of a TCP connection over loopback.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server, ok := <-accepted
	require.True(t, ok)
	t.Cleanup(func() {
		_ = client.Close()
		_ = server.Close()
	})
	return client, server
}

func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	require.NoError(t, err)
	return b
}

func TestCorkHoldsWritesBackAndSendsThemInOne(t *testing.T) {
	client, server := loopbackPair(t)
	counted := &countingConn{Conn: client}
	c := &corkConn{Conn: counted}

	// Uncorked, each write goes through.
	_, err := c.Write([]byte("ab"))
	require.NoError(t, err)
	assert.Equal(t, 1, counted.count())
	assert.Equal(t, "ab", string(readN(t, server, 2)))

	// Corked twice (two goroutines' bursts overlap): held back until the
	// last uncork, then one write, in order.
	c.cork()
	c.cork()
	for _, s := range []string{"c", "de", "f"} {
		n, err := c.Write([]byte(s))
		require.NoError(t, err)
		assert.Equal(t, len(s), n)
	}
	c.uncork()
	assert.Equal(t, 1, counted.count(), "held back while corked")
	c.uncork()
	assert.Equal(t, 2, counted.count())
	assert.Equal(t, "cdef", string(readN(t, server, 4)))

	// An uncork with nothing held back writes nothing.
	c.cork()
	c.uncork()
	assert.Equal(t, 2, counted.count())

	// A nil corkConn (a connection dialled elsewhere) corks nothing.
	var none *corkConn
	none.cork()
	none.uncork()
}

func TestCorkBoundsWhatItHolds(t *testing.T) {
	client, server := loopbackPair(t)
	counted := &countingConn{Conn: client}
	c := &corkConn{Conn: counted}
	big := bytes.Repeat([]byte{'x'}, maxCorked/2+1)
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 2*len(big)+1)
		_, _ = io.ReadFull(server, b)
		got <- b
	}()
	c.cork()
	_, err := c.Write(big)
	require.NoError(t, err)
	assert.Equal(t, 0, counted.count())
	// Past the bound: what was held goes out, then this write.
	_, err = c.Write(big)
	require.NoError(t, err)
	assert.Equal(t, 2, counted.count())
	_, err = c.Write([]byte("y"))
	require.NoError(t, err)
	c.uncork()
	assert.Equal(t, 3, counted.count())
	want := append(append(append([]byte{}, big...), big...), 'y')
	assert.Equal(t, want, <-got)
}

// A held-back write that fails closes the connection: the AMQP client's
// reader finds it closed, and the later writes fail.
func TestCorkFailedWriteClosesTheConnection(t *testing.T) {
	client, _ := loopbackPair(t)
	c := &corkConn{Conn: client}
	c.cork()
	_, err := c.Write([]byte("lost"))
	require.NoError(t, err)
	// The socket's writes fail from now on; it is not closed.
	require.NoError(t, client.SetWriteDeadline(time.Now().Add(-time.Second)))
	c.uncork()
	_, err = c.Write([]byte("x"))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the first failure, for good")
	_, err = c.Read(make([]byte, 1))
	require.ErrorIs(t, err, net.ErrClosed, "closed by the failure")
}
