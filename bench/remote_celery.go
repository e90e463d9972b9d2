package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Celery's side of the remote suite: bench/celery/celery_bench.py, run by
// Debian's Python (/usr/bin/python3, where python3-celery installs), with
// one worker process of concurrency 1 (prefork) and the RPC result backend,
// as the issue measured it. The script starts its worker once and makes all
// the rounds of both scenarios in one go; each baseline round takes the
// next round's figure. Without Celery the scenarios are left out, with a
// note.
//
//go:embed celery/celery_bench.py
var celeryScript []byte

const (
	celeryPython = "/usr/bin/python3"
	celeryWindow = 2000 // calls in flight, as in the measurement
)

// celeryVersion returns Celery's version, or why it cannot be used.
var celeryVersion = sync.OnceValues(func() (string, error) {
	out, err := exec.Command(celeryPython, "-c", "import celery; print(celery.__version__)").Output()
	if err != nil {
		return "", fmt.Errorf("%s cannot import celery (apt-get install python3-celery)", celeryPython)
	}
	return strings.TrimSpace(string(out)), nil
})

// celeryScenarios returns the scenarios that set twine beside Celery, or nil
// (and a note) when Celery is not installed.
func celeryScenarios() []scenario {
	version, err := celeryVersion()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: remote: the Celery scenarios are left out: %v\n", err)
		return nil
	}
	name := "Celery " + version
	return []scenario{
		{
			name:         "throughput_celery",
			doc:          fmt.Sprintf("tiny add(x, y) calls, %d in flight; Celery with one prefork worker of concurrency 1 and the RPC backend; per call", celeryWindow),
			metrics:      []metric{timeMetric("call", "")},
			twine:        withRemote(remoteWindow, celeryWindow, remoteThroughput(celeryWindow)),
			baseline:     celery.take(0),
			baselineName: name,
		},
		{
			name:         "round_trip_celery",
			doc:          "one add(x, y) call at a time; the median call; Celery as above",
			metrics:      []metric{timeMetric("call", "")},
			twine:        withRemote(1, 1, remoteRoundTrip),
			baseline:     celery.take(1),
			baselineName: name,
		},
	}
}

// celeryRounds runs the script once and hands its rounds out.
type celeryRounds struct {
	once    sync.Once
	err     error
	figures [2][]float64 // throughput, round trip: a figure per round
	mu      sync.Mutex
	next    [2]int
}

var celery celeryRounds

// take returns Celery's side of scenario which (0: the throughput, 1: the
// round trip). Its rounds are not interleaved with twine's: the script
// makes them all at the first, and each round takes the next figure.
func (c *celeryRounds) take(which int) starter {
	return func(cfg *config) (*side, error) {
		return &side{round: func() (sample, error) {
			c.once.Do(func() { c.err = c.run(cfg) })
			if c.err != nil {
				return sample{}, c.err
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			i := c.next[which]
			if i >= len(c.figures[which]) {
				return sample{}, errors.New("celery: more rounds asked for than the script made")
			}
			c.next[which]++
			return sample{values: map[string]float64{"time": c.figures[which][i]}, allocs: -1, bytes: -1}, nil
		}}, nil
	}
}

// run runs the script for every round of the run.
func (c *celeryRounds) run(cfg *config) error {
	dir, err := os.MkdirTemp("", "twine-bench-celery-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "celery_bench.py"), celeryScript, 0o644); err != nil {
		return err
	}
	calls, trips := remoteCalls(cfg)/4, remoteTrips(cfg)/2
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, celeryPython, "celery_bench.py",
		strconv.Itoa(cfg.runs), strconv.Itoa(calls), strconv.Itoa(min(celeryWindow, calls)), strconv.Itoa(trips))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TWINE_AMQP_URL="+brokerURL(), "TWINE_CELERY_QUEUE="+benchQueue("celery"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("celery: %v: %s", err, lastLine(stderr.String()))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return fmt.Errorf("celery: %q: %w", sc.Text(), err)
		}
		switch f[0] {
		case "throughput":
			c.figures[0] = append(c.figures[0], v)
		case "round_trip":
			c.figures[1] = append(c.figures[1], v)
		}
	}
	return nil
}
