package process_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/scheduler/process"
)

func TestWorkersEnvironment(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	t.Setenv("PROCESS_TEST_INHERITED", "from the parent")

	p, _ := newPool(t, process.WithMaxWorkers(1), process.WithDir(dir), process.WithEnv("PROCESS_TEST_SET=by WithEnv"))
	got := must(t, environment.Call(p, "PROCESS_TEST_SET"))
	assert.Equal(t, "by WithEnv", got.Value)
	assert.Equal(t, dir, got.Dir)
	assert.Equal(t, 1, got.Procs, "GOMAXPROCS 1 by default")
	assert.False(t, got.Marked, "Main removes the mark, so that processes a task starts are not workers")
	assert.Equal(t, "from the parent", must(t, environment.Call(p, "PROCESS_TEST_INHERITED")).Value)

	wd, err := os.Getwd()
	require.NoError(t, err)
	q, _ := newPool(t, process.WithMaxWorkers(1), process.WithWorkerProcs(2))
	got = must(t, environment.Call(q, ""))
	assert.Equal(t, 2, got.Procs)
	assert.Equal(t, wd, got.Dir, "the parent's directory by default")
}
