package process_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/scheduler/process"
)

// The handshake refuses workers that do not match this process: another
// protocol version, other registered functions, or a program that is not a
// worker at all. Such workers are never used: the tasks waiting for them
// fail with a clear error.
func TestHandshakeRefusesMismatches(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		want      []string
		exitCode  int
	}{
		{"protocol version", envVersion + "=99", []string{"the worker speaks protocol version 99, this process version 3"}, 3},
		{"functions", envExtra + "=test.extra", []string{"registered functions differ", "only the worker has test.extra"}, 3},
		{"not a worker", envNotAWorker + "=1", []string{"did not answer with a hello", "does its main call process.Main first?"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, logs := newPool(t, process.WithMinWorkers(0), process.WithEnv(tc.env))
			_, err := wait(t, square.Call(p, 1))
			assert.ErrorIs(t, err, process.ErrHandshake)
			assert.ErrorIs(t, err, process.ErrStart)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotErrorAs(t, err, new(*process.WorkerError), "no worker ever had the task")
			assert.Contains(t, err.Error(), "starts in a row failed")
			if tc.exitCode != 0 {
				assert.Contains(t, err.Error(), fmt.Sprintf("exited with status %d", tc.exitCode), "the worker refused and exited")
				assert.Contains(t, err.Error(), "handshake refused", "its stderr")
			}
			assert.Empty(t, p.Workers())
			logs.waitFor(t, "process: cannot start worker")
		})
	}
}

var registerParentOnly sync.Once

// TestHandshakeRefusesAMissingCodec: a codec registered in this process
// only (here after Main, where workers never register it) is refused by
// the workers.
func TestHandshakeRefusesAMissingCodec(t *testing.T) {
	parentOnly := jsonCodec{name: "json-parent-only"}
	registerParentOnly.Do(func() { process.RegisterCodec(parentOnly) }) // once, for -count
	p, _ := newPool(t, process.WithMinWorkers(0), process.WithCodec(parentOnly))
	_, err := wait(t, square.Call(p, 1))
	assert.ErrorIs(t, err, process.ErrHandshake)
	assert.Contains(t, err.Error(), `the worker has no codec "json-parent-only"`)
}

// TestStartTimeout: a worker that does not answer the handshake in time is
// killed, and counts as a failed start.
func TestStartTimeout(t *testing.T) {
	p, _ := newPool(t, process.WithMinWorkers(0), process.WithStartTimeout(100*time.Millisecond), process.WithEnv(envSilent+"=1"))
	_, err := wait(t, square.Call(p, 1))
	assert.ErrorIs(t, err, process.ErrStart)
	assert.NotErrorIs(t, err, process.ErrHandshake)
	assert.Contains(t, err.Error(), "no handshake within 100ms")
	assert.NotErrorAs(t, err, new(*process.WorkerError), "no worker ever had the task")
	assert.Contains(t, err.Error(), "killed by signal 9")
	assert.Empty(t, p.Workers())
}
