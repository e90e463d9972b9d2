package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, defaultRuns, cfg.runs)
	assert.Equal(t, defaultTarget, cfg.target)
	assert.Equal(t, defaultLag, cfg.lagDuration)
	assert.Equal(t, filepath.Join("bench", "out"), cfg.out)
	assert.False(t, cfg.quick)
}

func TestParseFlagsQuick(t *testing.T) {
	cfg, err := parseFlags([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, quickRuns, cfg.runs)
	assert.Equal(t, quickTarget, cfg.target)
	assert.Equal(t, quickLag, cfg.lagDuration)

	// Flags given explicitly win over -quick's defaults.
	cfg, err = parseFlags([]string{"-runs", "7", "-quick", "-lag", "1s"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 7, cfg.runs)
	assert.Equal(t, quickTarget, cfg.target)
	assert.Equal(t, time.Second, cfg.lagDuration)
}

func TestParseFlagsRefusesBadValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-runs", "0"}, "-runs 0: want at least 1"},
		{[]string{"-time", "0s"}, "-time 0s: want a positive duration"},
		{[]string{"-lag", "10ms"}, "-lag 10ms: want at least 40ms"},
		{[]string{"-compare", "asyncio"}, `-compare "asyncio": the comparisons are "twisted"`},
		{[]string{"-compare", "twisted,asyncio"}, `-compare "asyncio": the comparisons are "twisted"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, io.Discard)
		require.Error(t, err, "%v", tt.args)
		assert.Contains(t, err.Error(), tt.want)
	}
	_, err := parseFlags([]string{"-help"}, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func TestSelectSuites(t *testing.T) {
	all := []suite{{name: "a"}, {name: "b"}, {name: "c"}}
	got, err := selectSuites(all, "")
	require.NoError(t, err)
	assert.Len(t, got, 3)

	got, err = selectSuites(all, " c, a,")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "a", got[0].name, "suites run in their own order")
	assert.Equal(t, "c", got[1].name)

	_, err = selectSuites(all, "a,zz")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown suite "zz" (known: a, b, c)`)
}

func TestSelectScenarios(t *testing.T) {
	all := []suite{
		{name: "a", scenarios: []scenario{{name: "x"}, {name: "y"}, {name: "z"}}},
		{name: "b", scenarios: []scenario{{name: "x"}}},
	}
	got, err := selectSuites(all, "a/z, a/x")
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Len(t, got[0].scenarios, 2)
	assert.Equal(t, "x", got[0].scenarios[0].name, "scenarios run in their own order")
	assert.Equal(t, "z", got[0].scenarios[1].name)
	assert.Len(t, all[0].scenarios, 3, "the suite itself is left whole")

	got, err = selectSuites(all, "a/y,a,b/x")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Len(t, got[0].scenarios, 3, "the whole suite, named beside one of its scenarios")
	assert.Len(t, got[1].scenarios, 1)

	_, err = selectSuites(all, "a/w")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown scenario "w" of suite a`)
	_, err = selectSuites(all, "c/x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown suite "c"`)
}

func TestEverySuiteHasScenariosWithHeadlineTimes(t *testing.T) {
	names := map[string]bool{}
	for _, s := range allSuites() {
		assert.False(t, names[s.name], "suite %s twice", s.name)
		names[s.name] = true
		require.NotEmpty(t, s.scenarios, s.name)
		for _, sc := range s.scenarios {
			require.NotEmpty(t, sc.metrics, "%s/%s", s.name, sc.name)
			assert.Equal(t, kindTime, sc.metrics[0].kind, "%s/%s: the bar chart draws times", s.name, sc.name)
			assert.NotNil(t, sc.twine, "%s/%s", s.name, sc.name)
			assert.Equal(t, sc.baseline != nil, sc.baselineName != "", "%s/%s: a baseline has a name", s.name, sc.name)
		}
	}
}

// figures makes a side whose rounds return figures from a list, so that
// a run's medians and ratios are known.
func figures(vals ...float64) starter {
	return func(*config) (*side, error) {
		i := 0
		return &side{round: func() (sample, error) {
			v := vals[i%len(vals)]
			i++
			return sample{values: map[string]float64{"time": v}, allocs: 2, bytes: 64}, nil
		}}, nil
	}
}

// fakeSuite has scenarios whose rounds return figures from a list.
func fakeSuite() suite {
	return suite{name: "fake", doc: "a fake suite", scenarios: []scenario{
		{name: "fast", metrics: []metric{timeMetric("op", "")}, twine: figures(10, 30, 20), baseline: figures(40, 40, 50), baselineName: "plain"},
		{name: "broken", metrics: []metric{timeMetric("op", "")}, twine: func(*config) (*side, error) {
			return &side{round: func() (sample, error) { return sample{}, errors.New("it broke") }}, nil
		}},
	}}
}

func TestRunSuitesMediansAndRatios(t *testing.T) {
	var progress bytes.Buffer
	res, err := runSuites(context.Background(), &config{runs: 3, compare: ""}, []suite{fakeSuite()}, &progress)
	require.Error(t, err, "a failed scenario fails the run")
	assert.Contains(t, err.Error(), "1 scenario(s) failed: fake/broken")
	require.NotNil(t, res, "the other scenarios' results are kept")

	sc := res.Suites[0].Scenarios[0]
	m := sc.Metrics[0]
	assert.Equal(t, []float64{10, 30, 20}, m.Twine.Runs)
	assert.Equal(t, 20.0, m.Twine.Median)
	assert.Equal(t, 40.0, m.Baseline.Median)
	assert.InDelta(t, 50.0, m.Twine.Spread, 1e-9, "half of 30-10, over 20")
	assert.InDelta(t, 12.5, m.Baseline.Spread, 1e-9)
	require.NotNil(t, m.VsBaseline)
	assert.Equal(t, 2.0, m.VsBaseline.Ratio)
	assert.False(t, m.VsBaseline.TooNoisy, "every twine round beat every baseline round")
	assert.Equal(t, 2.0, *sc.Allocs)
	assert.Equal(t, "it broke", res.Suites[0].Scenarios[1].Error)

	assert.Contains(t, progress.String(), "[ 1/2] fake/fast")
	assert.Contains(t, progress.String(), "round 1 2 3  20.0 ns/op  (plain 40.0 ns/op)")
	assert.Contains(t, progress.String(), "failed: it broke")
}

func TestRunWithoutTwistedGoesOn(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-python")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-quick", "-suite", "deferred", "-runs", "1", "-time", "1ms",
		"-compare", "twisted", "-python", missing, "-out", dir}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr:\n%s", stderr.String())
	assert.Contains(t, stderr.String(), "-compare twisted: no Python interpreter at "+missing)
	assert.Contains(t, stderr.String(), "the Twisted column is left out")
	assert.Contains(t, stdout.String(), "Twisted not compared: no Python interpreter at "+missing)
	assert.Contains(t, stdout.String(), "Load average")
	for _, name := range []string{"create_callback", "chain10", "errback_path", "all_1000", "async_10_awaits"} {
		assert.Contains(t, stdout.String(), "deferred/"+name)
	}

	res, err := readResults(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	require.Len(t, res.Comparisons, 1)
	assert.False(t, res.Comparisons[0].Available)
	require.Len(t, res.Suites, 1)
	for _, sc := range res.Suites[0].Scenarios {
		assert.Empty(t, sc.Error, sc.Name)
		assert.Positive(t, sc.Metrics[0].Twine.Median, sc.Name)
		assert.Nil(t, sc.Metrics[0].Other, sc.Name)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	checkWellFormed(t, string(page))
}

func TestRunListsAndRefuses(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-list"}, &stdout, &stderr))
	for _, s := range allSuites() {
		assert.Contains(t, stdout.String(), s.name+": "+s.doc)
	}
	assert.Contains(t, stdout.String(), "[baseline: time.AfterFunc]")

	stderr.Reset()
	assert.Equal(t, 2, run(context.Background(), []string{"-suite", "nope"}, io.Discard, &stderr))
	assert.True(t, strings.HasPrefix(stderr.String(), `bench: unknown suite "nope"`), stderr.String())
}

func TestRunRendersSavedResults(t *testing.T) {
	dir := t.TempDir()
	_, err := writeOutputs(dir, fixture(), true)
	require.NoError(t, err)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-render", filepath.Join(dir, "results.json"), "-out", out}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "deferred/create_callback")
	_, err = os.Stat(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(out, "results.json"))
	assert.True(t, os.IsNotExist(err), "rendering does not rewrite the results")
}

// The pools suite starts this test binary again as its workers and its echo
// child (see TestMain): every scenario must run and check its results.
func TestPoolsSuiteRuns(t *testing.T) {
	var progress bytes.Buffer
	res, err := runSuites(context.Background(), &config{runs: 1, target: time.Millisecond, lagDuration: quickLag},
		[]suite{poolsSuite()}, &progress)
	require.NoError(t, err, progress.String())
	require.Len(t, res.Suites, 1)
	for _, sc := range res.Suites[0].Scenarios {
		assert.Positive(t, sc.Metrics[0].Twine.Median, sc.Name)
	}
	rt := res.Suites[0].Scenarios[0]
	require.NotNil(t, rt.Metrics[0].Baseline, "the round trip has the bare pipe as its baseline")
	assert.Positive(t, rt.Metrics[0].Baseline.Median)
}

func TestRunScenarioTurnsAPanicIntoAFailure(t *testing.T) {
	sc := scenario{name: "panics", metrics: []metric{timeMetric("op", "")}, twine: func(*config) (*side, error) {
		return &side{round: func() (sample, error) { panic("bench test: boom") }}, nil
	}}
	var progress bytes.Buffer
	r := runScenario(context.Background(), &config{runs: 3}, sc, nil, &progress)
	assert.Equal(t, "deferred: panic: bench test: boom", r.Error)
	assert.Empty(t, r.Metrics)
	assert.Contains(t, progress.String(), "failed: deferred: panic: bench test: boom")
	assert.Contains(t, progress.String(), "TestRunScenarioTurnsAPanicIntoAFailure", "the stack goes to the progress")
}
