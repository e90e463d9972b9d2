//go:build linux

package process

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInputReads: the worker's input reads what comes, waiting for it,
// then the end, whether it waits in a system call (no task in flight, and
// the last wait was short), first spinning after a hot call, or waits in
// the poller. In "late" the input comes after the spin, which the reader
// ends to wait in the system call; the outcome is the same whatever the
// timing.
func TestInputReads(t *testing.T) {
	for _, mode := range []string{"blocking", "hot", "late", "busy", "slow"} {
		idle := mode != "busy"
		hot := mode == "hot" || mode == "late"
		r, w, err := os.Pipe()
		require.NoError(t, err)
		in := newInput(r, func() bool { return idle }, func() bool { return hot })
		if mode == "slow" {
			in.(*input).slow = true
		}
		wrote := make(chan error, 1)
		go func() {
			if mode == "late" {
				time.Sleep(4 * spinWait)
			}
			_, err := w.Write([]byte("abc"))
			wrote <- err
		}()
		buf := make([]byte, 8)
		n, err := io.ReadAtLeast(in, buf, 3)
		require.NoError(t, err)
		assert.Equal(t, "abc", string(buf[:n]), "%s", mode)
		require.NoError(t, <-wrote)
		require.NoError(t, w.Close())
		n, err = in.Read(buf)
		assert.Equal(t, 0, n)
		assert.Equal(t, io.EOF, err, "%s", mode)
		require.NoError(t, r.Close())
	}
}
