package compute

//go:noescape
func expAVX2(dst *float32, src *float32, n int, scale float32, negShift float32)

//go:noescape
func expAVX512(dst *float32, src *float32, n int, scale float32, negShift float32)

// expSIMD reports whether expBody runs an assembly kernel.
func expSIMD() bool { return hasAVX512 || hasAVX2 }

// expBody sets dst[i] = e^(scale·src[i] + negShift) for the longest prefix
// that fills whole vectors and returns its length.
func expBody(dst, src []float32, scale, negShift float32) int {
	switch {
	case hasAVX512:
		n := len(src) &^ 15
		if n == 0 {
			return 0
		}
		_ = dst[n-1]
		expAVX512(&dst[0], &src[0], n, scale, negShift)
		return n
	case hasAVX2:
		n := len(src) &^ 7
		if n == 0 {
			return 0
		}
		_ = dst[n-1]
		expAVX2(&dst[0], &src[0], n, scale, negShift)
		return n
	}
	return 0
}
