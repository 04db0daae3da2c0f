package web

import (
	"fmt"
	"math"
)

// Chart is a bar chart drawn on the server as SVG: the template turns these
// shapes into <rect> and <text> elements, so the page needs no script and
// every label is escaped like any other text.
type Chart struct {
	Title  string // the accessible name of the image
	Class  string // its kind for the CSS: bars (900 units wide) or hbars (600)
	W, H   float64
	Bars   []Rect
	Labels []Text
	Lines  []Line
}

// Rect is one bar or bar segment; Class picks its colour in the CSS.
type Rect struct {
	X, Y, W, H float64
	Class      string
	Tip        string // shown on hover (<title>)
}

// Text is a label at X, Y; Anchor is start, middle or end. Class "alt"
// marks every other label of an axis: a phone's layout hides those to make
// room for the others at a legible size (web/static/site.css).
type Text struct {
	X, Y   float64
	Anchor string
	Text   string
	Class  string
}

// Line is a grid or axis line.
type Line struct{ X1, Y1, X2, Y2 float64 }

// Series is one stacked component of a bar: its values, CSS class and name.
type Series struct {
	Class, Name string
	Values      []int
}

// stackedBars draws one stacked bar per label, with a y axis of round
// steps. Labels are thinned so they never overlap; the margins leave room
// for the labels at a phone's size too, where the x axis's label under
// each bar hangs from its top, and the y axis's are centred on their line
// (dominant-baseline in the CSS).
func stackedBars(title string, labels []string, series []Series) Chart {
	const w, h, left, right, top, bottom = 900.0, 268.0, 64.0, 8.0, 16.0, 56.0
	c := Chart{Title: title, Class: "bars", W: w, H: h}
	peak := 0
	for i := range labels {
		sum := 0
		for _, s := range series {
			sum += s.Values[i]
		}
		peak = max(peak, sum)
	}
	step := niceStep(peak)
	top2 := step * int(math.Ceil(float64(max(peak, 1))/float64(step)))
	plotH := h - top - bottom
	y := func(v int) float64 { return top + plotH - plotH*float64(v)/float64(top2) }
	for v := 0; v <= top2; v += step {
		c.Lines = append(c.Lines, Line{X1: left, Y1: y(v), X2: w - right, Y2: y(v)})
		c.Labels = append(c.Labels, Text{X: left - 6, Y: y(v), Anchor: "end", Text: fmt.Sprint(v), Class: "y"})
	}
	n := max(len(labels), 1)
	slot := (w - left - right) / float64(n)
	every := int(math.Ceil(float64(n) / 15)) // at most 15 labels fit, 8 on a phone
	shown := 0
	for i, l := range labels {
		x := left + slot*float64(i)
		base := 0
		for _, s := range series {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			c.Bars = append(c.Bars, Rect{X: x + slot*0.1, Y: y(base + v), W: slot * 0.8, H: y(base) - y(base+v),
				Class: s.Class, Tip: fmt.Sprintf("%s: %d %s", l, v, s.Name)})
			base += v
		}
		if i%every == 0 {
			t := Text{X: x + slot/2, Y: h - bottom + 18, Anchor: "middle", Text: l, Class: "x"}
			if shown%2 == 1 {
				t.Class = "x alt"
			}
			c.Labels = append(c.Labels, t)
			shown++
		}
	}
	return c
}

// hbars draws one horizontal bar per row, scaled to the largest value.
// Names are clipped to what fits left of the bars at a phone's label size.
func hbars(title string, names []string, values []int, class string) Chart {
	const w, row, left, right = 600.0, 26.0, 170.0, 60.0
	c := Chart{Title: title, Class: "hbars", W: w, H: row*float64(len(names)) + 4}
	peak := 1
	for _, v := range values {
		peak = max(peak, v)
	}
	for i, name := range names {
		y := row*float64(i) + 2
		bw := (w - left - right) * float64(values[i]) / float64(peak)
		c.Bars = append(c.Bars, Rect{X: left, Y: y + 3, W: bw, H: row - 8, Class: class, Tip: fmt.Sprintf("%s: %d", name, values[i])})
		c.Labels = append(c.Labels,
			Text{X: left - 8, Y: y + row/2 + 3, Anchor: "end", Text: clip(name, 16)},
			Text{X: left + bw + 6, Y: y + row/2 + 3, Anchor: "start", Text: fmt.Sprint(values[i])})
	}
	return c
}

// niceStep picks a grid step of 1, 2 or 5 times a power of ten giving about
// four lines up to peak.
func niceStep(peak int) int {
	if peak <= 4 {
		return 1
	}
	raw := float64(peak) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return int(m * mag)
		}
	}
	return int(10 * mag)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
