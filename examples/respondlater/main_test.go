package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the program over a real loopback connection and checks every
// reply but its timing, which depends on the machine. Whether the first
// status request finds job 1 running or done depends on it too.
func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	t.Log("\n" + out.String())

	lines := strings.Split(out.String(), "\n")
	want := []string{
		`^POST /primes\?below=1000000 +202 Accepted +\S+  job 1: accepted, counting the primes below 1000000$`,
		`^POST /primes\?below=2000000 +202 Accepted +\S+  job 2: accepted, counting the primes below 2000000$`,
		`^GET  /jobs/1 +200 OK +\S+  job 1: (running, \d+ of 1000000 numbers checked|done, 78498 primes below 1000000)$`,
		`^GET  /jobs/1\?wait=1 +200 OK +\S+  job 1: done, 78498 primes below 1000000$`,
		`^GET  /jobs/2\?wait=1 +200 OK +\S+  job 2: done, 148933 primes below 2000000$`,
		`^GET  /jobs/3 +404 Not Found +\S+  no such job$`,
	}
	require.Greater(t, len(lines), len(want))
	for i, re := range want {
		assert.Regexp(t, re, lines[i])
	}
}
