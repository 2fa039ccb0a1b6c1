package compute

import (
	"math"
	"testing"
)

// expMaxULPs is the error bound of the exponential kernels, in units in the
// last place of the float32 result.
const expMaxULPs = 2

// expULPError returns the distance of got from e^t in float32 ulps at the
// magnitude of e^t; subnormal results use the subnormal spacing 2^-149.
func expULPError(t, got float32) float64 {
	want := math.Exp(float64(t))
	if math.IsInf(float64(got), 1) {
		// Overflow is right when e^t is within expMaxULPs of the largest
		// finite float32 or above it.
		if want >= math.MaxFloat32-expMaxULPs*0x1p104 {
			return 0
		}
		return math.Inf(1)
	}
	ulp := 0x1p-149
	if want >= 0x1p-126 {
		_, exp := math.Frexp(want)
		ulp = math.Ldexp(1, exp-24)
	}
	return math.Abs(float64(got)-want) / ulp
}

// expSweep returns every 409th float32 between -120 and 100, both signs of
// the exponent range, plus the clamp and overflow edges.
func expSweep() []float32 {
	var values []float32
	for bits := uint32(0); bits < 0x42c80000; bits += 409 { // 0 to 100
		values = append(values, math.Float32frombits(bits))
	}
	for bits := uint32(0x80000000); bits < 0xc2f00000; bits += 409 { // -0 to -120
		values = append(values, math.Float32frombits(bits))
	}
	edges := []float32{88.72283, 88.72284, 88.7228, 88.73, 89, -87.33655, -87.3366, -103.27893, -103.97208, -103.9721, -104, -104.1}
	for _, e := range edges {
		values = append(values, e, math.Nextafter32(e, 0), math.Nextafter32(e, float32(math.Inf(1))))
	}
	return values
}

func TestExpInPlaceAccuracySweep(t *testing.T) {
	values := expSweep()
	got := append([]float32(nil), values...)
	ExpInPlace(got, 0)

	worst, failures := 0.0, 0
	for i, x := range values {
		err := expULPError(x, got[i])
		worst = max(worst, err)
		if err > expMaxULPs {
			failures++
			if failures <= 5 {
				t.Errorf("ExpInPlace(%g): want %g (float64 %g), got %g, %.2f ulps", x, float32(math.Exp(float64(x))), math.Exp(float64(x)), got[i], err)
			}
		}
	}
	if failures > 0 {
		t.Errorf("ExpInPlace: %d of %d values beyond %d ulps", failures, len(values), expMaxULPs)
	}
	t.Logf("ExpInPlace: worst error %.3f ulps over %d values", worst, len(values))
}

func TestExpGoAccuracySweep(t *testing.T) {
	values := expSweep()
	worst := 0.0
	for _, x := range values {
		got := expGo(x)
		err := expULPError(x, got)
		worst = max(worst, err)
		if err > expMaxULPs {
			t.Fatalf("expGo(%g): want %g, got %g, %.2f ulps", x, math.Exp(float64(x)), got, err)
		}
	}
	t.Logf("expGo: worst error %.3f ulps over %d values", worst, len(values))
}

func TestExpSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		x    float32
		want float32
	}{
		{"zero", 0, 1},
		{"negative zero", float32(math.Copysign(0, -1)), 1},
		{"plus infinity", inf, inf},
		{"minus infinity", -inf, 0},
		{"overflow", 89, inf},
		{"largest float", math.MaxFloat32, inf},
		{"most negative float", -math.MaxFloat32, 0},
		{"below half the least subnormal", -104, 0},
		{"least subnormal", -103.2789, 0x1p-149},
		{"one", 1, float32(math.E)},
	}
	for _, tt := range tests {
		for _, n := range []int{1, 8, 16, 33} {
			x := make([]float32, n)
			for i := range x {
				x[i] = tt.x
			}
			ExpInPlace(x, 0)
			for i, got := range x {
				if got != tt.want {
					t.Errorf("%s, length %d, index %d: ExpInPlace(%g): want %g, got %g", tt.name, n, i, tt.x, tt.want, got)
				}
			}
			if got := expGo(tt.x); got != tt.want {
				t.Errorf("%s: expGo(%g): want %g, got %g", tt.name, tt.x, tt.want, got)
			}
		}
	}
}

func TestExpNaNStaysNaN(t *testing.T) {
	for _, n := range []int{1, 8, 16, 33} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(math.NaN())
		}
		ExpInPlace(x, 0)
		for i, got := range x {
			if got == got {
				t.Errorf("length %d, index %d: ExpInPlace(NaN): want NaN, got %g", n, i, got)
			}
		}
	}
	x := []float32{1, 2, 3}
	ExpInPlace(x, float32(math.NaN()))
	for i, got := range x {
		if got == got {
			t.Errorf("index %d: ExpInPlace with NaN shift: want NaN, got %g", i, got)
		}
	}
}

// TestExpIndependentOfPosition checks that a value gets the same bits at
// every index of slices of every length, the tail included.
func TestExpIndependentOfPosition(t *testing.T) {
	values := []float32{-0.3, 1.7, -55.5, 12.25, -100.1, 0, -7.125, 3.5e-3, 60, -88}
	for _, shift := range []float32{0, 2.5} {
		want := make([]float32, len(values))
		for i, v := range values {
			one := []float32{v}
			ExpInPlace(one, shift)
			want[i] = one[0]
		}
		for n := 1; n <= 40; n++ {
			for offset := range values {
				x := make([]float32, n)
				for i := range x {
					x[i] = values[(i+offset)%len(values)]
				}
				ExpInPlace(x, shift)
				for i, got := range x {
					w := want[(i+offset)%len(values)]
					if math.Float32bits(got) != math.Float32bits(w) {
						t.Fatalf("shift %g, length %d, index %d: exp(%g): want %g (alone), got %g", shift, n, i, values[(i+offset)%len(values)], w, got)
					}
				}
			}
		}
	}
}

func TestExpInPlaceShift(t *testing.T) {
	x := make([]float32, 37)
	for i := range x {
		x[i] = float32(i)*0.75 - 9
	}
	const shift = 3.3
	got := append([]float32(nil), x...)
	ExpInPlace(got, shift)
	for i, v := range x {
		arg := v - shift
		if err := expULPError(arg, got[i]); err > expMaxULPs {
			t.Errorf("ExpInPlace(%g, shift %g): want %g, got %g, %.2f ulps", v, float32(shift), math.Exp(float64(arg)), got[i], err)
		}
	}
}

func TestExpNegMatchesExpInPlace(t *testing.T) {
	src := make([]float32, 45)
	for i := range src {
		src[i] = float32(i)*1.3 - 30
	}
	dst := make([]float32, len(src))
	ExpNeg(dst, src)
	for i, v := range src {
		want := []float32{-v}
		ExpInPlace(want, 0)
		if math.Float32bits(dst[i]) != math.Float32bits(want[0]) {
			t.Errorf("ExpNeg(%g): want %g, got %g", v, want[0], dst[i])
		}
	}
}

func TestExpNegPanicsOnShortDestination(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("ExpNeg with a short destination: want a panic, got none")
		}
	}()
	ExpNeg(make([]float32, 2), make([]float32, 3))
}
