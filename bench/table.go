package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// formatTime writes nanoseconds with three significant digits in the unit
// that suits them: "52.3 ns", "1.25 µs", "830 ms".
func formatTime(ns float64) string {
	units := []struct {
		name  string
		scale float64
	}{{"s", 1e9}, {"ms", 1e6}, {"µs", 1e3}}
	name, v := "ns", ns
	for _, u := range units {
		if math.Abs(ns) >= u.scale {
			name, v = u.name, ns/u.scale
			break
		}
	}
	return formatSig(v) + " " + name
}

// formatSig writes v with three significant digits, without an exponent.
func formatSig(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a < 9.995:
		return fmt.Sprintf("%.2f", v)
	case a < 99.95:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// formatValue writes a figure in a unit of results: "ns/op", "ns", "%".
func formatValue(v float64, unit string) string {
	if unit == "%" {
		return formatSig(v) + " %"
	}
	scale, per, _ := strings.Cut(unit, "/")
	if scale != "ns" {
		return formatSig(v) + " " + unit
	}
	s := formatTime(v)
	if per != "" {
		s += "/" + per
	}
	return s
}

// formatRatio writes a ratio of [ratio], or "-" for none.
func formatRatio(r *float64) string {
	if r == nil {
		return "-"
	}
	return formatSig(*r) + "×"
}

// rowName is how a metric of a scenario is named in tables and charts.
func rowName(suiteName string, sc scenarioResult, m metricResult) string {
	name := suiteName + "/" + sc.Name
	if len(sc.Metrics) > 1 {
		name += " " + m.Label
	}
	return name
}

// writeTable writes the results as an aligned text table: one row per
// metric of each scenario, with the baseline and Twisted beside twine.
func writeTable(w io.Writer, res *results) {
	fmt.Fprintf(w, "twine benchmarks: %s", runsPhrase(res.Settings.Runs))
	if res.Settings.Quick {
		fmt.Fprint(w, " (quick mode)")
	}
	fmt.Fprintf(w, "; %s %s/%s, %d CPUs.\n", res.Machine.GoVersion, res.Machine.GOOS, res.Machine.GOARCH, res.Machine.CPUs)
	switch {
	case res.Twisted.Available:
		fmt.Fprintf(w, "Twisted %s (%s) measured the same scenarios in the same run.\n", res.Twisted.Version, res.Twisted.Python)
	case res.Twisted.Requested:
		fmt.Fprintf(w, "Twisted not compared: %s.\n", res.Twisted.Error)
	}
	fmt.Fprintln(w, "±: half the range of twine's runs, in percent of their median.")
	fmt.Fprintln(w, "×: how many times better twine does than the column to its left (above 1: better; below 1: worse).")
	fmt.Fprintln(w)

	head := []string{"scenario", "twine", "±", "baseline", "×", "Twisted", "×", "allocs", "baseline is"}
	rows := [][]string{head}
	for _, s := range res.Suites {
		for _, sc := range s.Scenarios {
			if sc.Error != "" {
				rows = append(rows, []string{s.Name + "/" + sc.Name, "failed: " + sc.Error})
				continue
			}
			for i, m := range sc.Metrics {
				row := []string{rowName(s.Name, sc, m), formatValue(m.Twine.Median, m.Unit), formatSpread(m.Twine),
					"-", "-", "-", "-", "", ""}
				if m.Baseline != nil {
					row[3], row[4] = formatValue(m.Baseline.Median, m.Unit), formatRatio(m.VsBaseline)
					row[8] = sc.BaselineName
				}
				if m.Twisted != nil {
					row[5], row[6] = formatValue(m.Twisted.Value, m.Unit), formatRatio(m.VsTwisted)
				}
				if i == 0 && sc.Allocs != nil {
					row[7] = formatAllocs(*sc.Allocs)
				}
				rows = append(rows, row)
			}
		}
	}
	writeAligned(w, rows, map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true})
}

// spread returns half the range of the runs as a share of their median,
// in percent: how far apart the runs were. Zero for fewer than two runs.
func (r runs) spread() float64 {
	if len(r.Runs) < 2 || !(r.Median > 0) {
		return 0
	}
	return 100 * (slices.Max(r.Runs) - slices.Min(r.Runs)) / 2 / r.Median
}

// formatSpread writes the spread of the runs: "±3%", or "" for one run.
func formatSpread(r runs) string {
	if len(r.Runs) < 2 {
		return ""
	}
	return fmt.Sprintf("±%.0f%%", r.spread())
}

// formatAllocs writes allocations per unit of work with at most two
// decimals: "3", "0.25", "0".
func formatAllocs(a float64) string {
	if a >= 100 {
		return fmt.Sprintf("%.0f", a)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", a), "0"), ".")
}

// writeAligned writes rows as columns two spaces apart, the columns in
// right aligned to the right. A row shorter than the header spills its
// last cell over the columns it lacks.
func writeAligned(w io.Writer, rows [][]string, right map[int]bool) {
	width := map[int]int{}
	for _, row := range rows {
		if len(row) < len(rows[0]) {
			continue
		}
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", max(0, width[i]-utf8.RuneCountInString(cell)))
			if i > 0 {
				b.WriteString("  ")
			}
			if i == len(row)-1 && len(row) < len(rows[0]) {
				b.WriteString(cell)
				break
			}
			if right[i] {
				b.WriteString(pad + cell)
			} else {
				b.WriteString(cell + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// runsPhrase says what the figures are: "medians of 5 runs", "one run".
func runsPhrase(n int) string {
	if n == 1 {
		return "one run"
	}
	return fmt.Sprintf("medians of %d runs", n)
}

// formatSeconds writes a duration in seconds for a script's command line.
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
