package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// An svg builds one chart as an inline <svg> element. Its text is escaped
// and every element is closed, so the result is well-formed XML too.
type svg struct {
	b    strings.Builder
	w, h float64
}

func newSVG(w, h float64, label string) *svg {
	s := &svg{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="%s" class="chart">`,
		w, h, esc(label))
	return s
}

func (s *svg) String() string { return s.b.String() + "</svg>" }

func esc(text string) string { return html.EscapeString(text) }

// num writes a coordinate with two decimals at most.
func num(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

func (s *svg) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(&s.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" class="%s"/>`, num(x1), num(y1), num(x2), num(y2), class)
}

// rect draws a rectangle with a tooltip, if title is not empty.
func (s *svg) rect(x, y, w, h float64, fill, title string) {
	fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" rx="2">`, num(x), num(y), num(max(w, 0)), num(max(h, 0)), fill)
	if title != "" {
		fmt.Fprintf(&s.b, `<title>%s</title>`, esc(title))
	}
	s.b.WriteString(`</rect>`)
}

// text writes a label; anchor is start, middle or end.
func (s *svg) text(x, y float64, anchor, class, text string) {
	fmt.Fprintf(&s.b, `<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, num(x), num(y), anchor, class, esc(text))
}

func (s *svg) circle(x, y, r float64, fill, title string) {
	fmt.Fprintf(&s.b, `<circle cx="%s" cy="%s" r="%s" fill="%s">`, num(x), num(y), num(r), fill)
	if title != "" {
		fmt.Fprintf(&s.b, `<title>%s</title>`, esc(title))
	}
	s.b.WriteString(`</circle>`)
}

// A logScale maps values between 10^lo and 10^hi to pixels from p0 to p1.
type logScale struct {
	lo, hi int // decades
	p0, p1 float64
}

// newLogScale covers the values from min to max (both positive) with whole
// decades.
func newLogScale(minV, maxV, p0, p1 float64) logScale {
	lo := int(math.Floor(math.Log10(minV)))
	hi := int(math.Ceil(math.Log10(maxV)))
	if hi <= lo {
		hi = lo + 1
	}
	return logScale{lo: lo, hi: hi, p0: p0, p1: p1}
}

func (l logScale) at(v float64) float64 {
	f := (math.Log10(v) - float64(l.lo)) / float64(l.hi-l.lo)
	return l.p0 + f*(l.p1-l.p0)
}

// ticks returns the powers of ten of the scale, and the 2s and 5s between
// them as minor ticks.
func (l logScale) ticks() (major, minor []float64) {
	for d := l.lo; d <= l.hi; d++ {
		p := math.Pow(10, float64(d))
		major = append(major, p)
		if d < l.hi {
			minor = append(minor, 2*p, 5*p)
		}
	}
	return major, minor
}

// A linScale maps values from lo to hi to pixels from p0 to p1.
type linScale struct {
	lo, hi float64
	p0, p1 float64
}

func (l linScale) at(v float64) float64 {
	if l.hi == l.lo {
		return l.p0
	}
	return l.p0 + (v-l.lo)/(l.hi-l.lo)*(l.p1-l.p0)
}

// niceStep returns a round step (1, 2 or 5 times a power of ten) that cuts
// span into about n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// formatMs writes milliseconds as a short axis label.
func formatMs(v float64) string {
	return formatTime(v * 1e6)
}

// downsample keeps at most about n of points (sorted by x) for a line: of
// each run of points it keeps the lowest and the highest, in order, so
// that spikes stay visible.
func downsample(points [][2]float64, n int) [][2]float64 {
	if len(points) <= n || n < 2 {
		return points
	}
	per := float64(len(points)) / float64(n/2)
	out := make([][2]float64, 0, n+2)
	for start := 0.0; int(start) < len(points); start += per {
		end := min(int(start+per), len(points))
		bucket := points[int(start):end]
		if len(bucket) == 0 {
			continue
		}
		lo, hi := 0, 0
		for i, p := range bucket {
			if p[1] < bucket[lo][1] {
				lo = i
			}
			if p[1] > bucket[hi][1] {
				hi = i
			}
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		out = append(out, bucket[lo])
		if hi != lo {
			out = append(out, bucket[hi])
		}
	}
	return out
}
