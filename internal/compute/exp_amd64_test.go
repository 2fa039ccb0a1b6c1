package compute

import (
	"math"
	"testing"
)

// TestExpAVX2MatchesAVX512 checks that the two assembly kernels give the
// same bits, so a result does not depend on which of them the CPU runs.
func TestExpAVX2MatchesAVX512(t *testing.T) {
	if !hasAVX512 || !hasAVX2 {
		t.Skip("this CPU lacks AVX-512 or AVX2")
	}
	values := expSweep()
	n := len(values) &^ 15
	want := make([]float32, n)
	got := make([]float32, n)
	expAVX512(&want[0], &values[0], n, 1, -0.5)
	expAVX2(&got[0], &values[0], n, 1, -0.5)
	for i := range n {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("exp(%g - 0.5): want %g (AVX-512), got %g (AVX2)", values[i], want[i], got[i])
		}
	}
}

// TestExpWithoutAVX512 reruns the exponential tests on the AVX2 kernel and
// then on the Go loop.
func TestExpWithoutAVX512(t *testing.T) {
	saved512, saved2 := hasAVX512, hasAVX2
	defer func() { hasAVX512, hasAVX2 = saved512, saved2 }()

	hasAVX512 = false
	t.Run("AVX2", runExpTests)
	hasAVX2 = false
	t.Run("Go", runExpTests)
}

func runExpTests(t *testing.T) {
	t.Run("Sweep", TestExpInPlaceAccuracySweep)
	t.Run("Special", TestExpSpecialValues)
	t.Run("NaN", TestExpNaNStaysNaN)
	t.Run("Position", TestExpIndependentOfPosition)
	t.Run("Shift", TestExpInPlaceShift)
	t.Run("Neg", TestExpNegMatchesExpInPlace)
	t.Run("Max", TestMaxMatchesLoop)
	t.Run("MaxSpecial", TestMaxSpecialSlices)
}
