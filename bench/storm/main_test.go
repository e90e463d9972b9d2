package main

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/twinego/twine/scheduler/process"
)

func TestMain(m *testing.M) {
	// The test binary, started again, serves as the storm's workers, as the
	// command does.
	process.Main()
	// Workers built with -race would sleep a second at exit, by default.
	_ = os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}
