package pipeline

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
)

// Series is one line of a plot.
type Series struct {
	Name string
	X, Y []float64
}

// Palette is the line colours of a plot, in series order; the report's
// legend names them.
var Palette = []struct {
	Name  string
	Color color.RGBA
}{
	{"blue", color.RGBA{31, 119, 180, 255}},
	{"orange", color.RGBA{255, 127, 14, 255}},
	{"green", color.RGBA{44, 160, 44, 255}},
	{"red", color.RGBA{214, 39, 40, 255}},
	{"purple", color.RGBA{148, 103, 189, 255}},
	{"brown", color.RGBA{140, 86, 75, 255}},
}

// Plot sizes in pixels.
const (
	plotWidth  = 640
	plotHeight = 360
	marginLeft = 84
	marginLow  = 30
	marginTop  = 12
	marginEnd  = 16
	glyphScale = 2
)

// LinePlot draws the series as lines with markers on white, with axes,
// five ticks on each and the values of the first and last tick written in
// a small pixel font, and returns it PNG-encoded. Points with a NaN or
// infinite coordinate are left out; Bounds returns the ranges shown.
func LinePlot(series []Series) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, plotWidth, plotHeight))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})

	xmin, xmax, ymin, ymax := Bounds(series)
	x0, x1 := marginLeft, plotWidth-marginEnd
	y0, y1 := plotHeight-marginLow, marginTop
	px := func(x float64) int { return x0 + int(math.Round((x-xmin)/(xmax-xmin)*float64(x1-x0))) }
	py := func(y float64) int { return y0 - int(math.Round((y-ymin)/(ymax-ymin)*float64(y0-y1))) }

	axis := color.RGBA{0, 0, 0, 255}
	grid := color.RGBA{225, 225, 225, 255}
	for i := 0; i <= 4; i++ {
		gx := x0 + i*(x1-x0)/4
		gy := y0 - i*(y0-y1)/4
		line(img, gx, y0, gx, y1, grid)
		line(img, x0, gy, x1, gy, grid)
		line(img, gx, y0, gx, y0+4, axis)
		line(img, x0-4, gy, x0, gy, axis)
	}
	line(img, x0, y0, x1, y0, axis)
	line(img, x0, y0, x0, y1, axis)
	text(img, x0-6-textWidth(label(ymin)), y0-5, label(ymin), axis)
	text(img, x0-6-textWidth(label(ymax)), y1, label(ymax), axis)
	text(img, x0, y0+8, label(xmin), axis)
	text(img, x1-textWidth(label(xmax)), y0+8, label(xmax), axis)

	for i, s := range series {
		c := Palette[i%len(Palette)].Color
		havePrev := false
		var prevX, prevY int
		for j := range s.X {
			if j >= len(s.Y) || !finite(s.X[j]) || !finite(s.Y[j]) {
				havePrev = false
				continue
			}
			cx, cy := px(s.X[j]), py(s.Y[j])
			if havePrev {
				thickLine(img, prevX, prevY, cx, cy, c)
			}
			fill(img, image.Rect(cx-2, cy-2, cx+3, cy+3), c)
			prevX, prevY, havePrev = cx, cy, true
		}
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode plot: %w", err)
	}
	return buf.Bytes(), nil
}

// Bounds returns the ranges of the finite points of the series, widened
// where a range is empty so that a flat line sits in the middle.
func Bounds(series []Series) (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, s := range series {
		for j := range s.X {
			if j >= len(s.Y) || !finite(s.X[j]) || !finite(s.Y[j]) {
				continue
			}
			xmin, xmax = math.Min(xmin, s.X[j]), math.Max(xmax, s.X[j])
			ymin, ymax = math.Min(ymin, s.Y[j]), math.Max(ymax, s.Y[j])
		}
	}
	if math.IsInf(xmin, 1) {
		return 0, 1, 0, 1
	}
	widen := func(lo, hi float64) (float64, float64) {
		if hi > lo {
			return lo, hi
		}
		d := math.Max(math.Abs(lo)*0.05, 0.5)
		return lo - d, hi + d
	}
	xmin, xmax = widen(xmin, xmax)
	ymin, ymax = widen(ymin, ymax)
	return xmin, xmax, ymin, ymax
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// label formats an axis value in at most about 8 characters.
func label(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// line draws a one-pixel line with Bresenham's algorithm.
func line(img *image.RGBA, xa, ya, xb, yb int, c color.RGBA) {
	dx, dy := abs(xb-xa), -abs(yb-ya)
	sx, sy := sign(xb-xa), sign(yb-ya)
	e := dx + dy
	for {
		if (image.Point{xa, ya}).In(img.Bounds()) {
			img.SetRGBA(xa, ya, c)
		}
		if xa == xb && ya == yb {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			xa += sx
		}
		if e2 <= dx {
			e += dx
			ya += sy
		}
	}
}

// thickLine draws a line two pixels wide.
func thickLine(img *image.RGBA, xa, ya, xb, yb int, c color.RGBA) {
	line(img, xa, ya, xb, yb, c)
	line(img, xa, ya+1, xb, yb+1, c)
	line(img, xa+1, ya, xb+1, yb, c)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// glyphs is a 3x5 pixel font for the characters of axis values; each row
// is three bits, the high bit on the left.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 1, 1},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, '.': {0, 0, 0, 0, 2}, '-': {0, 0, 7, 0, 0},
	'+': {0, 2, 7, 2, 0}, 'e': {0, 7, 7, 4, 7},
}

func textWidth(s string) int { return len(s) * 4 * glyphScale }

// text writes s with its top-left corner at (x, y); characters without a
// glyph are left blank.
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range s {
		g := glyphs[r]
		for row := range 5 {
			for col := range 3 {
				if g[row]>>(2-col)&1 == 1 {
					fill(img, image.Rect(x+col*glyphScale, y+row*glyphScale, x+(col+1)*glyphScale, y+(row+1)*glyphScale), c)
				}
			}
		}
		x += 4 * glyphScale
	}
}
