package compute

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMaxMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	nan := float32(math.NaN())
	for n := 0; n <= 75; n++ {
		for _, withNaN := range []bool{false, true} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64()*10) - 5
				if withNaN && i%3 == 1 {
					x[i] = nan
				}
			}
			if got, want := Max(x), maxGo(x); math.Float32bits(got) != math.Float32bits(want) {
				t.Errorf("length %d, NaN %v: want %g, got %g", n, withNaN, want, got)
			}
		}
	}
}

func TestMaxSpecialSlices(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	tests := []struct {
		name string
		x    []float32
		want float32
	}{
		{"empty", nil, -inf},
		{"only NaN", []float32{nan, nan, nan, nan, nan, nan, nan, nan, nan}, -inf},
		{"only minus infinity", []float32{-inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf}, -inf},
		{"plus infinity in tail", []float32{1, 2, 3, 4, 5, 6, 7, 8, inf}, inf},
		{"plus infinity in body", []float32{1, 2, inf, 4, 5, 6, 7, 8, 9}, inf},
		{"largest last of 32", append(make([]float32, 31), 7), 7},
		{"negative values", []float32{-9, -3, -4, -8, -5, -6, -7, -10, -11}, -3},
	}
	for _, tt := range tests {
		if got := Max(tt.x); got != tt.want {
			t.Errorf("%s: want %g, got %g", tt.name, tt.want, got)
		}
	}
}
