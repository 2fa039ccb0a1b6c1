package compute

import (
	"fmt"
	"math"
)

// expTailLanes is the widest SIMD vector in float32 lanes. A tail shorter
// than a vector is padded to this length and run through the same kernel,
// so every element gets the same bits wherever it sits in the slice.
const expTailLanes = 16

// ExpInPlace replaces each x[i] by e^(x[i]-shift), where x[i]-shift is
// rounded to float32 first. Results are within 2 ulps of the exact value
// over the whole float32 range, subnormal results included (the tests
// check a dense sweep). Arguments above about 88.7228 give +Inf, arguments
// below about -103.972 give 0, and NaN stays NaN. The result for an element
// depends only on its value and shift, never on its index or on len(x).
func ExpInPlace(x []float32, shift float32) {
	expInto(x, x, 1, shift)
}

// ExpNeg sets dst[i] = e^(-src[i]) with the accuracy of ExpInPlace. It
// panics when dst is shorter than src.
func ExpNeg(dst, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("compute: ExpNeg destination has room for %d values but the source has %d; pass a destination at least as long as the source", len(dst), len(src)))
	}
	expInto(dst, src, -1, 0)
}

// expInto sets dst[i] = e^(scale·src[i] - shift) for scale ±1.
func expInto(dst, src []float32, scale, shift float32) {
	done := expBody(dst, src, scale, -shift)
	rest := len(src) - done
	if rest == 0 {
		return
	}
	if expSIMD() {
		var buf [expTailLanes]float32
		copy(buf[:], src[done:])
		expBody(buf[:], buf[:], scale, -shift)
		copy(dst[done:], buf[:rest])
		return
	}
	for i := done; i < len(src); i++ {
		dst[i] = expGo(scale*src[i] - shift)
	}
}

// expGo is the scalar form of the assembly kernels, used where they do not
// run. It follows the same steps, but rounds each product and sum of the
// FMAs separately, so its last bit may differ from theirs.
func expGo(t float32) float32 {
	if t != t {
		return t
	}
	c := min(max(t, -104), 89)

	const (
		log2e  = 1.44269504088896341
		ln2Hi  = 0.693359375
		ln2Lo  = -2.12194440e-4
		expInt = 127
	)
	n := float32(math.RoundToEven(float64(c * log2e)))
	r := c - n*ln2Hi
	r -= n * ln2Lo

	p := float32(1.0 / 5040)
	p = p*r + 1.0/720
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1

	// 2^n as two normal factors, so a subnormal result rounds only once.
	ni := int32(n)
	n1 := ni >> 1
	n2 := ni - n1
	s1 := math.Float32frombits(uint32(n1+expInt) << 23)
	s2 := math.Float32frombits(uint32(n2+expInt) << 23)
	return p * s1 * s2
}
