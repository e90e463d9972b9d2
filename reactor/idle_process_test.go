package reactor_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdleReactorWaitsInsteadOfDying runs testdata/idle, a program whose
// reactor has nothing to do, and checks that it waits. It is a program of
// its own, built here, because the test binary links packages that keep
// timers of their own, which would hide the fault.
func TestIdleReactorWaitsInsteadOfDying(t *testing.T) {
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the program under test")
	bin := filepath.Join(t.TempDir(), "idle")
	build := exec.Command(goTool, "build", "-o", bin, "./testdata/idle")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd := exec.Command(bin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "stderr: %s", &stderr)
	require.Equal(t, "running, nothing to do\n", line)

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The Go runtime ends a program whose goroutines all wait with no
	// timer pending ("all goroutines are asleep - deadlock!") as soon as
	// the last one parks: a reactor taken for deadlocked dies within
	// microseconds of going to sleep. A second without dying is a wide
	// margin; a reactor that waits as it should never dies, so this
	// cannot fail wrongly.
	select {
	case err := <-exited:
		t.Fatalf("the idle reactor's program ended (%v):\n%s", err, &stderr)
	case <-time.After(time.Second):
	}
	require.NoError(t, cmd.Process.Kill())
	<-exited
	assert.NotContains(t, stderr.String(), "deadlock")
}
