package main

import (
	"fmt"
	"math"
	"strings"
)

// A bar is one side's figure in a bar chart.
type bar struct {
	side, colour string
	value        float64
	vs           *versus // twine against this side
	other        string  // what the ratio is against: "plain Go", "Twisted"
}

// barChart draws the headline figure of every scenario of a suite as
// horizontal bars, twine, baseline and comparison, on a logarithmic scale,
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
				g.bars = append(g.bars, bar{side: sc.BaselineName, colour: colBaseline, value: m.Baseline.Median, vs: m.VsBaseline, other: "plain Go"})
			}
			if m.Other != nil {
				g.bars = append(g.bars, bar{side: m.Other.Side, colour: colOther, value: m.Other.Median, vs: m.VsOther, other: m.Other.Side})
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
			if b.vs != nil {
				cls := "even"
				switch {
				case b.vs.TooNoisy:
				case b.vs.Ratio >= 1.05:
					cls = "good"
				case b.vs.Ratio <= 0.95:
					cls = "bad"
				}
				text := formatVersus(b.vs) + " vs " + b.other
				if b.vs.TooNoisy {
					text += " (too noisy to rank)"
				}
				c.text(ratioX, by+barH-4, "start", cls, text)
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
