package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/twinego/twine/scheduler/process"
)

func TestMain(m *testing.M) {
	// The test binary, started again, serves as the pools suite's workers,
	// the echo and spinning children and the load client, as the command
	// does.
	if os.Getenv(envEcho) == "1" {
		os.Exit(echoChild())
	}
	if os.Getenv(envSpin) == "1" {
		os.Exit(spinChild())
	}
	if mode := os.Getenv(envNetChild); mode != "" {
		os.Exit(netChild(mode))
	}
	// And as a script's server of rounds, for the tests of interleaving.
	if os.Getenv(envFakeServer) != "" {
		os.Exit(fakeServer())
	}
	process.Main()
	goleak.VerifyTestMain(m)
}
