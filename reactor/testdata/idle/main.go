// Command idle is the program of Twisted's scheduling how-to that runs a
// reactor with nothing scheduled: no timer, no signal handling, no other
// goroutine. The reactor must wait until it is stopped, as reactor.run
// does; the reactor's tests run it and kill it.
package main

import (
	"fmt"

	"github.com/twinego/twine/reactor"
)

func main() {
	r := reactor.New()
	r.CallWhenRunning(func() { fmt.Println("running, nothing to do") })
	err := r.Run()
	fmt.Println("Run returned", err)
}
