//go:build !amd64

package compute

// transpose8 has no SIMD version here, so it transposes nothing.
func transpose8(src []float32, lds, rows, kb int, dst []float32, ldd int) int { return 0 }
