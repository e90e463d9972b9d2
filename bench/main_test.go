package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/twinego/twine/scheduler/process"
)

func TestMain(m *testing.M) {
	// The test binary, started again, serves as the pools suite's workers
	// and echo child, as the command does.
	if os.Getenv(envEcho) == "1" {
		os.Exit(echoChild())
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
