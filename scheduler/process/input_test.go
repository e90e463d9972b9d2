package process

import (
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInputReads: the worker's input reads what comes, waiting for it,
// then the end, whether it waits in a system call (no task in flight) or
// in the poller.
func TestInputReads(t *testing.T) {
	for _, idle := range []bool{true, false} {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		in := newInput(r, func() bool { return idle })
		wrote := make(chan error, 1)
		go func() {
			_, err := w.Write([]byte("abc"))
			wrote <- err
		}()
		buf := make([]byte, 8)
		n, err := io.ReadAtLeast(in, buf, 3)
		require.NoError(t, err)
		assert.Equal(t, "abc", string(buf[:n]), "idle %v", idle)
		require.NoError(t, <-wrote)
		require.NoError(t, w.Close())
		n, err = in.Read(buf)
		assert.Equal(t, 0, n)
		assert.Equal(t, io.EOF, err, "idle %v", idle)
		require.NoError(t, r.Close())
	}
}
