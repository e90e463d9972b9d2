//go:build !linux

package process

import (
	"os"

	"github.com/twinego/twine/scheduler"
)

// loopReader reads workers' answers on the loop, on Linux only. Elsewhere
// each worker's reader goroutine reads them, and a pool has no loopReader.
type loopReader struct{}

func newLoopReader(*Pool, scheduler.Loop) *loopReader { return nil }

func (*loopReader) offer(*worker) bool     { return false }
func (*loopReader) giveBackLocked(*worker) {}
func (*loopReader) giveAllBackLocked()     {}
func (*loopReader) Wake()                  {}
func (*loopReader) take([]event)           {}
func (*loopReader) close()                 {}

// loopIO is the loop's side of a worker's output: nothing here.
type loopIO struct{}

// outputPipe returns the pipe for a worker's output.
func outputPipe() (r, w *os.File, err error) { return os.Pipe() }

// openOutput readies w.outBase, just started, for the reader goroutine.
func (w *worker) openOutput() error {
	w.out = w.outBase
	return nil
}

// reopenOutput is never needed here: the loop never takes the output.
func (w *worker) reopenOutput() error { return nil }

// closeOutput closes our end of the output, once the reader is done.
func (w *worker) closeOutput() { _ = w.outBase.Close() }
