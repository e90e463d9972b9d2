package main

import (
	"fmt"
	"math"
	"strconv"
)

// lagColours are the colours of the lag scenarios, the same in every chart.
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
