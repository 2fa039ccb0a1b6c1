package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// tileKernel is a micro-kernel with its tile size.
type tileKernel struct {
	name   string
	mr, nr int
	run    microKernel
}

func tileKernels() []tileKernel {
	kernels := []tileKernel{{"go", genericMR, genericNR, kernelGeneric}}
	if hasAVX2 {
		kernels = append(kernels, tileKernel{"avx2", 6, 16, kernelAVX2})
	}
	if hasAVX512 {
		kernels = append(kernels, tileKernel{"avx512", 12, 32, kernelAVX512})
	}
	return kernels
}

// TestMicroKernelsOnTile runs each micro-kernel on one packed tile and
// compares it with a float64 reference. C has a stride wider than the tile
// and NaN in the gap, which the kernel must neither read nor write.
func TestMicroKernelsOnTile(t *testing.T) {
	for _, kern := range tileKernels() {
		for _, kc := range []int{1, 2, 3, 7, 16, 255, 256} {
			for _, beta := range []float32{0, 1, -0.5} {
				name := fmt.Sprintf("%s kc=%d beta=%g", kern.name, kc, beta)
				rng := rand.New(rand.NewPCG(uint64(kc), 15))
				a := randomVector(kc*kern.mr, rng)
				b := randomVector(kc*kern.nr, rng)
				ldc := kern.nr + 3
				c := make([]float32, kern.mr*ldc)
				for i := range c {
					if i%ldc >= kern.nr || beta == 0 {
						c[i] = float32(math.NaN())
					} else {
						c[i] = 2*rng.Float32() - 1
					}
				}
				old := append([]float32(nil), c...)
				const alpha = float32(1.25)

				kern.run(kc, a, b, c, ldc, alpha, beta)

				for i := 0; i < kern.mr; i++ {
					for j := 0; j < ldc; j++ {
						got := c[i*ldc+j]
						if j >= kern.nr {
							if !math.IsNaN(float64(got)) {
								t.Fatalf("%s: C[%d][%d] outside the tile was written: want NaN, got %g", name, i, j, got)
							}
							continue
						}
						var want, absSum float64
						for p := 0; p < kc; p++ {
							product := float64(a[p*kern.mr+i]) * float64(b[p*kern.nr+j])
							want += product
							absSum += math.Abs(product)
						}
						want *= float64(alpha)
						absSum *= float64(alpha)
						if beta != 0 {
							want += float64(beta) * float64(old[i*ldc+j])
							absSum += math.Abs(float64(beta) * float64(old[i*ldc+j]))
						}
						bound := float64(kc+2) * epsilon32 * absSum
						if diff := math.Abs(float64(got) - want); !(diff <= bound) {
							t.Fatalf("%s: C[%d][%d]: want %g, got %g, |diff| %g exceeds %g", name, i, j, want, got, diff, bound)
						}
					}
				}
			}
		}
	}
}

// TestGoFallbacks reruns the vector, conversion and product tests with the
// AVX2 and F16C code turned off, so the Go loops that CPUs without them
// run (vector helpers, conversions, panel packing) are tested here too.
func TestGoFallbacks(t *testing.T) {
	Backends() // build the list while the CPU features are still on
	savedAVX2, savedF16C := hasAVX2, hasF16C
	hasAVX2, hasF16C = false, false
	defer func() { hasAVX2, hasF16C = savedAVX2, savedF16C }()

	t.Run("Dot", TestDotWithinRoundingBound)
	t.Run("Axpy", TestAxpyMatchesLoop)
	t.Run("Scale", TestScaleMatchesLoop)
	t.Run("BF16", TestBF16ToFloat32AllValues)
	t.Run("F16", TestF16ToFloat32AllValues)
	t.Run("Gemm", TestGemmBackendsMatchPortable)
	t.Run("Rows", TestGemmRowIndependentOfM)
}

// TestTransposeIntoEdges checks the packing transpose on row counts that
// are and are not multiples of the 8×8 SIMD block, with strides wider than
// the data. Entries of dst that the transpose must not touch stay NaN.
func TestTransposeIntoEdges(t *testing.T) {
	for _, rows := range []int{1, 7, 8, 12, 13, 16, 32} {
		for _, kb := range []int{1, 7, 8, 9, 17, 256} {
			lds, ldd := kb+3, rows+2
			src := make([]float32, rows*lds)
			for i := range src {
				src[i] = float32(i)
			}
			dst := make([]float32, kb*ldd)
			for i := range dst {
				dst[i] = float32(math.NaN())
			}

			transposeInto(src, lds, rows, kb, dst, ldd)

			for p := 0; p < kb; p++ {
				for i := 0; i < ldd; i++ {
					got := dst[p*ldd+i]
					if i >= rows {
						if !math.IsNaN(float64(got)) {
							t.Fatalf("rows=%d kb=%d: dst[%d][%d] past the rows was written: want NaN, got %g", rows, kb, p, i, got)
						}
						continue
					}
					if want := src[i*lds+p]; got != want {
						t.Fatalf("rows=%d kb=%d: dst[%d][%d]: want %g, got %g", rows, kb, p, i, want, got)
					}
				}
			}
		}
	}
}
