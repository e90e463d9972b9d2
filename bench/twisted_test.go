package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTwisted(t *testing.T) {
	out := strings.Join([]string{
		"# Twisted 22.4.0",
		"create_addcallback_callback 1402.5",
		"",
		"callfromthread 6004.7 ns/call",
		"cooperate_lag_p99 14.17 ms",
		"cooperate_lag_throughput 95.88 %",
		"  chain10   9010.0  ",
	}, "\n")
	figures, err := parseTwisted(strings.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, map[string]twistedFigure{
		"create_addcallback_callback": {Name: "create_addcallback_callback", Value: 1402.5, Unit: "ns/op"},
		"callfromthread":              {Name: "callfromthread", Value: 6004.7, Unit: "ns/call"},
		"cooperate_lag_p99":           {Name: "cooperate_lag_p99", Value: 14.17, Unit: "ms"},
		"cooperate_lag_throughput":    {Name: "cooperate_lag_throughput", Value: 95.88, Unit: "%"},
		"chain10":                     {Name: "chain10", Value: 9010, Unit: "ns/op"},
	}, figures)
}

func TestParseTwistedKeepsGoodLinesBesideBadOnes(t *testing.T) {
	out := "chain10 9010\nTraceback (most recent call last):\nerrback_path abc\nall 1 ns extra\nerrback_path 2310\n"
	figures, err := parseTwisted(strings.NewReader(out))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
	assert.Contains(t, err.Error(), `value "abc" is not a number`)
	assert.Contains(t, err.Error(), "line 4")
	assert.Len(t, figures, 2)
	assert.Equal(t, 2310.0, figures["errback_path"].Value)
	assert.Equal(t, 9010.0, figures["chain10"].Value)
}

func TestTwistedFigureConvert(t *testing.T) {
	perOp := timeMetric("op", "x")
	perCall := timeMetric("call", "x")
	lag := metric{key: "p99", kind: kindTime}
	pct := metric{key: "throughput", kind: kindPercent, higherBetter: true}
	tests := []struct {
		name    string
		fig     twistedFigure
		m       metric
		want    float64
		wantErr string
	}{
		{"ns per op", twistedFigure{"a", 52.5, "ns/op"}, perOp, 52.5, ""},
		{"ms per op", twistedFigure{"a", 852, "ms/op"}, perOp, 852e6, ""},
		{"us per call", twistedFigure{"a", 6, "us/call"}, perCall, 6000, ""},
		{"µs per call", twistedFigure{"a", 6, "µs/call"}, perCall, 6000, ""},
		{"a lag in ms", twistedFigure{"a", 14.5, "ms"}, lag, 14.5e6, ""},
		{"seconds", twistedFigure{"a", 1.5, "s"}, lag, 1.5e9, ""},
		{"percent", twistedFigure{"a", 95.5, "%"}, pct, 95.5, ""},
		{"per another unit", twistedFigure{"a", 6, "ns/call"}, perOp, 0, "twine's in ns/op"},
		{"a plain time for a rate", twistedFigure{"a", 6, "ms"}, perOp, 0, "twine's in ns/op"},
		{"not a time", twistedFigure{"a", 6, "calls/s"}, perOp, 0, "not a time"},
		{"not a percentage", twistedFigure{"a", 6, "ms"}, pct, 0, "not %"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fig.convert(tt.m)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-6)
		})
	}
}

func TestFindTwistedSaysWhatIsMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "python3")
	_, err := findTwisted(context.Background(), missing)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no Python interpreter at "+missing)

	// An interpreter that fails (here, false) cannot import twisted.
	_, err = findTwisted(context.Background(), "false")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "false cannot import twisted")
}

func TestWriteScriptsWritesEveryScript(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, writeScripts(dir))
	for _, s := range allSuites() {
		for _, script := range s.twisted {
			data, err := os.ReadFile(filepath.Join(dir, script.file))
			require.NoError(t, err, "suite %s names %s", s.name, script.file)
			onDisk, err := os.ReadFile(filepath.Join("twisted", script.file))
			require.NoError(t, err)
			assert.Equal(t, onDisk, data)
		}
	}
}

// Every metric that names a Twisted figure names one that its suite's
// scripts print: the scripts document their figures, one per line.
func TestTwistedNamesAreDocumentedByTheScripts(t *testing.T) {
	for _, s := range allSuites() {
		var docs []byte
		for _, script := range s.twisted {
			data, err := os.ReadFile(filepath.Join("twisted", script.file))
			require.NoError(t, err)
			docs = append(docs, data...)
		}
		for _, sc := range s.scenarios {
			for _, m := range sc.metrics {
				if m.twisted == "" {
					continue
				}
				name := m.twisted
				// cooperate_lag.py documents its figures as MODE_lag_NAME.
				if mode, rest, ok := strings.Cut(name, "_lag_"); ok {
					assert.Contains(t, string(docs), "    "+mode+" ", "%s/%s: mode %s", s.name, sc.name, mode)
					name = "MODE_lag_" + rest
				}
				assert.Contains(t, string(docs), name, "%s/%s: %s", s.name, sc.name, m.twisted)
			}
		}
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	p := &prefixWriter{w: &out, prefix: "> "}
	_, _ = p.Write([]byte("one\ntw"))
	_, _ = p.Write([]byte("o\nthree"))
	assert.Equal(t, "> one\n> two\n", out.String())
	p.flush()
	assert.Equal(t, "> one\n> two\n> three\n", out.String())
}
