package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envFakeServer makes the test binary, started again, a script's server of
// rounds (see fakeServer); its value is the time origin of the stamps.
const envFakeServer = "TWINE_BENCH_FAKE_SERVER"

// fakeServer speaks the rounds protocol of [script]: each round's figure
// is the time it was made, in nanoseconds since the origin the test gave.
// The round "fail" fails; the round "die" ends the server.
func fakeServer() int {
	origin, err := strconv.ParseInt(os.Getenv(envFakeServer), 10, 64)
	if err != nil {
		return 2
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch name := in.Text(); name {
		case "fail":
			fmt.Println("error it failed")
		case "die":
			fmt.Fprintln(os.Stderr, "fake server: asked to die")
			return 3
		default:
			fmt.Fprintln(os.Stderr, "fake server: round", name)
			fmt.Printf("# a comment\n%s %d ns/op\nend\n", name, time.Now().UnixNano()-origin)
		}
	}
	return 0
}

// fakeComparer runs the test binary as the server of every script of the
// comparison "fake".
func fakeComparer(origin time.Time) *comparer {
	return &comparer{
		command: func(string, []string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envFakeServer+"="+strconv.FormatInt(origin.UnixNano(), 10))
			return cmd
		},
		found:   map[string]bool{"fake": true},
		labels:  map[string]string{"fake": "Fake"},
		servers: map[string]*server{},
		failed:  map[string]error{},
	}
}

// stamps makes a side whose rounds' figure is the time they were made.
func stamps(origin time.Time) starter {
	return func(*config) (*side, error) {
		return &side{round: func() (sample, error) {
			return sample{values: map[string]float64{"time": float64(time.Since(origin))}, allocs: -1}, nil
		}}, nil
	}
}

// The rounds of twine, plain Go and the other side are interleaved: round
// i of each before round i+1 of any, the side that starts a turn rotating.
func TestRunScenarioInterleavesTheSides(t *testing.T) {
	origin := time.Now()
	cmp := fakeComparer(origin)
	fake := &script{comparison: "fake", file: "fake/fake_bench.py"}
	sc := scenario{
		name:    "stamped",
		metrics: []metric{timeMetric("op", "stamp")},
		twine:   stamps(origin), baseline: stamps(origin), baselineName: "plain",
		other: fake.round("stamp"),
	}
	var progress bytes.Buffer
	r := runScenario(context.Background(), &config{runs: 4}, sc, cmp, &progress)
	cmp.close(&progress)
	require.Empty(t, r.Error, progress.String())
	m := r.Metrics[0]
	require.NotNil(t, m.Baseline)
	require.NotNil(t, m.Other, progress.String())
	assert.Equal(t, "Fake", m.Other.Side)

	type stamp struct {
		at   float64
		side string
	}
	var all []stamp
	for side, xs := range map[string][]float64{"twine": m.Twine.Runs, "plain": m.Baseline.Runs, "Fake": m.Other.Runs} {
		require.Len(t, xs, 4, side)
		for _, x := range xs {
			all = append(all, stamp{x, side})
		}
	}
	slices.SortFunc(all, func(a, b stamp) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	var order []string
	for _, s := range all {
		order = append(order, s.side)
	}
	assert.Equal(t, []string{
		"twine", "plain", "Fake",
		"plain", "Fake", "twine",
		"Fake", "twine", "plain",
		"twine", "plain", "Fake",
	}, order)
	assert.Contains(t, progress.String(), "fake/fake_bench.py: fake server: round stamp", "the script's standard error goes to the progress")
}

// A script that fails leaves its column out and says why; twine's and the
// baseline's figures stand.
func TestRunScenarioGoesOnWithoutAFailingScript(t *testing.T) {
	for _, tt := range []struct{ round, said string }{
		{"fail", "fake/fake_bench.py: round fail: it failed"},
		{"die", "fake/fake_bench.py: fake server: asked to die"},
	} {
		t.Run(tt.round, func(t *testing.T) {
			origin := time.Now()
			cmp := fakeComparer(origin)
			fake := &script{comparison: "fake", file: "fake/fake_bench.py"}
			sc := scenario{
				name:    "failing",
				metrics: []metric{timeMetric("op", tt.round)},
				twine:   stamps(origin), baseline: stamps(origin), baselineName: "plain",
				other: fake.round(tt.round),
			}
			var progress bytes.Buffer
			r := runScenario(context.Background(), &config{runs: 3}, sc, cmp, &progress)
			cmp.close(&progress)
			require.Empty(t, r.Error)
			assert.Nil(t, r.Metrics[0].Other)
			assert.Len(t, r.Metrics[0].Twine.Runs, 3)
			assert.Len(t, r.Metrics[0].Baseline.Runs, 3)
			assert.Contains(t, progress.String(), tt.said)
			assert.Contains(t, progress.String(), "failing has no Fake column")
		})
	}
}

// A scenario's sides are started once, before its first round, and
// closed once, after its last.
func TestRunScenarioStartsAndClosesEachSideOnce(t *testing.T) {
	var events []string
	sideOf := func(name string) starter {
		return func(*config) (*side, error) {
			events = append(events, "start "+name)
			return &side{
				round: func() (sample, error) {
					events = append(events, name)
					return sample{values: map[string]float64{"time": 1}}, nil
				},
				close: func() error { events = append(events, "close "+name); return nil },
			}, nil
		}
	}
	sc := scenario{name: "once", metrics: []metric{timeMetric("op", "")}, twine: sideOf("twine"), baseline: sideOf("plain"), baselineName: "plain"}
	r := runScenario(context.Background(), &config{runs: 2}, sc, nil, &bytes.Buffer{})
	require.Empty(t, r.Error)
	assert.Equal(t, []string{"start twine", "start plain", "twine", "plain", "plain", "twine", "close twine", "close plain"}, events)
}

// The load average is read before the first scenario and after each, and
// a high one is said as the run goes.
func TestRunSuitesWatchesTheLoad(t *testing.T) {
	cpus := float64(runtime.NumCPU())
	loads := []float64{0.5, cpus + 1.5, 0.25}
	reads := 0
	cfg := &config{runs: 3, loadAvg: func() (float64, error) {
		v := loads[min(reads, len(loads)-1)]
		reads++
		return v, nil
	}}
	s := suite{name: "fake", scenarios: []scenario{
		{name: "one", metrics: []metric{timeMetric("op", "")}, twine: figures(10, 11, 12)},
		{name: "two", metrics: []metric{timeMetric("op", "")}, twine: figures(10, 11, 12)},
	}}
	var progress bytes.Buffer
	res, err := runSuites(context.Background(), cfg, []suite{s}, &progress)
	require.NoError(t, err)
	assert.Equal(t, 3, reads)
	assert.Equal(t, loadInfo{Known: true, CPUs: runtime.NumCPU(), Start: 0.5, Min: 0.25, Max: cpus + 1.5, End: 0.25}, res.Load)
	assert.True(t, res.Load.high())
	require.NotNil(t, res.Suites[0].Scenarios[0].Load)
	assert.Equal(t, cpus+1.5, *res.Suites[0].Scenarios[0].Load)
	assert.Equal(t, 0.25, *res.Suites[0].Scenarios[1].Load)
	assert.Contains(t, progress.String(), fmt.Sprintf("load average %.2f on %d CPUs: the machine was busy", cpus+1.5, runtime.NumCPU()))

	// Where the load cannot be read, the run goes on and says so.
	cfg.loadAvg = func() (float64, error) { return 0, errNoLoad }
	res, err = runSuites(context.Background(), cfg, []suite{s}, &progress)
	require.NoError(t, err)
	assert.False(t, res.Load.Known)
	assert.Equal(t, errNoLoad.Error(), res.Load.Error)
	assert.Nil(t, res.Suites[0].Scenarios[0].Load)
}

func TestParseLoadAvg(t *testing.T) {
	v, err := parseLoadAvg("3.52 1.27 0.48 5/467 12345\n")
	require.NoError(t, err)
	assert.Equal(t, 3.52, v)
	_, err = parseLoadAvg("")
	assert.ErrorContains(t, err, "empty")
	_, err = parseLoadAvg("x 1 2")
	assert.ErrorContains(t, err, `"x" is not a load average`)
	if runtime.GOOS == "linux" {
		v, err := readLoadAvg()
		require.NoError(t, err)
		assert.GreaterOrEqual(t, v, 0.0)
	}
}

// bench_rounds.py, which every script uses, speaks the rounds protocol:
// figures then "end", "error ..." for a round that failed, and an end
// when its input ends.
func TestBenchRoundsServes(t *testing.T) {
	python := "/usr/bin/python3" // Debian's, without a version manager's shim before it
	if _, err := os.Stat(python); err != nil {
		python, err = exec.LookPath("python3")
		require.NoError(t, err, "the scripts' helper is tested with python3")
	}
	dir := t.TempDir()
	require.NoError(t, writeScripts(dir))
	script := filepath.Join(dir, "probe.py")
	require.NoError(t, os.WriteFile(script, []byte(`import sys
import bench_rounds

counts = {}

def make_round(name):
    if name == "boom":
        raise ValueError("no  such\nround")
    counts[name] = counts.get(name, 0) + 1
    return [(name, 1.5 * counts[name], "ns/op"), (name + "_cpu", 2, "ms/op")]

if "--serve" in sys.argv:
    bench_rounds.serve(make_round)
else:
    bench_rounds.report(make_round, ["a"], 3)
`), 0o644))
	cmd := exec.Command(python, script, "--serve")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "python"))
	var progress bytes.Buffer
	srv, err := startServer(cmd, "probe.py", &progress)
	require.NoError(t, err)
	ctx := context.Background()
	got, err := srv.round(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, map[string]figure{"a": {"a", 1.5, "ns/op"}, "a_cpu": {"a_cpu", 2, "ms/op"}}, got)
	got, err = srv.round(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, 3.0, got["a"].Value)
	_, err = srv.round(ctx, "boom")
	assert.EqualError(t, err, `probe.py: round boom: ValueError('no such\nround')`)
	require.NoError(t, srv.close())

	cmd = exec.Command(python, script)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "python"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "a 3.00 ns/op\na_cpu 2.00 ms/op\n", string(out), "by hand: the medians of three rounds")
}
