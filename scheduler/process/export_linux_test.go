package process

import "time"

// LoopReadsForTest returns how many times p's worker outputs were handed
// to the loop, and how many times the loop has read one.
func LoopReadsForTest(p *Pool) (offers, reads uint64) {
	if p.lr == nil {
		return 0, 0
	}
	return p.lr.offers.Load(), p.lr.reads.Load()
}

// SetLoopWaitForTest sets how long the loop of the pools made from now on
// waits for answers before it hands the outputs back, until restore.
func SetLoopWaitForTest(d time.Duration) (restore func()) {
	old := loopWait
	loopWait = d
	return func() { loopWait = old }
}

// LoopOwnsForTest returns how many of p's worker outputs the loop reads.
func LoopOwnsForTest(p *Pool) int {
	if p.lr == nil {
		return 0
	}
	return int(p.lr.owned.Load())
}
