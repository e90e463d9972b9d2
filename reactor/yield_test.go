package reactor_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

var _ scheduler.Yielder = (*reactor.Reactor)(nil)

// readyIdler is an idler whose Ready the test controls.
type readyIdler struct{ ready bool }

func (i *readyIdler) Idle(time.Duration) (func(), bool) { return nil, false }
func (i *readyIdler) Wake()                             {}
func (i *readyIdler) Busy()                             {}
func (i *readyIdler) Ready() bool                       { return i.ready }

func TestWorkWaitingSeesQueuedCallsDueTimersAndReadyIdlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		idler := &readyIdler{}
		_, remove := r.AddIdler(idler)
		defer remove()
		var nothing, queued, timerDue, notYetDue, idlerReady bool
		done := make(chan struct{})
		r.CallWhenRunning(func() {
			nothing = r.WorkWaiting()

			r.CallSoon(func() {})
			queued = r.WorkWaiting()
			r.CallSoon(func() {
				call := r.CallLater(time.Millisecond, func() {})
				notYetDue = r.WorkWaiting()
				time.Sleep(time.Millisecond) // the bubble's clock: the timer falls due
				timerDue = r.WorkWaiting()
				_ = call.Cancel()
				r.CallSoon(func() {
					idler.ready = true
					idlerReady = r.WorkWaiting()
					idler.ready = false
					close(done)
				})
			})
		})
		stop := start(t, r)
		<-done
		stop()
		assert.False(t, nothing, "nothing queued, due or ready")
		assert.True(t, queued, "a function given to CallSoon waits")
		assert.False(t, notYetDue, "a timer not yet due does not count")
		assert.True(t, timerDue, "a due timer waits")
		assert.True(t, idlerReady, "an idler with events ready")
		assert.Empty(t, rec.messages())
	})
}

func TestWorkWaitingSurvivesAPanickingReadyIdler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		_, remove := r.AddIdler(&panickyIdler{})
		defer remove()
		var got bool
		done := make(chan struct{})
		r.CallWhenRunning(func() {
			got = r.WorkWaiting()
			close(done)
		})
		stop := start(t, r)
		<-done
		stop()
		assert.False(t, got)
		assert.Contains(t, rec.messages(), "reactor: ReadyIdler.Ready panicked")
	})
}

type panickyIdler struct{ readyIdler }

func (*panickyIdler) Ready() bool { panic("boom") }
