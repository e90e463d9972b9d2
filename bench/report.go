package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Colours of the sides and of the lag modes.
const (
	colTwine    = "#0f766e"
	colBaseline = "#94a3b8"
	colTwisted  = "#d97706"
)

var lagColours = map[string]string{
	"blocking":  "#dc2626",
	"cooperate": "#2563eb",
	"adaptive":  "#059669",
}

// lagColour returns the colour of a lag scenario; unknown ones get grey.
func lagColour(name string) string {
	if c, ok := lagColours[name]; ok {
		return c
	}
	return "#6b7280"
}

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
	switch {
	case res.Twisted.Available:
		fmt.Fprintf(&b, "<p class=\"meta\">Twisted %s measured the same scenarios in the same run, with %s.</p>\n",
			esc(res.Twisted.Version), esc(res.Twisted.Python))
	case res.Twisted.Requested:
		fmt.Fprintf(&b, "<p class=\"warn\">Twisted was not compared: %s.</p>\n", esc(res.Twisted.Error))
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
			"(the run with the median p99 of each scenario); logarithmic scale.</p>\n")
		b.WriteString(lagTimeChart(lag))
		b.WriteString("</div>\n<div class=\"card\"><h3>How late the probe ran</h3><p class=\"note\">Share of the " +
			"probe's runs by lag, all runs; logarithmic bins.</p>\n")
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
	if res.Twisted.Requested {
		b.WriteString(" -compare twisted")
	}
	b.WriteString("</code>. ±: half the range of twine's runs, in percent of their median. Ratios: the other side's time over " +
		"twine's (for a throughput, twine's over the other's); above 1 twine does better. Every run's figures, for " +
		"tools, are in <code>results.json</code>.</footer>\n")
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

// lagTitle names a lag scenario for people.
func lagTitle(name string) string {
	switch name {
	case "blocking":
		return "without cooperation"
	case "cooperate":
		return "cooperate.Each, 10 ms slices"
	case "adaptive":
		return "adaptive, 1 ms target"
	}
	return name
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
	var vs []float64
	for _, s := range res.Suites {
		for _, sc := range s.Scenarios {
			if len(sc.Metrics) > 0 && sc.Metrics[0].VsTwisted != nil && s.Name != "lag" {
				vs = append(vs, *sc.Metrics[0].VsTwisted)
			}
		}
	}
	if len(vs) > 0 {
		card(colTwisted, formatSig(median(vs))+"×",
			fmt.Sprintf("median speed-up over Twisted, %d scenarios (%s to %s)", len(vs),
				formatSig(slices.Min(vs))+"×", formatSig(slices.Max(vs))+"×"))
	}
	if len(cards) == 0 {
		return
	}
	b.WriteString("<div class=\"figures\">\n" + strings.Join(cards, "\n") + "\n</div>\n")
}

// lagTimeChart draws the probe's lag over time, one line per scenario, on
// a logarithmic scale.
func lagTimeChart(s *suiteResult) string {
	const W, H = 1100.0, 380.0
	const left, right, top, bottom = 64.0, 230.0, 16.0, 44.0
	minLag, maxLag, maxT := math.Inf(1), 0.0, 0.0
	for _, sc := range s.Scenarios {
		if sc.Lag == nil {
			continue
		}
		for _, p := range sc.Lag.Series {
			maxT = max(maxT, p[0])
			maxLag = max(maxLag, p[1])
			if p[1] > 0 {
				minLag = min(minLag, p[1])
			}
		}
	}
	// Lags under 10 µs are on time: the floor of the scale.
	const floor = 0.01
	minLag = max(minLag, floor)
	maxLag = max(maxLag, minLag*10)
	c := newSVG(W, H, "The probe's lag over time, per scenario, logarithmic scale")
	y := newLogScale(minLag, maxLag, H-bottom, top)
	step := niceStep(maxT, 8)
	x := linScale{lo: 0, hi: math.Max(step, math.Ceil(maxT/step)*step), p0: left, p1: W - right}

	major, minor := y.ticks()
	for _, v := range minor {
		c.line(left, y.at(v), W-right, y.at(v), "grid-minor")
	}
	for _, v := range major {
		c.line(left, y.at(v), W-right, y.at(v), "grid")
		label := formatTick(v)
		if v <= floor {
			label = "≤ " + label
		}
		c.text(left-8, y.at(v)+4, "end", "tick", label)
	}
	for t := 0.0; t <= x.hi+step/2; t += step {
		c.line(x.at(t), H-bottom, x.at(t), H-bottom+5, "axis")
		c.text(x.at(t), H-bottom+18, "middle", "tick", strconv.FormatFloat(math.Round(t*1e3)/1e3, 'f', -1, 64)+" s")
	}
	c.line(left, H-bottom, W-right, H-bottom, "axis")
	c.line(left, top, left, H-bottom, "axis")
	c.text((left+W-right)/2, H-6, "middle", "sub", "time since the start of the run")
	// The two lags the cooperator aims at.
	for _, ref := range []struct {
		ms    float64
		label string
	}{{10, "10 ms slice"}, {1, "1 ms target"}} {
		if ref.ms > math.Pow(10, float64(y.lo)) && ref.ms < math.Pow(10, float64(y.hi)) {
			c.line(left, y.at(ref.ms), W-right, y.at(ref.ms), "ref")
			c.text(W-right-4, y.at(ref.ms)-4, "end", "sub", ref.label)
		}
	}
	clampY := func(v float64) float64 { return y.at(max(v, math.Pow(10, float64(y.lo)))) }
	ly := top + 6.0
	for _, sc := range s.Scenarios {
		if sc.Lag == nil {
			continue
		}
		colour := lagColour(sc.Name)
		if len(sc.Lag.Series) <= 60 {
			// A few long stalls: each one a dot worth pointing at.
			for _, p := range sc.Lag.Series {
				c.circle(x.at(p[0]), clampY(p[1]), 4.5, colour,
					fmt.Sprintf("%s: %s late at %.2f s", lagTitle(sc.Name), formatMs(p[1]), p[0]))
			}
		} else {
			pts := downsample(sc.Lag.Series, 2000)
			c.b.WriteString(`<g fill-opacity="0.55">`)
			for _, p := range pts {
				c.circle(x.at(p[0]), clampY(p[1]), 1.8, colour, "")
			}
			c.b.WriteString(`</g>`)
		}
		// Legend, right of the plot.
		c.rect(W-right+14, ly-9, 14, 10, colour, "")
		c.text(W-right+34, ly, "start", "label", lagTitle(sc.Name))
		if m := metricOf(&sc, "p99"); m != nil {
			c.text(W-right+34, ly+15, "start", "sub", "p99 "+formatTime(m.Twine.Median)+", max "+formatMs(maxOf(sc.Lag.Series)))
		}
		ly += 40
	}
	return c.String()
}

func maxOf(series [][2]float64) float64 {
	m := 0.0
	for _, p := range series {
		m = max(m, p[1])
	}
	return m
}

// lagHistogramChart draws, per lag scenario, the share of the probe's runs
// in each logarithmic bin of lag, as grouped bars.
func lagHistogramChart(s *suiteResult) string {
	const W, H = 1100.0, 340.0
	const left, right, top, bottom = 64.0, 230.0, 16.0, 48.0
	var scs []*scenarioResult
	first, last := -1, -1
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		if sc.Lag == nil {
			continue
		}
		scs = append(scs, sc)
		for j, n := range sc.Lag.Histogram.Counts {
			if n > 0 {
				if first < 0 || j < first {
					first = j
				}
				last = max(last, j)
			}
		}
	}
	c := newSVG(W, H, "Histogram of the probe's lag, per scenario")
	if first < 0 {
		c.text(W/2, H/2, "middle", "sub", "no probe runs")
		return c.String()
	}
	edges := scs[0].Lag.Histogram.EdgesMs
	first = max(0, first-1)
	last = min(len(edges)-2, last+1)
	bins := last - first + 1
	share := func(sc *scenarioResult, j int) float64 {
		total := 0
		for _, n := range sc.Lag.Histogram.Counts {
			total += n
		}
		return 100 * float64(sc.Lag.Histogram.Counts[j]) / float64(max(total, 1))
	}
	top100 := 0.0
	for _, sc := range scs {
		for j := first; j <= last; j++ {
			top100 = max(top100, share(sc, j))
		}
	}
	ystep := niceStep(top100, 5)
	y := linScale{lo: 0, hi: math.Ceil(top100/ystep) * ystep, p0: H - bottom, p1: top}
	for v := 0.0; v <= y.hi+ystep/2; v += ystep {
		c.line(left, y.at(v), W-right, y.at(v), "grid")
		c.text(left-8, y.at(v)+4, "end", "tick", formatSig(v)+" %")
	}
	binW := (W - right - left) / float64(bins)
	barW := (binW - 4) / float64(len(scs))
	for j := first; j <= last; j++ {
		x0 := left + float64(j-first)*binW
		for k, sc := range scs {
			v := share(sc, j)
			if v == 0 {
				continue
			}
			c.rect(x0+2+float64(k)*barW, y.at(v), barW-1, y.at(0)-y.at(v), lagColour(sc.Name),
				fmt.Sprintf("%s: %s of the probe's runs %s to %s late", lagTitle(sc.Name), formatSig(v)+" %",
					formatMs(edges[j]), formatMs(edges[j+1])))
		}
	}
	// Edge labels at whole decades (every fifth edge) and at the ends.
	for j := first; j <= last+1; j++ {
		xe := left + float64(j-first)*binW
		decade := math.Abs(math.Log10(edges[j])-math.Round(math.Log10(edges[j]))) < 1e-9
		if decade {
			c.line(xe, H-bottom, xe, H-bottom+5, "axis")
			c.text(xe, H-bottom+18, "middle", "tick", formatTick(edges[j]))
		}
	}
	c.line(left, H-bottom, W-right, H-bottom, "axis")
	c.text((left+W-right)/2, H-8, "middle", "sub", "how late the probe ran")
	ly := top + 6.0
	for _, sc := range scs {
		c.rect(W-right+14, ly-9, 14, 10, lagColour(sc.Name), "")
		c.text(W-right+34, ly, "start", "label", lagTitle(sc.Name))
		total := 0
		for _, n := range sc.Lag.Histogram.Counts {
			total += n
		}
		c.text(W-right+34, ly+15, "start", "sub", fmt.Sprintf("%d probe runs", total))
		ly += 40
	}
	return c.String()
}

// A bar is one side's figure in a bar chart.
type bar struct {
	side, colour string
	value        float64
	ratio        *float64 // twine against this side
}

// barChart draws the headline figure of every scenario of a suite as
// horizontal bars, twine, baseline and Twisted, on a logarithmic scale,
// with the ratios in a column on the right.
func barChart(s suiteResult) string {
	const W = 1100.0
	const left, barsW, labelW, barH, gap, groupGap, top = 210.0, 470.0, 230.0, 16.0, 3.0, 16.0, 30.0
	const ratioX = left + barsW + labelW
	type group struct {
		name, unit, sub string
		bars            []bar
		err             string
	}
	var groups []group
	minV, maxV := math.Inf(1), 0.0
	for _, sc := range s.Scenarios {
		g := group{name: sc.Name, err: sc.Error}
		if sc.Error == "" && len(sc.Metrics) > 0 {
			m := sc.Metrics[0]
			g.unit = m.Unit
			g.sub = per(m.Unit)
			if m.Label != "time" {
				g.sub = strings.TrimSpace(m.Label + " " + g.sub)
			}
			g.bars = append(g.bars, bar{side: "twine", colour: colTwine, value: m.Twine.Median})
			if m.Baseline != nil {
				g.bars = append(g.bars, bar{side: sc.BaselineName, colour: colBaseline, value: m.Baseline.Median, ratio: m.VsBaseline})
			}
			if m.Twisted != nil {
				g.bars = append(g.bars, bar{side: "Twisted", colour: colTwisted, value: m.Twisted.Value, ratio: m.VsTwisted})
			}
			for _, b := range g.bars {
				if b.value > 0 {
					minV, maxV = min(minV, b.value), max(maxV, b.value)
				}
			}
		}
		groups = append(groups, g)
	}
	rowsOf := func(g group) float64 { return math.Max(2, float64(len(g.bars))) }
	height := top + 10
	for _, g := range groups {
		height += rowsOf(g)*(barH+gap) + groupGap
	}
	c := newSVG(W, height, "Time per operation of the suite "+s.Name+", logarithmic scale")
	if maxV == 0 {
		c.text(W/2, height/2, "middle", "sub", "no figures")
		return c.String()
	}
	x := newLogScale(minV, maxV, left, left+barsW)
	major, minor := x.ticks()
	for _, v := range minor {
		c.line(x.at(v), top, x.at(v), height-8, "grid-minor")
	}
	for _, v := range major {
		c.line(x.at(v), top, x.at(v), height-8, "grid")
		c.text(x.at(v), top-10, "middle", "tick", formatTick(v*1e-6))
	}
	c.text(ratioX, top-10, "start", "tick", "twine does … (above 1: better)")
	y := top + 6
	for _, g := range groups {
		rows := rowsOf(g)
		mid := y + rows*(barH+gap)/2
		c.text(left-12, mid-3, "end", "label", g.name)
		c.text(left-12, mid+12, "end", "sub", g.sub)
		if g.err != "" {
			c.text(left+4, mid+4, "start", "bad", "failed: "+g.err)
		}
		by := y
		for _, b := range g.bars {
			if b.value <= 0 {
				continue
			}
			x1 := x.at(b.value)
			c.rect(left, by, x1-left, barH, b.colour, fmt.Sprintf("%s: %s", b.side, formatValue(b.value, g.unit)))
			c.text(x1+6, by+barH-4, "start", "value", formatValue(b.value, g.unit)+"  "+b.side)
			if b.ratio != nil {
				cls := "even"
				switch {
				case *b.ratio >= 1.05:
					cls = "good"
				case *b.ratio <= 0.95:
					cls = "bad"
				}
				other := "plain Go"
				if b.side == "Twisted" {
					other = "Twisted"
				}
				c.text(ratioX, by+barH-4, "start", cls, formatRatio(b.ratio)+" vs "+other)
			}
			by += barH + gap
		}
		y += rows*(barH+gap) + groupGap
		c.line(24, y-groupGap/2-1, W-24, y-groupGap/2-1, "grid-minor")
	}
	return c.String()
}

// formatTick writes an axis label in milliseconds: "10 µs", "1 ms".
func formatTick(msV float64) string {
	s := formatMs(msV)
	num, unit, _ := strings.Cut(s, " ")
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	return num + " " + unit
}

// per says what a time unit is for: "per op", "per call"; "" for a plain
// duration.
func per(unit string) string {
	if _, p, ok := strings.Cut(unit, "/"); ok {
		return "per " + p
	}
	return ""
}

// writeHTMLTable writes every figure as an HTML table.
func writeHTMLTable(b *strings.Builder, res *results) {
	b.WriteString("<table>\n<thead><tr><th class=\"name\">scenario</th><th>twine</th><th>±</th><th>baseline</th><th>×</th>" +
		"<th>Twisted</th><th>×</th><th>allocs</th><th class=\"name\">baseline is</th></tr></thead>\n<tbody>\n")
	ratioCell := func(r *float64) string {
		cls := ""
		switch {
		case r == nil:
		case *r >= 1.05:
			cls = " class=\"good\""
		case *r <= 0.95:
			cls = " class=\"bad\""
		}
		return fmt.Sprintf("<td%s>%s</td>", cls, esc(formatRatio(r)))
	}
	for _, s := range res.Suites {
		for _, sc := range s.Scenarios {
			if sc.Error != "" {
				fmt.Fprintf(b, "<tr><td class=\"name\">%s</td><td colspan=\"8\" class=\"name fail\">failed: %s</td></tr>\n",
					esc(s.Name+"/"+sc.Name), esc(sc.Error))
				continue
			}
			for i, m := range sc.Metrics {
				base, tw, allocs, baseName := "-", "-", "", ""
				if m.Baseline != nil {
					base, baseName = formatValue(m.Baseline.Median, m.Unit), sc.BaselineName
				}
				if m.Twisted != nil {
					tw = formatValue(m.Twisted.Value, m.Unit)
				}
				if i == 0 && sc.Allocs != nil {
					allocs = formatAllocs(*sc.Allocs)
				}
				fmt.Fprintf(b, "<tr><td class=\"name\" title=\"%s\">%s</td><td>%s</td><td class=\"spread\">%s</td><td>%s</td>%s<td>%s</td>%s<td>%s</td><td class=\"base\">%s</td></tr>\n",
					esc(sc.Doc), esc(rowName(s.Name, sc, m)), esc(formatValue(m.Twine.Median, m.Unit)), esc(formatSpread(m.Twine)), esc(base),
					ratioCell(m.VsBaseline), esc(tw), ratioCell(m.VsTwisted), esc(allocs), esc(baseName))
			}
		}
	}
	b.WriteString("</tbody>\n</table>\n")
}
