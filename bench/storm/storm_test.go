package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSmallStorm runs a storm small enough for CI: it loses nothing, and
// its tallies add up.
func TestSmallStorm(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-tasks", "3000", "-workers", "2", "-recycle", "50", "-every", "50ms", "-early", "2", "-seed", "1"}, &out, &errOut)
	t.Log("\n" + out.String())
	require.Equal(t, 0, code, "stderr: %s", errOut.String())
	n := func(label string) int {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `\s+(\d+)`).FindStringSubmatch(out.String())
		require.NotNil(t, m, "no %q line", label)
		v, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, 3000, n("tasks"))
	assert.Equal(t, 3000, n("fired once"))
	assert.Zero(t, n("lost"))
	assert.Zero(t, n("fired twice"))
	assert.Positive(t, n("kills"))
	assert.Equal(t, n("kills"), n("before the handshake")+n("while running (after the handshake)")+n("missed (the worker had ended)"))
	assert.Equal(t, 3000, n("succeeded")+n("failed"))
	assert.Equal(t, n("failed"), n("with a worker the storm killed"))
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 100_000, cfg.tasks)
	assert.Equal(t, 8, cfg.workers)
	assert.Equal(t, 2*time.Millisecond, cfg.every)
	assert.Equal(t, 2*8*64, cfg.window, "twice what the workers take")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-tasks", "0"}, "-tasks 0: want at least 1"},
		{[]string{"-workers", "0"}, "-workers 0: want at least 1"},
		{[]string{"-every", "0s"}, "want positive durations"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.want)
	}
	var out bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"-tasks", "-1"}, &out, &out))
}

// A storm that lost a task, or failed one whose worker it had not killed,
// fails.
func TestTallyOK(t *testing.T) {
	good := tally{tasks: 2, once: 2, succeeded: 1, failed: 1, killedWith: 1}
	assert.True(t, good.ok())
	for name, bad := range map[string]tally{
		"lost":        {tasks: 2, once: 1, lost: 1},
		"fired twice": {tasks: 2, once: 2, twice: 1},
		"other":       {tasks: 1, once: 1, failed: 1, other: map[string]int{"pool closed": 1}},
		"panic":       {tasks: 1, once: 1, panics: 1},
	} {
		assert.False(t, bad.ok(), name)
	}
}
