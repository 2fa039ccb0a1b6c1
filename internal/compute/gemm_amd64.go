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

// platformBackends returns the assembly backends this CPU can run, fastest
// first.
func platformBackends() []Backend {
	var backends []Backend
	if hasAVX512 {
		backends = append(backends, newBlocked("avx512", 12, 32, kernelAVX512))
	}
	if hasAVX2 {
		backends = append(backends, newBlocked("avx2", 6, 16, kernelAVX2))
	}
	return backends
}
