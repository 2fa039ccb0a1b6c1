package compute

import "math"

//go:noescape
func maxAVX2(x *float32, n int) float32

// maxBody returns the largest of the first len(x)&^7 elements and that
// count, or -Inf and 0 without AVX2.
func maxBody(x []float32) (float32, int) {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		return float32(math.Inf(-1)), 0
	}
	return maxAVX2(&x[0], n), n
}
