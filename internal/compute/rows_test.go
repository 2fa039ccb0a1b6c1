package compute

import (
	"math"
	"math/rand/v2"
	"testing"
)

// productRows computes A·op(B) for the first m rows of a, which holds rows
// of length k, and returns the m×n result.
func productRows(backend Backend, transB bool, m, n, k int, a, b []float32) []float32 {
	ldb := n
	if transB {
		ldb = k
	}
	c := make([]float32, m*n)
	backend.Gemm(false, transB, m, n, k, 1, a, k, b, ldb, 0, c, n)
	return c
}

// placeRow returns an m×k matrix of random rows with row at position pos.
func placeRow(row []float32, m, pos int, rng *rand.Rand) []float32 {
	k := len(row)
	a := randomVector(m*k, rng)
	copy(a[pos*k:], row)
	return a
}

// TestGemmRowIndependentOfM checks that a row of C is bit for bit the same
// whatever m, the position of the row, the other rows of A and the thread
// count are. This holds within each path (packed, gemv). Between the gemv
// path and the packed path, the row must agree within the bound documented
// on GemvMaxRows.
func TestGemmRowIndependentOfM(t *testing.T) {
	const n, k = 100, 600 // k spans three k blocks
	for _, backend := range Backends() {
		for _, transB := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(13, 14))
			row := randomVector(k, rng)
			b := randomVector(n*k, rng)

			type variant struct{ m, pos, threads int }
			variants := []variant{
				{1, 0, 1}, {2, 1, 1}, {GemvMaxRows, GemvMaxRows - 1, 2},
				{GemvMaxRows + 1, 0, 1}, {13, 7, 1}, {13, 12, 2}, {64, 40, 1}, {64, 63, 2}, {200, 150, 3},
			}
			var refGemv, refPacked []float32
			for _, v := range variants {
				prev := SetThreads(v.threads)
				c := productRows(backend, transB, v.m, n, k, placeRow(row, v.m, v.pos, rng), b)
				SetThreads(prev)
				got := c[v.pos*n : (v.pos+1)*n]

				_, blocked := backend.(*Blocked)
				gemvPath := blocked && transB && v.m <= GemvMaxRows
				ref := &refPacked
				if gemvPath {
					ref = &refGemv
				}
				if *ref == nil {
					*ref = append([]float32(nil), got...)
					continue
				}
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits((*ref)[j]) {
						t.Fatalf("%s transB=%v m=%d row %d threads %d: C[%d] want %g (first call of this path), got %g",
							backend.Name(), transB, v.m, v.pos, v.threads, j, (*ref)[j], got[j])
					}
				}
			}
			if refGemv == nil {
				continue
			}

			// The bound uses Σ|a·b| of each element.
			absRow := absSlice(row)
			bound := productRows(Portable{}, transB, 1, n, k, absRow, absSlice(b))
			tolerance := 2 * float32(k) * epsilon32
			for j := range refGemv {
				if diff := abs32(refGemv[j] - refPacked[j]); diff > tolerance*bound[j] {
					t.Errorf("%s transB=%v: C[%d] gemv %g and packed %g differ by %g, bound %g",
						backend.Name(), transB, j, refGemv[j], refPacked[j], diff, tolerance*bound[j])
				}
			}
		}
	}
}

// TestGemmConcurrentCalls runs products on several goroutines at once, as
// the model does when it splits work over heads or sequences, and requires
// the results of a lone call.
func TestGemmConcurrentCalls(t *testing.T) {
	const m, n, k, callers = 40, 70, 300, 4
	for _, backend := range Backends() {
		rng := rand.New(rand.NewPCG(20, 21))
		a, b := randomVector(m*k, rng), randomVector(n*k, rng)
		want := productRows(backend, true, m, n, k, a, b)

		results := make([][]float32, callers)
		done := make(chan int)
		for g := range callers {
			go func() {
				results[g] = productRows(backend, true, m, n, k, a, b)
				done <- g
			}()
		}
		for range callers {
			<-done
		}
		for g, got := range results {
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s caller %d: C[%d] want %g (lone call), got %g", backend.Name(), g, i, want[i], got[i])
				}
			}
		}
	}
}
