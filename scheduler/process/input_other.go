//go:build !linux

package process

import (
	"io"
	"os"
)

// newInput returns the worker's reader of its input: f itself, whose reads
// wait in Go's poller.
func newInput(f *os.File, _, _ func() bool) io.Reader { return f }
