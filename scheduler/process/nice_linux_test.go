package process_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/scheduler/process"
)

// niceValues returns the nice value of each thread of this process.
func niceValues() ([]int, error) {
	stats, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil {
		return nil, err
	}
	var nices []int
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if os.IsNotExist(err) {
			continue // the thread has exited
		}
		if err != nil {
			return nil, err
		}
		// The fields after the command's closing parenthesis start with
		// the third, the state; the nice value is the 19th.
		_, rest, _ := strings.Cut(string(b), ") ")
		fields := strings.Fields(rest)
		n, err := strconv.Atoi(fields[19-3])
		if err != nil {
			return nil, err
		}
		nices = append(nices, n)
	}
	return nices, nil
}

// workerNices returns the nice values of a worker's threads.
var workerNices = process.Register("test.workerNices", func(context.Context, struct{}) ([]int, error) {
	return niceValues()
})

func TestWorkersRunBelowTheParentsPriority(t *testing.T) {
	mine, err := niceValues()
	require.NoError(t, err)
	base := mine[0]

	p, _ := newPool(t, process.WithMaxWorkers(1))
	nices := must(t, workerNices.Call(p, struct{}{}))
	require.NotEmpty(t, nices)
	for _, n := range nices {
		assert.Equal(t, min(base+process.DefaultWorkerNice, 19), n, "every thread of the worker, by default: %v", nices)
	}

	q, _ := newPool(t, process.WithMaxWorkers(1), process.WithWorkerNice(3))
	nices = must(t, workerNices.Call(q, struct{}{}))
	for _, n := range nices {
		assert.Equal(t, min(base+3, 19), n, "WithWorkerNice(3): %v", nices)
	}

	same, _ := newPool(t, process.WithMaxWorkers(1), process.WithWorkerNice(0))
	nices = must(t, workerNices.Call(same, struct{}{}))
	for _, n := range nices {
		assert.Equal(t, base, n, "WithWorkerNice(0) keeps the parent's: %v", nices)
	}
}
