package process_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/twinego/twine/scheduler/process"
)

// Environment variables through which tests make the workers they start
// differ from this process (see handshake_test.go) or act as the bare echo
// child of the benchmarks (bench_test.go).
const (
	envVersion    = "PROCESS_TEST_VERSION"
	envExtra      = "PROCESS_TEST_EXTRA"
	envNotAWorker = "PROCESS_TEST_NOT_A_WORKER"
	envSilent     = "PROCESS_TEST_SILENT"
	envEcho       = "PROCESS_TEST_ECHO"
	envSlowStart  = "PROCESS_TEST_SLOW_START"
)

func TestMain(m *testing.M) {
	if os.Getenv(envEcho) == "1" {
		os.Exit(echoChild())
	}
	if os.Getenv(envNotAWorker) == "1" {
		// A program that does not call process.Main: it talks on stdout.
		os.Stdout.WriteString("hello, I am a program\n")
		os.Exit(0)
	}
	if os.Getenv(envSilent) == "1" {
		// A program that never answers: it reads its input to the end.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	if v := os.Getenv(envSlowStart); v != "" {
		// A worker that takes its time before its handshake (a big program
		// starting, say), long enough for a test to kill it meanwhile.
		d, err := time.ParseDuration(v)
		if err != nil {
			panic(err)
		}
		fmt.Fprintln(os.Stderr, "worker starting")
		time.Sleep(d)
	}
	if v := os.Getenv(envVersion); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			panic(err)
		}
		process.SetProtocolVersionForTest(n)
	}
	if name := os.Getenv(envExtra); name != "" {
		process.Register(name, func(context.Context, int) (int, error) { return 0, nil })
	}
	process.Main()
	// Workers built with -race would sleep a second at exit, by default.
	_ = os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}
