package compute

import "golang.org/x/sys/cpu"

// gemmAVX512 is the 12×32 AVX-512 micro-kernel; see microKernel.
//
//go:noescape
func gemmAVX512(kc int, a *float32, b *float32, c *float32, ldc int, alpha float32, beta float32)

// gemmAVX2 is the 6×16 AVX2+FMA micro-kernel; see microKernel.
//
//go:noescape
func gemmAVX2(kc int, a *float32, b *float32, c *float32, ldc int, alpha float32, beta float32)

// gemvAVX512 computes the eight dot products of gemvKernel, each in 16
// lanes (lane l sums the elements p ≡ l mod 16 in increasing p) that are
// then added pairwise: 16 → 8 → 4 → 2 → 1.
//
//go:noescape
func gemvAVX512(k int, x0, x1, x2, x3, w0, w1 *float32, out *[8]float32)

var (
	hasAVX512 = cpu.X86.HasAVX512F
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// kernelAVX512 adapts gemmAVX512 to microKernel. The slices must hold a
// full tile: kc·12 and kc·32 packed values and 12 rows of C.
func kernelAVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[kc*12-1]
	_ = b[kc*32-1]
	_ = c[11*ldc+31]
	gemmAVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// kernelAVX2 adapts gemmAVX2 to microKernel.
func kernelAVX2(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[kc*6-1]
	_ = b[kc*16-1]
	_ = c[5*ldc+15]
	gemmAVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// gemvKernelAVX512 adapts gemvAVX512 to gemvKernel.
func gemvKernelAVX512(k, rows int, x0, x1, x2, x3, w0, w1 []float32, out *[8]float32) {
	_, _, _, _, _, _ = x0[k-1], x1[k-1], x2[k-1], x3[k-1], w0[k-1], w1[k-1]
	gemvAVX512(k, &x0[0], &x1[0], &x2[0], &x3[0], &w0[0], &w1[0], out)
}

// platformBackends returns the assembly backends this CPU can run, fastest
// first.
func platformBackends() []Backend {
	var backends []Backend
	if hasAVX512 {
		backends = append(backends, newBlocked("avx512", 12, 32, kernelAVX512, gemvKernelAVX512))
	}
	if hasAVX2 {
		backends = append(backends, newBlocked("avx2", 6, 16, kernelAVX2, gemvDot))
	}
	return backends
}
