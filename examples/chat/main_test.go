package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the demonstration over loopback: the room pauses for carol,
// who does not read, and once she reads every line reaches everyone.
func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out, 12<<20))
	lines := 12 << 20 / lineSize
	assert.Equal(t, "alice, bob, carol and dave are in the room; carol is not reading\n"+
		"the room stops reading: carol is behind\n"+
		"carol reads again\n"+
		"alice received all "+itoa(lines)+" of dave's lines\n"+
		"bob received all "+itoa(lines)+" of dave's lines\n"+
		"carol received all "+itoa(lines)+" of dave's lines\n", out.String())
}

func itoa(n int) string { return strconv.Itoa(n) }
