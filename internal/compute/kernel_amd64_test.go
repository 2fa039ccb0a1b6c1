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

// TestGemvKernelTails runs the AVX-512 gemv kernel on lengths around its
// 16-lane width. Every vector is followed by NaN, so a read past k shows.
func TestGemvKernelTails(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the CPU has no AVX-512")
	}
	rng := rand.New(rand.NewPCG(16, 17))
	withGuard := func(k int) []float32 {
		v := randomVector(k+16, rng)
		for i := k; i < len(v); i++ {
			v[i] = float32(math.NaN())
		}
		return v[:k]
	}
	for _, k := range []int{1, 2, 15, 16, 17, 31, 32, 33, 47, 255, 256, 257} {
		x := [4][]float32{withGuard(k), withGuard(k), withGuard(k), withGuard(k)}
		w := [2][]float32{withGuard(k), withGuard(k)}
		var out [8]float32
		gemvKernelAVX512(k, 4, x[0], x[1], x[2], x[3], w[0], w[1], &out)

		for col := range w {
			for r := range x {
				var want, absSum float64
				for p := 0; p < k; p++ {
					product := float64(x[r][p]) * float64(w[col][p])
					want += product
					absSum += math.Abs(product)
				}
				got := float64(out[4*col+r])
				bound := float64(k+1) * epsilon32 * absSum
				if diff := math.Abs(got - want); !(diff <= bound) {
					t.Fatalf("gemv k=%d x%d·w%d: want %g, got %g, |diff| %g exceeds %g", k, r, col, want, got, diff, bound)
				}
			}
		}
	}
}
