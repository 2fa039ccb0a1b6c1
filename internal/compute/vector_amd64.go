package compute

import "golang.org/x/sys/cpu"

//go:noescape
func dotAVX2(x *float32, y *float32, n int) float32

//go:noescape
func dot2AVX2(x0 *float32, x1 *float32, w *float32, n int, out *[2]float32)

//go:noescape
func axpyAVX2(alpha float32, x *float32, y *float32, n int)

//go:noescape
func scaleAVX2(alpha float32, x *float32, n int)

//go:noescape
func bf16AVX2(dst *float32, src *uint16, n int)

//go:noescape
func f16F16C(dst *float32, src *uint16, n int)

var hasF16C = cpu.X86.HasAVX && cpu.X86.HasF16C

// dotBody returns the dot product of the first n&^7 elements and that
// count, leaving the tail to the caller.
func dotBody(x, y []float32) (float32, int) {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		return 0, 0
	}
	return dotAVX2(&x[0], &y[0], n), n
}

// dot2Body returns the dot products of x0 and x1 with w over the first
// len(w)&^7 elements, summed exactly as dotBody sums them, and that count.
func dot2Body(x0, x1, w []float32) (sum0, sum1 float32, done int) {
	n := len(w) &^ 7
	if !hasAVX2 || n == 0 {
		return 0, 0, 0
	}
	_, _ = x0[n-1], x1[n-1]
	var out [2]float32
	dot2AVX2(&x0[0], &x1[0], &w[0], n, &out)
	return out[0], out[1], n
}

func axpyBody(alpha float32, x, y []float32) int {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	axpyAVX2(alpha, &x[0], &y[0], n)
	return n
}

func scaleBody(alpha float32, x []float32) int {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	scaleAVX2(alpha, &x[0], n)
	return n
}

func bf16Body(dst []float32, src []uint16) int {
	n := len(src) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	bf16AVX2(&dst[0], &src[0], n)
	return n
}

func f16Body(dst []float32, src []uint16) int {
	n := len(src) &^ 7
	if !hasF16C || n == 0 {
		return 0
	}
	f16F16C(&dst[0], &src[0], n)
	return n
}
