package pipeline

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinePlotDecodes(t *testing.T) {
	data, err := LinePlot([]Series{
		{Name: "a", X: []float64{1, 2, 3}, Y: []float64{0.7, 0.6, 0.5}},
		{Name: "b", X: []float64{1, 2, 3}, Y: []float64{0.1, math.NaN(), 0.3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != plotWidth || b.Dy() != plotHeight {
		t.Errorf("plot is %dx%d, want %dx%d", b.Dx(), b.Dy(), plotWidth, plotHeight)
	}

	// The first point of series a, the top-left of the plot area, has a
	// marker in the first palette colour.
	r, g, b, _ := img.At(marginLeft, marginTop).RGBA()
	want := Palette[0].Color
	if uint8(r>>8) != want.R || uint8(g>>8) != want.G || uint8(b>>8) != want.B {
		t.Errorf("pixel at the first point is %d,%d,%d, want %v", r>>8, g>>8, b>>8, want)
	}
}

func TestBoundsFlatSeries(t *testing.T) {
	xmin, xmax, ymin, ymax := Bounds([]Series{{X: []float64{2}, Y: []float64{5}}})
	if !(xmin < 2 && xmax > 2 && ymin < 5 && ymax > 5) {
		t.Errorf("Bounds of one point (2, 5) = x %v..%v, y %v..%v; want ranges around it", xmin, xmax, ymin, ymax)
	}
}

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	eval := func(v float64) *Manifest { return &Manifest{Counts: map[string]float64{"score": v}} }
	r := &Report{Name: "t", Model: "m", Iterations: []IterationReport{
		{Iteration: 0, Stages: map[string]*Manifest{"eval-mmlu": eval(0.25)}},
		{Iteration: 1, Stages: map[string]*Manifest{
			"sample":    {Counts: map[string]float64{"prompts": 4, "responses": 8}},
			"label":     {Counts: map[string]float64{"kept": 3, "dropped_margin": 1}},
			"train":     {Counts: map[string]float64{"steps": 2, "loss": 0.69}},
			"eval-mmlu": eval(0.5),
		}, Steps: []TrainStep{{Step: 1, Loss: 0.7, Margin: 0}, {Step: 2, Loss: 0.69, Margin: 0.1}}},
	}}
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Iteration 1", "| label | pairs kept | 3 |", "| label | dropped: margin | 1 |", "0.5000 (+0.2500)", "![loss per step](loss.png)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, name := range []string{LossPlot, MarginsPlot, ScoresPlot} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s is not a PNG: %v", name, err)
		}
	}
}
