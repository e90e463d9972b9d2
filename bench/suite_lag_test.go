package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without cooperation, each task's loop holds the reactor for a quarter of
// the run, whatever a step costs at the moment: a count of steps fixed
// beforehand held it for as long as the processor took to do them, and on
// a loaded machine twine's loops and the Twisted script's, each calibrated
// at another moment, held it for times seconds apart. Here a step costs
// almost nothing, and the probe must still wait a quarter of the run.
func TestBlockingLoopsHoldTheReactorForAQuarterOfTheRun(t *testing.T) {
	const d = 80 * time.Millisecond
	run, err := runLagOnce(1, d, lagBlocking, nil)
	require.NoError(t, err)
	require.NotEmpty(t, run.lags)
	worst := time.Duration(0)
	for _, p := range run.lags {
		worst = max(worst, p.Lag)
	}
	assert.GreaterOrEqual(t, worst, d/lagTasks-lagProbe, "the probe waited for a whole loop")
	assert.Positive(t, run.steps)
}
