package main

import (
	"fmt"
	"io"
	"math"
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

// formatVersus writes how twine compares with a side: "10.7×", "0.99×?"
// when the ratio is too noisy to rank the two, or "-" for none.
func formatVersus(v *versus) string {
	if v == nil {
		return "-"
	}
	s := formatSig(v.Ratio) + "×"
	if v.TooNoisy {
		s += "?"
	}
	return s
}

// rowName is how a metric of a scenario is named in tables and charts.
func rowName(suiteName string, sc scenarioResult, m metricResult) string {
	name := suiteName + "/" + sc.Name
	if len(sc.Metrics) > 1 {
		name += " " + m.Label
	}
	return name
}

// otherLabel is the title of the column of the comparisons' figures: the
// labels of those -compare named, or "" when it named none.
func otherLabel(res *results) string {
	var labels []string
	for _, c := range res.Comparisons {
		labels = append(labels, c.Label)
	}
	return strings.Join(labels, "/")
}

// describeRun writes the lines above the table: what was run, on what,
// how loaded the machine was, and how to read the columns.
func describeRun(res *results) []string {
	var lines []string
	head := "twine benchmarks: " + runsPhrase(res.Settings.Runs)
	if res.Settings.Quick {
		head += " (quick mode)"
	}
	lines = append(lines, fmt.Sprintf("%s; %s %s/%s, %d CPUs.", head, res.Machine.GoVersion, res.Machine.GOOS, res.Machine.GOARCH, res.Machine.CPUs))
	for _, c := range res.Comparisons {
		if c.Available {
			lines = append(lines, fmt.Sprintf("%s %s (%s) measured the same scenarios, its rounds interleaved with twine's.", c.Label, c.Version, c.Python))
		} else {
			lines = append(lines, fmt.Sprintf("%s not compared: %s.", c.Label, c.Error))
		}
	}
	lines = append(lines, loadPhrase(res))
	return lines
}

// loadPhrase says how loaded the machine was during the run.
func loadPhrase(res *results) string {
	l := res.Load
	if !l.Known {
		if l.Error == "" {
			return "Load average: not read."
		}
		return "Load average: unknown (" + l.Error + ")."
	}
	s := fmt.Sprintf("Load average (1 min): %.2f at the start, %.2f to %.2f during the run, on %d CPUs", l.Start, l.Min, l.Max, l.CPUs)
	if !l.high() {
		return s + ": the machine was not busy."
	}
	high, all := 0, 0
	for _, su := range res.Suites {
		for _, sc := range su.Scenarios {
			if sc.Load != nil {
				all++
				if highLoad(*sc.Load, l.CPUs) {
					high++
				}
			}
		}
	}
	return s + fmt.Sprintf(": HIGH (above the CPU count) after %d of %d scenarios, marked ! in the load column: other programs took processor time from the rounds, and their figures are noisier.", high, all)
}

// legend explains the columns.
var legend = []string{
	"±: half the range of a side's rounds, in percent of their median.",
	"×: how many times better twine does than the column to its left (above 1: better; below 1: worse);",
	"   ? marks a ratio too noisy to rank: the two sides' rounds overlap, so the run cannot say which does better.",
	"load: the load average after the scenario's rounds.",
}

// writeTable writes the results as an aligned text table: one row per
// metric of each scenario, with the baseline and the comparison's side
// beside twine, each with its spread, and the ratios too noisy to rank
// listed after it.
func writeTable(w io.Writer, res *results) {
	for _, line := range describeRun(res) {
		fmt.Fprintln(w, line)
	}
	for _, line := range legend {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)

	other := otherLabel(res)
	head := []string{"scenario", "twine", "±", "baseline", "±", "×"}
	if other != "" {
		head = append(head, other, "±", "×")
	}
	head = append(head, "allocs", "load", "baseline is")
	rows := [][]string{head}
	for _, s := range res.Suites {
		for _, sc := range s.Scenarios {
			if sc.Error != "" {
				rows = append(rows, []string{s.Name + "/" + sc.Name, "failed: " + sc.Error})
				continue
			}
			for i, m := range sc.Metrics {
				row := []string{rowName(s.Name, sc, m), formatValue(m.Twine.Median, m.Unit), formatSpread(m.Twine), "-", "", "-"}
				if m.Baseline != nil {
					row[3], row[4], row[5] = formatValue(m.Baseline.Median, m.Unit), formatSpread(*m.Baseline), formatVersus(m.VsBaseline)
				}
				if other != "" {
					if m.Other != nil {
						row = append(row, formatValue(m.Other.Median, m.Unit), formatSpread(m.Other.runs), formatVersus(m.VsOther))
					} else {
						row = append(row, "-", "", "-")
					}
				}
				allocs, load, base := "", "", ""
				if i == 0 {
					if sc.Allocs != nil {
						allocs = formatAllocs(*sc.Allocs)
					}
					load = formatLoad(sc.Load, res.Load.CPUs)
				}
				if m.Baseline != nil {
					base = sc.BaselineName
				}
				rows = append(rows, append(row, allocs, load, base))
			}
		}
	}
	right := map[int]bool{}
	for i := 1; i < len(head)-1; i++ {
		right[i] = true
	}
	writeAligned(w, rows, right)
	if noisy := tooNoisy(res); len(noisy) > 0 {
		fmt.Fprintf(w, "\nToo noisy to rank (%d): %s.\n", len(noisy), strings.Join(noisy, "; "))
	}
}

// tooNoisy lists the ratios too noisy to rank: "deferred/create_callback
// against buffered channel".
func tooNoisy(res *results) []string {
	var out []string
	for _, s := range res.Suites {
		for _, sc := range s.Scenarios {
			for _, m := range sc.Metrics {
				if m.VsBaseline != nil && m.VsBaseline.TooNoisy {
					out = append(out, rowName(s.Name, sc, m)+" against "+sc.BaselineName)
				}
				if m.VsOther != nil && m.VsOther.TooNoisy {
					out = append(out, rowName(s.Name, sc, m)+" against "+m.Other.Side)
				}
			}
		}
	}
	return out
}

// formatSpread writes the spread of a side's rounds: "±3%", or "" for one
// round.
func formatSpread(r runs) string {
	if len(r.Runs) < 2 {
		return ""
	}
	return fmt.Sprintf("±%.0f%%", r.Spread)
}

// formatLoad writes a load average, marked "!" when high; "" for none.
func formatLoad(v *float64, cpus int) string {
	if v == nil {
		return ""
	}
	s := fmt.Sprintf("%.2f", *v)
	if highLoad(*v, cpus) {
		s += "!"
	}
	return s
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

// runsPhrase says what the figures are: "medians of 5 interleaved
// rounds", "one round".
func runsPhrase(n int) string {
	if n == 1 {
		return "one round"
	}
	return fmt.Sprintf("medians of %d interleaved rounds", n)
}

// formatSeconds writes a duration in seconds for a script's command line.
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
