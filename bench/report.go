package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Colours of the sides: twine, plain Go, the comparison (Twisted).
const (
	colTwine    = "#0f766e"
	colBaseline = "#94a3b8"
	colOther    = "#d97706"
)

// pageStyle is the report's whole style sheet: no fonts, scripts or
// sheets are fetched from anywhere.
const pageStyle = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1f2937;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 36px 0 6px; }
h3 { font-size: 16px; margin: 0 0 2px; }
p { margin: 4px 0 10px; }
.meta { color: #6b7280; font-size: 13px; }
.lead { color: #374151; max-width: 62em; }
.card { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.08), 0 1px 2px rgba(0,0,0,.04);
  padding: 16px 18px 10px; margin: 12px 0; }
.card p.note { color: #6b7280; font-size: 13px; margin: 0 0 6px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin: 18px 0 4px; }
.figure { background: #fff; border-radius: 10px; padding: 12px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08);
  border-top: 4px solid #9ca3af; }
.figure .big { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.figure .what { font-size: 13px; color: #4b5563; }
.warn { background: #fff7ed; border: 1px solid #fed7aa; color: #9a3412; border-radius: 8px; padding: 8px 12px; }
.fail { color: #b91c1c; }
svg.chart { display: block; height: auto; font-size: 12px; }
svg .axis { stroke: #9ca3af; stroke-width: 1; }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .grid-minor { stroke: #f1f2f4; stroke-width: 1; }
svg .ref { stroke: #6b7280; stroke-width: 1; stroke-dasharray: 4 4; }
svg text { fill: #374151; }
svg .tick { fill: #6b7280; font-size: 11px; }
svg .label { fill: #111827; font-size: 12.5px; }
svg .sub { fill: #6b7280; font-size: 11px; }
svg .value { fill: #374151; font-size: 11px; font-variant-numeric: tabular-nums; }
svg .title { fill: #111827; font-size: 13px; font-weight: 600; }
svg .good { fill: #047857; font-weight: 600; }
svg .bad { fill: #b91c1c; font-weight: 600; }
svg .even { fill: #6b7280; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid #eceef1; text-align: right; white-space: nowrap; }
th { color: #4b5563; font-weight: 600; background: #fafafa; }
td.name, th.name { text-align: left; }
td.base { text-align: left; color: #6b7280; }
td.spread { color: #9ca3af; }
td.good { color: #047857; font-weight: 600; }
td.bad { color: #b91c1c; font-weight: 600; }
td.noisy { color: #6b7280; font-style: italic; }
code { background: #eef0f3; padding: 1px 5px; border-radius: 4px; font-size: 13px; }
footer { margin-top: 28px; color: #6b7280; font-size: 13px; }
`

// writeHTML writes the report: key figures, the lag charts, a bar chart
// per suite and the full table, in one self-contained page.
func writeHTML(w io.Writer, res *results) error {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
	b.WriteString("<title>twine benchmarks</title>\n<style>" + pageStyle + "</style>\n</head>\n<body>\n<main>\n")

	b.WriteString("<h1>twine benchmarks</h1>\n")
	quick := ""
	if res.Settings.Quick {
		quick = " (quick mode)"
	}
	fmt.Fprintf(&b, "<p class=\"meta\">%s · %s %s/%s · %d CPUs · %s%s · %.0f s</p>\n",
		esc(res.Started.Format("2006-01-02 15:04 MST")), esc(res.Machine.GoVersion), esc(res.Machine.GOOS),
		esc(res.Machine.GOARCH), res.Machine.CPUs, runsPhrase(res.Settings.Runs), quick, res.Seconds)
	for _, c := range res.Comparisons {
		if c.Available {
			fmt.Fprintf(&b, "<p class=\"meta\">%s %s measured the same scenarios in the same run, with %s, its rounds interleaved with twine's.</p>\n",
				esc(c.Label), esc(c.Version), esc(c.Python))
		} else {
			fmt.Fprintf(&b, "<p class=\"warn\">%s was not compared: %s.</p>\n", esc(c.Label), esc(c.Error))
		}
	}
	loadClass := "meta"
	if res.Load.high() {
		loadClass = "warn"
	}
	fmt.Fprintf(&b, "<p class=\"%s\">%s</p>\n", loadClass, esc(loadPhrase(res)))
	if noisy := tooNoisy(res); len(noisy) > 0 {
		fmt.Fprintf(&b, "<p class=\"warn\">Too noisy to rank (%d): %s. Their sides' rounds overlap, so this run cannot say which does better.</p>\n",
			len(noisy), esc(strings.Join(noisy, "; ")))
	}
	writeKeyFigures(&b, res)

	if lag := findSuite(res, "lag"); lag != nil && hasLag(lag) {
		b.WriteString("<h2>Reactor lag under cooperative load</h2>\n")
		b.WriteString("<p class=\"lead\">Four tasks whose steps compute for 20 µs share a reactor with a probe: a 1 ms " +
			"timer that re-arms itself. How late the probe runs is the reactor's lag: the time any other event " +
			"(a request, a heartbeat) would wait. <b>Without cooperation</b> each task is one plain loop that holds the " +
			"reactor until it ends; <b>with cooperation</b> the same loops run under <code>cooperate.Each</code>, in " +
			"slices of 10 ms; <b>adaptive</b> sizes the slices for a lag of 1 ms.</p>\n")
		b.WriteString("<div class=\"card\"><h3>Lag over time</h3><p class=\"note\">Each point is one run of the probe " +
			"(the round with the median p99 of each scenario); logarithmic scale.</p>\n")
		b.WriteString(lagTimeChart(lag))
		b.WriteString("</div>\n<div class=\"card\"><h3>How late the probe ran</h3><p class=\"note\">Share of the " +
			"probe's runs by lag, all rounds; logarithmic bins.</p>\n")
		b.WriteString(lagHistogramChart(lag))
		b.WriteString("</div>\n")
	}

	b.WriteString("<h2>Time per operation</h2>\n<p class=\"lead\">The headline figure of every scenario: twine, " +
		"plain Go doing the same where it has a way of its own, and Twisted. Shorter is better; logarithmic scale. " +
		"The ratios say how many times better twine does.</p>\n")
	for _, s := range res.Suites {
		fmt.Fprintf(&b, "<div class=\"card\"><h3>%s</h3><p class=\"note\">suite <code>%s</code></p>\n", esc(s.Doc), esc(s.Name))
		b.WriteString(barChart(s))
		b.WriteString("</div>\n")
	}

	b.WriteString("<h2>All figures</h2>\n<div class=\"card\">\n")
	writeHTMLTable(&b, res)
	b.WriteString("</div>\n")
	b.WriteString("<footer>Made by <code>go run ./bench")
	if res.Settings.Compare != "" {
		b.WriteString(" -compare " + esc(res.Settings.Compare))
	}
	b.WriteString("</code>. The rounds of twine, plain Go and the comparison were interleaved. ±: half the range of a " +
		"side's rounds, in percent of their median. Ratios: the other side's time over twine's (for a throughput, " +
		"twine's over the other's); above 1 twine does better; ? marks a ratio too noisy to rank, whose sides' rounds " +
		"overlap. load: the load average after the scenario, ! above the CPU count. Every round's figures, for tools, " +
		"are in <code>results.json</code>.</footer>\n")
	b.WriteString("</main>\n</body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func findSuite(res *results, name string) *suiteResult {
	for i := range res.Suites {
		if res.Suites[i].Name == name {
			return &res.Suites[i]
		}
	}
	return nil
}

func hasLag(s *suiteResult) bool {
	for _, sc := range s.Scenarios {
		if sc.Lag != nil {
			return true
		}
	}
	return false
}

// metricOf returns the scenario's metric with the key, or nil.
func metricOf(sc *scenarioResult, key string) *metricResult {
	for i := range sc.Metrics {
		if sc.Metrics[i].Key == key {
			return &sc.Metrics[i]
		}
	}
	return nil
}

// writeKeyFigures writes the few numbers a reader should leave with.
func writeKeyFigures(b *strings.Builder, res *results) {
	var cards []string
	card := func(colour, big, what string) {
		cards = append(cards, fmt.Sprintf("<div class=\"figure\" style=\"border-top-color:%s\"><div class=\"big\">%s</div><div class=\"what\">%s</div></div>",
			colour, esc(big), esc(what)))
	}
	if lag := findSuite(res, "lag"); lag != nil {
		for i := range lag.Scenarios {
			sc := &lag.Scenarios[i]
			p99, tp := metricOf(sc, "p99"), metricOf(sc, "throughput")
			if p99 == nil {
				continue
			}
			what := "p99 lag, " + lagTitle(sc.Name)
			if tp != nil {
				what += fmt.Sprintf(" (throughput %s %%)", formatSig(tp.Twine.Median))
			}
			card(lagColour(sc.Name), formatTime(p99.Twine.Median), what)
		}
	}
	for _, c := range res.Comparisons {
		var vs []float64
		for _, s := range res.Suites {
			for _, sc := range s.Scenarios {
				if len(sc.Metrics) == 0 || s.Name == "lag" {
					continue
				}
				if m := sc.Metrics[0]; m.VsOther != nil && m.Other.Side == c.Label {
					vs = append(vs, m.VsOther.Ratio)
				}
			}
		}
		if len(vs) > 0 {
			card(colOther, formatSig(median(vs))+"×",
				fmt.Sprintf("median speed-up over %s, %d scenarios (%s to %s)", c.Label, len(vs),
					formatSig(slices.Min(vs))+"×", formatSig(slices.Max(vs))+"×"))
		}
	}
	if len(cards) == 0 {
		return
	}
	b.WriteString("<div class=\"figures\">\n" + strings.Join(cards, "\n") + "\n</div>\n")
}

// writeHTMLTable writes every figure as an HTML table.
func writeHTMLTable(b *strings.Builder, res *results) {
	other := otherLabel(res)
	b.WriteString("<table>\n<thead><tr><th class=\"name\">scenario</th><th>twine</th><th>±</th><th>baseline</th><th>±</th><th>×</th>")
	if other != "" {
		fmt.Fprintf(b, "<th>%s</th><th>±</th><th>×</th>", esc(other))
	}
	b.WriteString("<th>allocs</th><th>load</th><th class=\"name\">baseline is</th></tr></thead>\n<tbody>\n")
	cols := 9
	if other != "" {
		cols += 3
	}
	ratioCell := func(v *versus) string {
		cls, title := "", ""
		switch {
		case v == nil:
		case v.TooNoisy:
			cls, title = " class=\"noisy\"", " title=\"too noisy to rank: the two sides' rounds overlap\""
		case v.Ratio >= 1.05:
			cls = " class=\"good\""
		case v.Ratio <= 0.95:
			cls = " class=\"bad\""
		}
		return fmt.Sprintf("<td%s%s>%s</td>", cls, title, esc(formatVersus(v)))
	}
	for _, s := range res.Suites {
		for _, sc := range s.Scenarios {
			if sc.Error != "" {
				fmt.Fprintf(b, "<tr><td class=\"name\">%s</td><td colspan=\"%d\" class=\"name fail\">failed: %s</td></tr>\n",
					esc(s.Name+"/"+sc.Name), cols-1, esc(sc.Error))
				continue
			}
			for i, m := range sc.Metrics {
				fmt.Fprintf(b, "<tr><td class=\"name\" title=\"%s\">%s</td><td>%s</td><td class=\"spread\">%s</td>",
					esc(sc.Doc), esc(rowName(s.Name, sc, m)), esc(formatValue(m.Twine.Median, m.Unit)), esc(formatSpread(m.Twine)))
				if m.Baseline != nil {
					fmt.Fprintf(b, "<td>%s</td><td class=\"spread\">%s</td>", esc(formatValue(m.Baseline.Median, m.Unit)), esc(formatSpread(*m.Baseline)))
				} else {
					b.WriteString("<td>-</td><td class=\"spread\"></td>")
				}
				b.WriteString(ratioCell(m.VsBaseline))
				if other != "" {
					if m.Other != nil {
						fmt.Fprintf(b, "<td>%s</td><td class=\"spread\">%s</td>", esc(formatValue(m.Other.Median, m.Unit)), esc(formatSpread(m.Other.runs)))
					} else {
						b.WriteString("<td>-</td><td class=\"spread\"></td>")
					}
					b.WriteString(ratioCell(m.VsOther))
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
				fmt.Fprintf(b, "<td>%s</td><td>%s</td><td class=\"base\">%s</td></tr>\n", esc(allocs), esc(load), esc(base))
			}
		}
	}
	b.WriteString("</tbody>\n</table>\n")
}
