package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/internal/brokertest"
)

// TestMain lets the test binary serve as the program's worker processes,
// which are the running executable started again.
func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		os.Exit(serve())
	}
	// Workers built with -race would sleep a second at exit, by default.
	_ = os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}

// TestRun runs the program on 90 items: a worker is killed after 30
// results, and every result still comes, right, in order.
func TestRun(t *testing.T) {
	brokertest.Require(t)
	var out strings.Builder
	require.NoError(t, run(&out, 90))
	t.Log("\n" + out.String())

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 2+9+2)
	assert.Equal(t, "mapping slowSquare over 90 items on 2 worker processes, 16 tasks at a time", lines[0])
	assert.Equal(t, "30 of 90 results in: killing worker 1 (SIGKILL)", lines[1])
	for i := range 9 {
		var want []string
		for j := i * 10; j < i*10+10; j++ {
			want = append(want, fmt.Sprintf("%d²=%d", j, j*j))
		}
		assert.Equal(t, strings.Join(want, " "), lines[2+i])
	}
	assert.Equal(t, "all 90 results in, each right", lines[11])
	assert.Regexp(t, regexp.MustCompile(`^results of tasks delivered again: \d+; second results dropped: \d+$`), lines[12])
}
