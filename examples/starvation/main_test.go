package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/cooperate"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the demo with a short loop and checks what holds whatever the
// machine's load: without cooperation no beat runs during the loop and the
// beat that came due waits for all of it; with cooperate.Each beats run
// between the slices. It asserts no upper bound on a lag, which a busy
// machine could break.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	rep, err := run(&out, 200*time.Millisecond)
	require.NoError(t, err)
	t.Log("\n" + out.String())

	assert.Contains(t, out.String(), "without cooperation")
	assert.Contains(t, out.String(), "with cooperate.Each")
	assert.Regexp(t, `(?m)^without cooperation +\S+ +0 `, out.String())

	w, c := rep.Without, rep.With
	assert.Zero(t, w.Beats, "a beat ran inside the plain loop")
	require.NotEmpty(t, w.Lags)
	assert.GreaterOrEqual(t, w.lag(100), w.Loop-interval,
		"the beat due during the plain loop waited for the whole loop")

	// Each slice ends after about DefaultSlice; a loop this long spans
	// several, and the heartbeat, always due within an interval, runs
	// between them.
	require.Greater(t, c.Loop, 4*(interval+cooperate.DefaultSlice), "the loop is too short to show anything")
	assert.Positive(t, c.Beats, "no beat ran while the cooperative loop was under way")
	assert.Equal(t, w.Checksum, c.Checksum, "both loops did the same work")
}
