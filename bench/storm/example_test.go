package main

import (
	"os"
)

// The tallies the command prints: here a storm whose failed tasks were all
// on workers it killed.
func Example_tally() {
	t := &tally{
		tasks: 100000,
		kills: 5000, before: 2400, after: 2550, missed: 50,
		once:      100000,
		succeeded: 96000, failed: 4000, killedWith: 4000,
	}
	t.write(os.Stdout)
	// Output:
	// tasks                                       100000
	// kills                                         5000
	//   before the handshake                        2400
	//   while running (after the handshake)         2550
	//   missed (the worker had ended)                 50
	// fired once                                  100000
	// lost                                             0
	// fired twice                                      0
	// succeeded                                    96000
	// failed                                        4000
	//   with a worker the storm killed              4000
}
