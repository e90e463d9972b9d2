package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/scheduler/process"
)

func TestMain(m *testing.M) {
	// The pool's workers are this test binary started again.
	process.Main()
	// Workers built with -race would sleep a second at exit, by default.
	_ = os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}

// TestRun runs the example with a short loop and checks what holds whatever
// the machine's load: the same checksum all five ways, no beat inside the
// plain loop and a beat that waited for all of it, beats during the other
// four. It asserts no speed and no upper bound on a lag, which a busy
// machine could break.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	rep, err := run(&out, 400, 200*time.Microsecond)
	require.NoError(t, err)
	phases := rep.Phases
	t.Log("\n" + out.String())
	require.Len(t, phases, 5)

	names := []string{"plain for loop", "cooperate.Each", "cooperate.Parallel, lanes", "cooperate.Parallel, processes", "MapFunc.Map, processes"}
	for i, p := range phases {
		assert.Equal(t, names[i], p.Name)
		assert.Contains(t, out.String(), p.Name)
		assert.Equal(t, phases[0].Checksum, p.Checksum, "%s did other work", p.Name)
		require.NotEmpty(t, p.Lags, "%s: no beat after the loop", p.Name)
	}
	var want uint64
	for i := range 400 {
		want ^= work(i, rep.Rounds)
	}
	assert.Equal(t, want, phases[0].Checksum)

	plain := phases[0]
	assert.Zero(t, plain.Beats, "a beat ran inside the plain loop")
	assert.GreaterOrEqual(t, plain.lag(100), plain.Loop-interval, "the beat due during the plain loop waited for all of it")
	for _, p := range phases[1:] {
		if p.Loop > 4*(interval+10*time.Millisecond) {
			assert.Positive(t, p.Beats, "%s: no beat ran while the loop was under way", p.Name)
		}
	}
}
