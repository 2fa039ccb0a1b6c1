package compute

import (
	"fmt"
	"math"
)

// minParallelElements is the vector length from which Axpy, Scale and the
// conversions split their work over Threads() goroutines. Below it, the
// cost of starting goroutines outweighs the memory bandwidth gained.
const minParallelElements = 1 << 18

// chunkElements is the number of elements each parallel work unit handles.
const chunkElements = 1 << 15

// Dot returns the dot product Σ x[i]·y[i] of two vectors of equal length.
// It panics when the lengths differ. On one machine the result depends only
// on x and y, because the length fixes the order of the sums.
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("compute: Dot lengths differ: len(x)=%d, len(y)=%d", len(x), len(y)))
	}
	sum, done := dotBody(x, y)
	for i := done; i < len(x); i++ {
		// The conversion rounds the product, which keeps the compiler from
		// fusing it into an FMA here and not in dot2, which must match.
		sum += float32(x[i] * y[i])
	}
	return sum
}

// Axpy computes y += alpha·x for vectors of equal length, in parallel for
// long vectors. It panics when the lengths differ.
func Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("compute: Axpy lengths differ: len(x)=%d, len(y)=%d", len(x), len(y)))
	}
	splitElements(len(x), func(lo, hi int) {
		xs, ys := x[lo:hi], y[lo:hi]
		for i := axpyBody(alpha, xs, ys); i < len(xs); i++ {
			ys[i] += alpha * xs[i]
		}
	})
}

// Scale computes x *= alpha, in parallel for long vectors.
func Scale(alpha float32, x []float32) {
	splitElements(len(x), func(lo, hi int) {
		xs := x[lo:hi]
		for i := scaleBody(alpha, xs); i < len(xs); i++ {
			xs[i] *= alpha
		}
	})
}

// BF16ToFloat32 converts the bfloat16 values in src (raw bits, as stored in
// safetensors files) to float32 in dst[:len(src)]. The conversion is exact.
// It panics when dst is shorter than src.
func BF16ToFloat32(dst []float32, src []uint16) {
	checkConvert("BF16ToFloat32", dst, src)
	splitElements(len(src), func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		for i := bf16Body(d, s); i < len(s); i++ {
			d[i] = math.Float32frombits(uint32(s[i]) << 16)
		}
	})
}

// F16ToFloat32 converts the IEEE 754 half-precision values in src (raw bits)
// to float32 in dst[:len(src)]. The conversion is exact, and a NaN becomes a
// quiet NaN with the same sign and payload. It panics when dst is shorter
// than src.
func F16ToFloat32(dst []float32, src []uint16) {
	checkConvert("F16ToFloat32", dst, src)
	splitElements(len(src), func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		for i := f16Body(d, s); i < len(s); i++ {
			d[i] = f16ToFloat32(s[i])
		}
	})
}

// f16ToFloat32 converts one half-precision value.
func f16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exponent := uint32(h>>10) & 0x1f
	mantissa := uint32(h) & 0x3ff

	switch {
	case exponent == 0x1f && mantissa == 0:
		return math.Float32frombits(sign | 0x7f800000)
	case exponent == 0x1f:
		return math.Float32frombits(sign | 0x7fc00000 | mantissa<<13)
	case exponent == 0:
		// Zero or subnormal: mantissa·2⁻²⁴, exact in float32.
		value := float32(mantissa) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(value))
	}
	return math.Float32frombits(sign | (exponent+127-15)<<23 | mantissa<<13)
}

func checkConvert(name string, dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("compute: %s destination has room for %d values but the source has %d; pass a destination at least as long as the source", name, len(dst), len(src)))
	}
}

// splitElements calls fn on [0, n), split into chunks over Threads()
// goroutines when n is at least minParallelElements.
func splitElements(n int, fn func(lo, hi int)) {
	if n < minParallelElements || Threads() == 1 {
		fn(0, n)
		return
	}
	chunks := (n + chunkElements - 1) / chunkElements
	Parallel(chunks, func(lo, hi int) {
		fn(lo*chunkElements, min(hi*chunkElements, n))
	})
}
