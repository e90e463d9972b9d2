package protocol_test

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == childMark {
		// This binary started again as a child process by a test.
		os.Exit(runChild(os.Args[2], os.Args[3:]))
	}
	// A child built with the race detector would otherwise wait a second
	// before it exits.
	_ = os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}
