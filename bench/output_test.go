package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr(v float64) *float64 { return &v }

// fixture returns results as a run with -compare twisted would: a suite
// with a baseline, Twisted figures and a failed scenario, and the lag
// suite with its series.
func fixture() *results {
	lag := func(name string, at time.Duration, lags ...float64) scenarioResult {
		series := make([][2]float64, len(lags))
		for i, l := range lags {
			series[i] = [2]float64{(at * time.Duration(i+1)).Seconds(), l}
		}
		m := metricResult{Key: "p99", Label: "p99 lag", Unit: "ns", Twine: newRuns([]float64{lags[len(lags)-1] * 1e6})}
		tp := metricResult{Key: "throughput", Label: "throughput", Unit: "%", HigherIsBetter: true, Twine: newRuns([]float64{97})}
		if name == "cooperate" {
			m.Other = &otherRuns{Side: "Twisted", Figure: "cooperate_lag_p99", runs: newRuns([]float64{14e6})}
			m.VsOther = compare(m.Twine, m.Other.runs, false)
		}
		return scenarioResult{
			Name: name, Doc: "lag " + name, Metrics: []metricResult{m, tp},
			Lag: &lagData{Series: series, Histogram: newHistogram(lagEdges(), lags)},
		}
	}
	// The baseline's rounds overlap twine's: too noisy to rank. Twisted's
	// are all slower.
	baseline := newRuns([]float64{120, 125, 131})
	create := metricResult{Key: "time", Label: "time", Unit: "ns/op",
		Twine:    newRuns([]float64{130, 131, 135}),
		Baseline: &baseline,
		Other:    &otherRuns{Side: "Twisted", Figure: "create_addcallback_callback", runs: newRuns([]float64{1400, 1300, 1500})},
	}
	create.VsBaseline = compare(create.Twine, baseline, false)
	create.VsOther = compare(create.Twine, create.Other.runs, false)
	low, high := 0.7, 3.4
	res := &results{
		Version:     resultsVersion,
		Started:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Seconds:     12.5,
		Machine:     machine{GoVersion: "go1.26", GOOS: "linux", GOARCH: "amd64", CPUs: 2, GOMAXPROCS: 2},
		Settings:    settings{Runs: 3, Quick: true, TargetSeconds: 0.02, LagSeconds: 0.4, Compare: "twisted"},
		Load:        loadInfo{Known: true, CPUs: 2, Start: 0.5, Min: 0.5, Max: 3.4, End: 3.4},
		Comparisons: []comparisonInfo{{Name: "twisted", Label: "Twisted", Available: true, Version: "22.4.0", Python: "python3"}},
		Suites: []suiteResult{
			{Name: "deferred", Doc: "Deferreds <&> friends", Scenarios: []scenarioResult{
				{Name: "create_callback", Doc: "New, AddCallback, Callback", BaselineName: "buffered channel",
					Metrics: []metricResult{create}, Allocs: ptr(1), Bytes: ptr(80), Load: &low},
				{Name: "chain10", Doc: "a chain", Error: "chain10: got 9, want 10"},
			}},
			{Name: "lag", Doc: "Reactor lag", Scenarios: []scenarioResult{
				lag("blocking", 100*time.Millisecond, 100, 101, 99),
				lag("cooperate", 10*time.Millisecond, 9, 10, 0.004, 11, 12),
				lag("adaptive", time.Millisecond, 1, 0.9, 1.1, 1.2),
			}},
		},
	}
	res.Suites[1].Scenarios[2].Load = &high
	return res
}

func TestWriteTable(t *testing.T) {
	var out bytes.Buffer
	writeTable(&out, fixture())
	text := out.String()
	assert.Contains(t, text, "medians of 3 interleaved rounds (quick mode)")
	assert.Contains(t, text, "Twisted 22.4.0 (python3) measured the same scenarios, its rounds interleaved with twine's.")

	lines := strings.Split(text, "\n")
	row := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no row starts with %q in\n%s", prefix, text)
		return ""
	}
	// Each side's median with its spread; the baseline's rounds overlap
	// twine's, so its ratio is marked too noisy to rank.
	assert.Equal(t, []string{"deferred/create_callback", "131", "ns/op", "±2%", "125", "ns/op", "±4%", "0.95×?",
		"1.40", "µs/op", "±7%", "10.7×", "1", "0.70", "buffered", "channel"},
		strings.Fields(row("deferred/create_callback")))
	assert.Contains(t, row("deferred/chain10"), "failed: chain10: got 9, want 10")
	assert.Equal(t, []string{"lag/cooperate", "p99", "lag", "12.0", "ms", "-", "-", "14.0", "ms", "1.17×?"},
		strings.Fields(row("lag/cooperate p99 lag")), "one round each: no spread, and too few rounds to rank")
	assert.Equal(t, []string{"lag/adaptive", "throughput", "97.0", "%", "-", "-", "-", "-"},
		strings.Fields(row("lag/adaptive throughput")))

	// Columns line up: the twine column ends at the same place in each row.
	head := row("scenario")
	end := strings.Index(head, "twine") + len("twine")
	for _, prefix := range []string{"deferred/create_callback", "lag/cooperate p99 lag"} {
		r := []rune(row(prefix))
		assert.NotEqual(t, ' ', r[end-1], "%s: the twine figure ends under the header", prefix)
		assert.Equal(t, ' ', r[end], prefix)
	}
	assert.Contains(t, text, "\nToo noisy to rank (2): deferred/create_callback against buffered channel; "+
		"lag/cooperate p99 lag against Twisted.\n")
}

// The load average of the run, and of each scenario, is said; a high one
// loudly, with the scenarios it marked.
func TestWriteTableSaysTheLoad(t *testing.T) {
	var out bytes.Buffer
	writeTable(&out, fixture())
	text := out.String()
	assert.Contains(t, text, "Load average (1 min): 0.50 at the start, 0.50 to 3.40 during the run, on 2 CPUs: "+
		"HIGH (above the CPU count) after 1 of 2 scenarios, marked ! in the load column")
	assert.Regexp(t, `(?m)^lag/adaptive p99 lag .* 3\.40!$`, text)
	assert.Regexp(t, `(?m)^deferred/create_callback .* 0\.70  buffered channel$`, text)

	res := fixture()
	res.Load = loadInfo{Known: true, CPUs: 2, Start: 0.3, Min: 0.2, Max: 1.9, End: 0.4}
	out.Reset()
	writeTable(&out, res)
	assert.Contains(t, out.String(), "0.20 to 1.90 during the run, on 2 CPUs: the machine was not busy.")

	res.Load = loadInfo{CPUs: 2, Error: errNoLoad.Error()}
	out.Reset()
	writeTable(&out, res)
	assert.Contains(t, out.String(), "Load average: unknown (bench: the load average is read from /proc/loadavg")
}

func TestWriteTableWithoutTwisted(t *testing.T) {
	res := fixture()
	res.Comparisons = []comparisonInfo{{Name: "twisted", Label: "Twisted", Python: "/usr/bin/python3",
		Error: "/usr/bin/python3 cannot import twisted (No module named 'twisted')"}}
	var out bytes.Buffer
	writeTable(&out, res)
	assert.Contains(t, out.String(), "Twisted not compared: /usr/bin/python3 cannot import twisted (No module named 'twisted').")

	// Without -compare, the table has no column for another side.
	res.Comparisons = nil
	for _, s := range res.Suites {
		for i := range s.Scenarios {
			for j := range s.Scenarios[i].Metrics {
				s.Scenarios[i].Metrics[j].Other, s.Scenarios[i].Metrics[j].VsOther = nil, nil
			}
		}
	}
	out.Reset()
	writeTable(&out, res)
	assert.NotContains(t, out.String(), "Twisted")
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatValue(52.34, "ns/op"), "52.3 ns/op"},
		{formatValue(1234, "ns/call"), "1.23 µs/call"},
		{formatValue(999.96, "ns/op"), "1000 ns/op"},
		{formatValue(56.7e6, "ns/op"), "56.7 ms/op"},
		{formatValue(1.5e9, "ns"), "1.50 s"},
		{formatValue(0.55, "ns/step"), "0.55 ns/step"},
		{formatValue(97.04, "%"), "97.0 %"},
		{formatRatio(ptr(10.66)), "10.7×"},
		{formatRatio(ptr(148.2)), "148×"},
		{formatRatio(nil), "-"},
		{formatVersus(&versus{Ratio: 0.987}), "0.99×"},
		{formatVersus(&versus{Ratio: 0.987, TooNoisy: true}), "0.99×?"},
		{formatVersus(nil), "-"},
		{formatSpread(newRuns([]float64{90, 100, 130})), "±20%"},
		{formatSpread(newRuns([]float64{90})), ""},
		{formatLoad(ptr(2.5), 2), "2.50!"},
		{formatLoad(ptr(2), 2), "2.00"},
		{formatLoad(nil, 2), ""},
		{formatAllocs(1.0002), "1"},
		{formatAllocs(0.25), "0.25"},
		{formatAllocs(0.0001), "0"},
		{formatAllocs(300046), "300046"},
		{formatTick(0.01), "10 µs"},
		{formatTick(1), "1 ms"},
		{formatTick(2000), "2 s"},
		{formatSeconds(400 * time.Millisecond), "0.4"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	res := fixture()
	path := filepath.Join(t.TempDir(), "results.json")
	wrote, err := writeOutputs(filepath.Dir(path), res, true)
	require.NoError(t, err)
	assert.Equal(t, []string{path, filepath.Join(filepath.Dir(path), "report.html")}, wrote)

	back, err := readResults(path)
	require.NoError(t, err)
	assert.Equal(t, res, back)
}

func TestReadResultsRefusesAnotherLayout(t *testing.T) {
	res := fixture()
	res.Version = resultsVersion + 1
	dir := t.TempDir()
	_, err := writeOutputs(dir, res, true)
	require.NoError(t, err)
	_, err = readResults(filepath.Join(dir, "results.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "layout version")
}

// checkWellFormed parses the page as XML: every element closed, every
// attribute quoted, every entity known. It returns the names of the
// elements in the order they open.
func checkWellFormed(t *testing.T, page string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = true
	var opened []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the report is not well-formed")
		if se, ok := tok.(xml.StartElement); ok {
			opened = append(opened, se.Name.Local)
		}
	}
	return opened
}

func count(names []string, name string) int {
	n := 0
	for _, s := range names {
		if s == name {
			n++
		}
	}
	return n
}

func TestWriteHTML(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, writeHTML(&out, fixture()))
	page := out.String()
	elements := checkWellFormed(t, page)

	// Two lag charts (over time, histogram) and a bar chart per suite.
	assert.Equal(t, 2+2, count(elements, "svg"))
	assert.Equal(t, 2+2, strings.Count(page, `<svg xmlns="http://www.w3.org/2000/svg" viewBox=`))
	assert.Positive(t, count(elements, "rect"))
	assert.Positive(t, count(elements, "circle"), "the lag points")

	// Self-contained: nothing is fetched.
	for _, s := range []string{"<script", "<link", "<img", "@import", "url(", "src=", "https:"} {
		assert.NotContains(t, page, s)
	}
	assert.Equal(t, strings.Count(page, "http:"), strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`),
		"the only address is the SVG namespace")

	assert.Contains(t, page, "Deferreds &lt;&amp;&gt; friends", "text is escaped")
	assert.Contains(t, page, "failed: chain10: got 9, want 10")
	assert.Contains(t, page, "10.7× vs Twisted")
	assert.Contains(t, page, "0.95×? vs plain Go (too noisy to rank)")
	assert.Contains(t, page, `<td class="noisy" title="too noisy to rank: the two sides' rounds overlap">0.95×?</td>`)
	assert.Contains(t, page, "Too noisy to rank (2): deferred/create_callback against buffered channel; lag/cooperate p99 lag against Twisted.")
	assert.Contains(t, page, `<p class="warn">Load average (1 min): 0.50 at the start`)
	assert.Contains(t, page, "<td>3.40!</td>")
	assert.Contains(t, page, "Twisted 22.4.0 measured the same scenarios")
	assert.Contains(t, page, "without cooperation")
}

func TestWriteHTMLWithoutLagOrTwisted(t *testing.T) {
	res := fixture()
	res.Suites = res.Suites[:1]
	res.Comparisons = []comparisonInfo{{Name: "twisted", Label: "Twisted", Error: "no Python interpreter at /x"}}
	for i := range res.Suites[0].Scenarios {
		for j := range res.Suites[0].Scenarios[i].Metrics {
			res.Suites[0].Scenarios[i].Metrics[j].Other = nil
			res.Suites[0].Scenarios[i].Metrics[j].VsOther = nil
		}
	}
	var out bytes.Buffer
	require.NoError(t, writeHTML(&out, res))
	elements := checkWellFormed(t, out.String())
	assert.Equal(t, 1, count(elements, "svg"), "one bar chart, no lag charts")
	assert.Contains(t, out.String(), "Twisted was not compared: no Python interpreter at /x.")
	assert.NotContains(t, out.String(), "vs Twisted")
}
