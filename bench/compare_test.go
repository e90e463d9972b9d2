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

func TestParseFigure(t *testing.T) {
	tests := []struct {
		line string
		want figure
	}{
		{"create_addcallback_callback 1402.5", figure{"create_addcallback_callback", 1402.5, "ns/op"}},
		{"callfromthread 6004.7 ns/call", figure{"callfromthread", 6004.7, "ns/call"}},
		{"cooperate_lag_p99 14.17 ms", figure{"cooperate_lag_p99", 14.17, "ms"}},
		{"cooperate_lag_throughput 95.88 %", figure{"cooperate_lag_throughput", 95.88, "%"}},
		{"  chain10   9010.0  ", figure{"chain10", 9010, "ns/op"}},
		{"tiny 1e-05 s", figure{"tiny", 1e-5, "s"}},
	}
	for _, tt := range tests {
		got, err := parseFigure(tt.line)
		require.NoError(t, err, tt.line)
		assert.Equal(t, tt.want, got)
	}
	_, err := parseFigure("errback_path abc")
	assert.ErrorContains(t, err, `value "abc" is not a number`)
	_, err = parseFigure("all 1 ns extra")
	assert.ErrorContains(t, err, `want "name value [unit]"`)
	_, err = parseFigure("Traceback")
	assert.ErrorContains(t, err, `want "name value [unit]"`)
}

func TestFigureConvert(t *testing.T) {
	perOp := timeMetric("op", "x")
	perCall := timeMetric("call", "x")
	lag := metric{key: "p99", kind: kindTime}
	pct := metric{key: "throughput", kind: kindPercent, higherBetter: true}
	tests := []struct {
		name    string
		fig     figure
		m       metric
		want    float64
		wantErr string
	}{
		{"ns per op", figure{"a", 52.5, "ns/op"}, perOp, 52.5, ""},
		{"ms per op", figure{"a", 852, "ms/op"}, perOp, 852e6, ""},
		{"us per call", figure{"a", 6, "us/call"}, perCall, 6000, ""},
		{"µs per call", figure{"a", 6, "µs/call"}, perCall, 6000, ""},
		{"a lag in ms", figure{"a", 14.5, "ms"}, lag, 14.5e6, ""},
		{"seconds", figure{"a", 1.5, "s"}, lag, 1.5e9, ""},
		{"percent", figure{"a", 95.5, "%"}, pct, 95.5, ""},
		{"per another unit", figure{"a", 6, "ns/call"}, perOp, 0, "twine's in ns/op"},
		{"a plain time for a rate", figure{"a", 6, "ms"}, perOp, 0, "twine's in ns/op"},
		{"not a time", figure{"a", 6, "calls/s"}, perOp, 0, "not a time"},
		{"not a percentage", figure{"a", 6, "ms"}, pct, 0, "not %"},
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

func TestFindModuleSaysWhatIsMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "python3")
	_, err := findModule(context.Background(), missing, "twisted")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no Python interpreter at "+missing)

	// An interpreter that fails (here, false) cannot import twisted.
	_, err = findModule(context.Background(), "false", "twisted")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "false cannot import twisted")
}

// otherRounds returns the other rounds of every scenario of every suite.
func otherRounds() map[string]*otherRound {
	rounds := map[string]*otherRound{}
	for _, s := range allSuites() {
		for _, sc := range s.scenarios {
			if sc.other != nil {
				rounds[s.name+"/"+sc.name] = sc.other
			}
		}
	}
	return rounds
}

func TestWriteScriptsWritesEveryScript(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, writeScripts(dir))
	for name, o := range otherRounds() {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(o.script.file)))
		require.NoError(t, err, "%s names %s", name, o.script.file)
		onDisk, err := os.ReadFile(filepath.FromSlash(o.script.file))
		require.NoError(t, err)
		assert.Equal(t, onDisk, data)
		_, ok := findComparison(o.script.comparison)
		assert.True(t, ok, "%s: the comparison %q is known", name, o.script.comparison)
	}
	_, err := os.Stat(filepath.Join(dir, "python", "bench_rounds.py"))
	assert.NoError(t, err, "the scripts' helper goes with them")
}

// Every metric that names a figure of another side names one that its
// scenario's script prints: the scripts document their figures, one per
// line, and their rounds.
func TestOtherNamesAreDocumentedByTheScripts(t *testing.T) {
	for _, s := range allSuites() {
		for _, sc := range s.scenarios {
			if sc.other == nil {
				for _, m := range sc.metrics {
					assert.Empty(t, m.other, "%s/%s: a figure of another side, but no script", s.name, sc.name)
				}
				continue
			}
			data, err := os.ReadFile(filepath.FromSlash(sc.other.script.file))
			require.NoError(t, err)
			docs := string(data)
			assert.Contains(t, docs, sc.other.name, "%s/%s: round %s", s.name, sc.name, sc.other.name)
			for _, m := range sc.metrics {
				if m.other == "" {
					continue
				}
				name := m.other
				// cooperate_lag.py documents its figures as MODE_lag_NAME.
				if mode, rest, ok := strings.Cut(name, "_lag_"); ok {
					assert.Contains(t, docs, "    "+mode+" ", "%s/%s: mode %s", s.name, sc.name, mode)
					assert.Equal(t, mode, sc.other.name, "%s/%s: the round of a mode prints its figures", s.name, sc.name)
					name = "MODE_lag_" + rest
				}
				assert.Contains(t, docs, name, "%s/%s: %s", s.name, sc.name, m.other)
			}
		}
	}
}

func TestLineLog(t *testing.T) {
	l := &lineLog{prefix: "> "}
	_, _ = l.Write([]byte("one\ntw"))
	_, _ = l.Write([]byte("o\n\nthree"))
	assert.Equal(t, "three", l.last())
	var out bytes.Buffer
	l.writeTo(&out)
	assert.Equal(t, "> one\n> two\n> \n> three\n", out.String())
	out.Reset()
	l.writeTo(&out)
	assert.Empty(t, out.String(), "lines are written once")
	assert.Equal(t, "three", l.last())
}

func TestCompareList(t *testing.T) {
	assert.Empty(t, compareList(""))
	assert.Equal(t, []string{"twisted", "celery"}, compareList(" twisted,,celery "))
}
