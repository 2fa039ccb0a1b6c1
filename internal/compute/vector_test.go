package compute

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vectorLengths covers the SIMD widths (8, 32), their tails and the
// parallel split (minParallelElements).
var vectorLengths = []int{0, 1, 7, 8, 9, 31, 32, 33, 100, 1000, minParallelElements + 13}

func randomVector(n int, rng *rand.Rand) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*rng.Float32() - 1
	}
	return v
}

func TestDotWithinRoundingBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range vectorLengths {
		x, y := randomVector(n, rng), randomVector(n, rng)
		var exact, absSum float64
		for i := range x {
			exact += float64(x[i]) * float64(y[i])
			absSum += math.Abs(float64(x[i]) * float64(y[i]))
		}

		got := Dot(x, y)
		bound := float64(n+1) * epsilon32 * absSum
		if diff := math.Abs(float64(got) - exact); diff > bound {
			t.Errorf("Dot n=%d: want %g (float64), got %g, |diff| %g exceeds %g", n, exact, got, diff, bound)
		}
	}
}

func TestDotDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, y := randomVector(1027, rng), randomVector(1027, rng)
	want := Dot(x, y)
	copyX, copyY := append([]float32(nil), x...), append([]float32(nil), y...)
	if got := Dot(copyX, copyY); math.Float32bits(got) != math.Float32bits(want) {
		t.Errorf("Dot on copies: want %g, got %g", want, got)
	}
}

func TestAxpyMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const alpha = float32(-0.37)
	for _, n := range vectorLengths {
		x, y := randomVector(n, rng), randomVector(n, rng)
		got := append([]float32(nil), y...)
		Axpy(alpha, x, got)
		for i := range y {
			want := float64(y[i]) + float64(alpha)*float64(x[i])
			bound := 2 * epsilon32 * (math.Abs(float64(y[i])) + math.Abs(float64(alpha*x[i])))
			if diff := math.Abs(float64(got[i]) - want); diff > bound {
				t.Fatalf("Axpy n=%d element %d: want %g, got %g", n, i, want, got[i])
			}
		}
	}
}

func TestScaleMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const alpha = float32(1.7)
	for _, n := range vectorLengths {
		x := randomVector(n, rng)
		got := append([]float32(nil), x...)
		Scale(alpha, got)
		for i := range x {
			if want := alpha * x[i]; got[i] != want {
				t.Fatalf("Scale n=%d element %d: want %g, got %g", n, i, want, got[i])
			}
		}
	}
}

// allHalfValues returns every 16-bit pattern, repeated past the parallel
// split so the chunked path runs too.
func allHalfValues() []uint16 {
	src := make([]uint16, minParallelElements+9)
	for i := range src {
		src[i] = uint16(i)
	}
	return src
}

func TestBF16ToFloat32AllValues(t *testing.T) {
	src := allHalfValues()
	dst := make([]float32, len(src))
	BF16ToFloat32(dst, src)
	for i, h := range src {
		if want := uint32(h) << 16; math.Float32bits(dst[i]) != want {
			t.Fatalf("BF16ToFloat32(%#04x): want bits %#08x, got %#08x", h, want, math.Float32bits(dst[i]))
		}
	}
}

// halfReference decodes a half-precision value with float64 arithmetic.
func halfReference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exponent := int(h>>10) & 0x1f
	mantissa := float64(h & 0x3ff)
	switch exponent {
	case 0x1f:
		if mantissa == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	case 0:
		return sign * mantissa * math.Pow(2, -24)
	}
	return sign * (1 + mantissa/1024) * math.Pow(2, float64(exponent-15))
}

func TestF16ToFloat32AllValues(t *testing.T) {
	src := allHalfValues()
	dst := make([]float32, len(src))
	F16ToFloat32(dst, src)
	for i, h := range src {
		want := halfReference(h)
		got := float64(dst[i])
		if math.IsNaN(want) {
			if !math.IsNaN(got) || math.Signbit(got) != (h&0x8000 != 0) {
				t.Fatalf("F16ToFloat32(%#04x): want NaN with sign %v, got %g", h, h&0x8000 != 0, got)
			}
			continue
		}
		if got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("F16ToFloat32(%#04x): want %g, got %g", h, want, got)
		}
	}
}

func TestF16GoFallbackMatchesSIMD(t *testing.T) {
	src := allHalfValues()[:1<<16]
	dst := make([]float32, len(src))
	F16ToFloat32(dst, src)
	for i, h := range src {
		if got, want := math.Float32bits(f16ToFloat32(h)), math.Float32bits(dst[i]); got != want {
			t.Fatalf("f16ToFloat32(%#04x): want bits %#08x (F16ToFloat32), got %#08x", h, want, got)
		}
	}
}

func TestDot2MatchesDotBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 19))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 100, 577} {
		x0, x1, w := randomVector(n, rng), randomVector(n, rng), randomVector(n, rng)
		got0, got1 := dot2(x0, x1, w)
		if want := Dot(x0, w); math.Float32bits(got0) != math.Float32bits(want) {
			t.Errorf("dot2 n=%d first row: want %g (Dot), got %g", n, want, got0)
		}
		if want := Dot(x1, w); math.Float32bits(got1) != math.Float32bits(want) {
			t.Errorf("dot2 n=%d second row: want %g (Dot), got %g", n, want, got1)
		}
	}
}
