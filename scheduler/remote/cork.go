package remote

import (
	"net"
	"sync"
)

// corkConn is a connection to the broker whose writes can be held back for
// a moment and sent together: while it is corked, what the AMQP client
// writes (it flushes each message, each acknowledgement, as a write of its
// own) gathers in a buffer, and uncorking sends it in one write. A burst of
// publishes or acknowledgements so costs one system call, and the broker
// reads it in one go, instead of one each.
//
// It is corked only around work that does not wait (publishing a batch,
// acknowledging the confirms at hand), so writes are held back for no
// longer than that work takes, and never past maxCorked bytes. The client
// takes a held write for done: if the write fails later, the connection is
// closed, which the client finds out as it would have, and what was held
// back is lost as it would have been, unconfirmed and unacknowledged.
type corkConn struct {
	net.Conn

	mu    sync.Mutex
	corks int    // how many hold it corked
	buf   []byte // held back
	err   error  // the write that failed
}

// maxCorked bounds the bytes held back: past it, they are written at once.
const maxCorked = 256 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.corks == 0 || len(c.buf)+len(p) > maxCorked {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		return c.write(p)
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// cork holds writes back until as many uncorks; a nil c does nothing.
func (c *corkConn) cork() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.corks++
	c.mu.Unlock()
}

// uncork undoes a cork, and writes what was held back if it was the last.
func (c *corkConn) uncork() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corks--
	if c.corks == 0 {
		_ = c.flushLocked()
	}
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 || c.err != nil {
		c.buf = c.buf[:0]
		return c.err
	}
	_, err := c.write(c.buf)
	if cap(c.buf) > 4*maxCorked {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// write writes p through; a failure closes the connection, for good.
func (c *corkConn) write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.err = err
		_ = c.Conn.Close()
	}
	return n, err
}
