package reactor

import (
	"sync"
	"time"
)

// keepAlive keeps a program whose running reactors all sleep from being
// ended as deadlocked. The Go runtime ends a program whose goroutines all
// wait when no timer is pending ("all goroutines are asleep -
// deadlock!"); a reactor with nothing scheduled sleeps on a channel with no
// timer, so a program whose only work is its reactor died at once, where
// Twisted's reactor.run waits until it is stopped.
//
// It is one timer, pending far in the future while any reactor runs. It is
// made when the package is initialized, outside any testing/synctest bubble,
// so it runs on real time even when a reactor in a bubble holds it: a
// bubble whose reactor nobody stops is still reported as deadlocked by
// synctest, which counts only the bubble's own timers. A timer with a
// function, unlike one with a channel nobody reads, stays in the runtime's
// timer heap, which is what the runtime looks at.
var keepAlive = struct {
	mu sync.Mutex
	n  int // running reactors
	t  *time.Timer
}{t: newKeepAliveTimer()}

func newKeepAliveTimer() *time.Timer {
	t := time.AfterFunc(time.Hour, func() {})
	t.Stop()
	return t
}

// never is how far in the future the keep-alive timer is due: about 146
// years, so that it never fires.
const never = 1 << 62

// holdKeepAlive marks one more reactor as running.
func holdKeepAlive() {
	keepAlive.mu.Lock()
	defer keepAlive.mu.Unlock()
	if keepAlive.n++; keepAlive.n == 1 {
		keepAlive.t.Reset(never)
	}
}

// releaseKeepAlive marks one reactor fewer as running.
func releaseKeepAlive() {
	keepAlive.mu.Lock()
	defer keepAlive.mu.Unlock()
	if keepAlive.n--; keepAlive.n == 0 {
		keepAlive.t.Stop()
	}
}
