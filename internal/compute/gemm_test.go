package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// epsilon32 is the unit roundoff of float32 (2⁻²⁴).
const epsilon32 = 1.0 / (1 << 24)

// gemmCase is one product: op(A) is m×k, op(B) is k×n, and pad is added to
// every row stride.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// operands holds the stored matrices of a gemmCase.
type operands struct {
	a, b, c       []float32
	lda, ldb, ldc int
}

// newOperands fills A, B and C with values in [-1, 1) and sets the gaps
// between rows (the padding of each stride) to NaN, so a kernel that reads
// or writes them is caught.
func newOperands(tc gemmCase, rng *rand.Rand) operands {
	rowsA, colsA := tc.m, tc.k
	if tc.transA {
		rowsA, colsA = tc.k, tc.m
	}
	rowsB, colsB := tc.k, tc.n
	if tc.transB {
		rowsB, colsB = tc.n, tc.k
	}
	var op operands
	op.a, op.lda = randomMatrix(rowsA, colsA, tc.pad, rng)
	op.b, op.ldb = randomMatrix(rowsB, colsB, tc.pad, rng)
	op.c, op.ldc = randomMatrix(tc.m, tc.n, tc.pad, rng)
	return op
}

func randomMatrix(rows, cols, pad int, rng *rand.Rand) ([]float32, int) {
	ld := max(cols+pad, 1)
	s := make([]float32, rows*ld)
	for i := range s {
		if i%ld < cols {
			s[i] = 2*rng.Float32() - 1
		} else {
			s[i] = float32(math.NaN())
		}
	}
	return s, ld
}

func absSlice(s []float32) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(math.Abs(float64(v)))
	}
	return out
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// checkAgainstPortable runs backend and Portable on the same operands and
// requires every element of C to agree within 2·(k+2)·ε·(|alpha|·Σ|a·b| +
// |beta·c|), twice the textbook bound for a float32 dot product, because
// both results carry rounding error. Padding between rows must stay NaN.
func checkAgainstPortable(t *testing.T, backend Backend, tc gemmCase, rng *rand.Rand) {
	t.Helper()
	op := newOperands(tc, rng)
	if tc.beta == 0 {
		// beta == 0 must ignore C, NaN included.
		for i := range op.c {
			op.c[i] = float32(math.NaN())
		}
	}
	want := append([]float32(nil), op.c...)
	got := append([]float32(nil), op.c...)
	bound := absSlice(op.c)

	Portable{}.Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, op.a, op.lda, op.b, op.ldb, tc.beta, want, op.ldc)
	backend.Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, op.a, op.lda, op.b, op.ldb, tc.beta, got, op.ldc)
	Portable{}.Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, abs32(tc.alpha), absSlice(op.a), op.lda, absSlice(op.b), op.ldb, abs32(tc.beta), bound, op.ldc)

	tolerance := 2 * float32(tc.k+2) * epsilon32
	for i := 0; i < tc.m; i++ {
		for j := 0; j < op.ldc; j++ {
			at := i*op.ldc + j
			if j >= tc.n {
				if !math.IsNaN(float64(got[at])) {
					t.Fatalf("%s: padding C[%d][%d] was written: want NaN, got %g", tc, i, j, got[at])
				}
				continue
			}
			if diff := abs32(got[at] - want[at]); !(diff <= tolerance*bound[at]) {
				t.Fatalf("%s: C[%d][%d]: want %g (portable), got %g, |diff| %g exceeds bound %g",
					tc, i, j, want[at], got[at], diff, tolerance*bound[at])
			}
		}
	}
}

// gemmCases returns products around the tile sizes of every kernel (4, 6,
// 12, 16, 32), the k block (256), the gemv limit and empty dimensions.
func gemmCases() []gemmCase {
	shapes := [][3]int{
		{0, 5, 7}, {5, 0, 7}, {5, 7, 0}, {0, 0, 0},
		{1, 1, 1}, {1, 33, 17}, {3, 1, 5}, {2, 2, 2},
		{5, 7, 3}, {6, 16, 8}, {12, 32, 16}, {13, 33, 17},
		{11, 31, 15}, {24, 64, 1}, {25, 65, 255}, {7, 97, 256},
		{8, 40, 257}, {9, 40, 513}, {37, 50, 300}, {100, 70, 45},
		{193, 45, 20}, {4, 3100, 9}, {1, 200, 600},
	}
	var cases []gemmCase
	for _, s := range shapes {
		for _, trans := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			cases = append(cases, gemmCase{transA: trans[0], transB: trans[1], m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0})
		}
	}
	cases = append(cases,
		gemmCase{m: 13, n: 35, k: 19, alpha: 0.5, beta: 0, pad: 3},
		gemmCase{m: 13, n: 35, k: 19, alpha: -1.5, beta: 1, pad: 5},
		gemmCase{m: 13, n: 35, k: 19, alpha: 2, beta: -0.75, pad: 1, transA: true},
		gemmCase{m: 3, n: 35, k: 19, alpha: 2, beta: 0.5, pad: 2, transB: true},
		gemmCase{m: 30, n: 70, k: 600, alpha: 1, beta: 1, pad: 7, transA: true, transB: true},
		gemmCase{m: 30, n: 70, k: 600, alpha: 0.25, beta: 2, pad: 4, transB: true},
		gemmCase{m: 30, n: 70, k: 40, alpha: 0, beta: 0.5, pad: 2},
		gemmCase{m: 30, n: 70, k: 40, alpha: 0, beta: 0, pad: 2},
		gemmCase{m: 30, n: 70, k: 0, alpha: 1, beta: 3, pad: 2},
	)
	return cases
}

func TestGemmBackendsMatchPortable(t *testing.T) {
	for _, backend := range Backends() {
		t.Run(backend.Name(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for _, tc := range gemmCases() {
				for _, threads := range []int{1, 2, 3} {
					prev := SetThreads(threads)
					checkAgainstPortable(t, backend, tc, rng)
					SetThreads(prev)
				}
			}
		})
	}
}

func TestGemmLargeMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("large products are slow with the portable reference")
	}
	cases := []gemmCase{
		{m: 200, n: 3200, k: 70, alpha: 1, transB: true},
		{m: 300, n: 130, k: 700, alpha: 1, beta: 1},
		{m: 1, n: 5000, k: 300, alpha: 1, transB: true},
	}
	for _, backend := range Backends() {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, tc := range cases {
			checkAgainstPortable(t, backend, tc, rng)
		}
	}
}
