package process_test

import (
	"context"
	"fmt"

	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// goroutineRunner runs each call in this process, on a goroutine, through
// the serving half of the registry, and settles it on its loop. A Runner
// that sends calls to other machines does the same, with a network
// between AppendArg and DecodeArg, and between EncodeResult and
// DecodeResult.
type goroutineRunner struct {
	loop scheduler.Loop
	done chan struct{}
}

func (r goroutineRunner) RunCall(c *process.Call) {
	go func() {
		err := r.serve(c)
		r.loop.CallSoon(func() { c.Settle(err) })
		r.done <- struct{}{}
	}()
}

func (r goroutineRunner) serve(c *process.Call) error {
	gob := process.Gob()
	arg, err := c.AppendArg(nil, gob.NewEncoder())
	if err != nil {
		return err
	}
	f, ok := process.Lookup(c.Func())
	if !ok {
		return fmt.Errorf("no function %q here", c.Func())
	}
	a, err := f.DecodeArg(arg, gob.NewDecoder())
	if err != nil {
		return err
	}
	v, err := f.Run(context.Background(), a)
	if err != nil {
		return err
	}
	res, err := f.EncodeResult(nil, gob.NewEncoder(), v)
	if err != nil {
		return err
	}
	return c.DecodeResult(res, gob.NewDecoder())
}

// The same registered function runs on any Runner: here, one that serves
// calls on goroutines of this process.
func ExampleRunner() {
	clock := scheduler.NewManualClock()
	r := goroutineRunner{loop: clock, done: make(chan struct{})}

	d := exampleSquare.Call(r, 9)
	d.AddCallback(func(n int) (int, error) {
		fmt.Println("9 squared:", n)
		return n, nil
	})
	<-r.done
	clock.Advance(0) // the loop runs the callbacks
	// Output: 9 squared: 81
}
