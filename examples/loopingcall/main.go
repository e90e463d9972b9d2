// Command loopingcall polls a slow service with a LoopingCall, each poll a
// DeferLater that stands for the service's answer.
//
// The loop runs every 100 ms on a reactor. Its function returns the poll's
// Deferred, so the next poll waits for the answer; when an answer takes
// longer than the interval, the LoopingCall skips the intervals it missed
// and tells the function how many elapsed, as Twisted's LoopingCall.withCount
// does. The loop stops itself when the service is ready. Last, a poll with a
// timeout shows DeferLater's cancellation: the late answer is never made.
//
//	go run ./examples/loopingcall
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

const interval = 100 * time.Millisecond

// answer is what the service says to one poll, and how long it takes.
type answer struct {
	latency time.Duration
	status  string
}

// script is the service's answers, poll after poll: the third is slow.
var script = []answer{
	{30 * time.Millisecond, "starting"},
	{30 * time.Millisecond, "loading data"},
	{250 * time.Millisecond, "loading data"},
	{30 * time.Millisecond, "ready"},
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loopingcall:", err)
		os.Exit(1)
	}
}

// run polls the service on a reactor until it is ready, then makes one poll
// with a timeout, writing what happens to w.
func run(w io.Writer) error {
	return reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		start := r.Now()
		at := func() string {
			return fmt.Sprintf("%4dms", r.Now().Sub(start).Round(10*time.Millisecond).Milliseconds())
		}

		polls := 0
		var lc *cooperate.LoopingCall
		lc = cooperate.NewLoopingCallDeferred(r, func(count int) *deferred.Deferred[string] {
			a := script[polls]
			polls++
			fmt.Fprintf(w, "%s poll %d (intervals elapsed: %d)\n", at(), polls, count)
			// The service answers after a while: DeferLater calls the
			// function after the delay and fires the Deferred with its result.
			d := cooperate.DeferLater(r, a.latency, func() (string, error) { return a.status, nil })
			return d.AddCallback(func(status string) (string, error) {
				fmt.Fprintf(w, "%s   answer %d: %s\n", at(), polls, status)
				if status == "ready" {
					// The loop ends once this Deferred has fired.
					return status, lc.Stop()
				}
				return status, nil
			})
		})

		stopped := deferred.Then(lc.Start(interval, true), func(*cooperate.LoopingCall) (struct{}, error) {
			fmt.Fprintf(w, "%s loop stopped after %d polls\n", at(), polls)
			return struct{}{}, nil
		})

		// One more poll, which must answer within 50 ms. The service would
		// take 200 ms: the timeout cancels the DeferLater, so the function
		// that would have answered never runs.
		return deferred.ThenDeferred(stopped, func(struct{}) *deferred.Deferred[struct{}] {
			fmt.Fprintf(w, "%s poll with a 50ms timeout\n", at())
			answered := false
			d := cooperate.DeferLater(r, 200*time.Millisecond, func() (string, error) {
				answered = true
				return "ready", nil
			})
			d.AddTimeout(r, 50*time.Millisecond)
			d.AddBoth(func(status string, err error) (string, error) {
				if err != nil {
					fmt.Fprintf(w, "%s   poll failed: %v (is ErrTimeout: %v)\n", at(), err, errors.Is(err, deferred.ErrTimeout))
					return "", nil // handled
				}
				fmt.Fprintf(w, "%s   answer: %s\n", at(), status)
				return status, nil
			})
			// Wait past the time the answer was due, to show it never came.
			return deferred.ThenDeferred(d, func(string) *deferred.Deferred[struct{}] {
				return deferred.Then(cooperate.DeferLater[struct{}](r, 200*time.Millisecond, nil),
					func(struct{}) (struct{}, error) {
						fmt.Fprintf(w, "%s   the cancelled call ran: %v\n", at(), answered)
						return struct{}{}, nil
					})
			})
		})
	})
}
