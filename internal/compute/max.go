package compute

import "math"

// Max returns the largest element of x, or -Inf when x is empty or
// contains only NaN. NaN elements are skipped. When the largest value is
// zero, its sign may depend on the positions of +0 and -0 in x.
func Max(x []float32) float32 {
	m, done := maxBody(x)
	for _, v := range x[done:] {
		if v > m {
			m = v
		}
	}
	return m
}

// maxGo is the loop that Max runs where no assembly kernel exists.
func maxGo(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}
