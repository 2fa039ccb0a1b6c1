package compute

import (
	"fmt"
	"sync"
)

// Cache blocking of the packed kernels. kc fixes where the sum over k is
// split into partial sums, so it must not depend on m, n or the thread
// count: every C element is summed in the same order whatever the shape.
const (
	blockK = 256  // rows of op(B) (and columns of op(A)) per packed block
	blockM = 192  // rows of op(A) per packed block, a multiple of every mr
	blockN = 3072 // columns of op(B) per packed block, a multiple of every nr
)

// minParallelFlops is the size of product (m·n·k multiply-adds) below which
// a product stays on the calling goroutine.
const minParallelFlops = 1 << 17

// microKernel computes one mr×nr tile of C from packed panels (kc ≥ 1):
// C = alpha·acc + beta·C where acc[i][j] = Σ_p a[p·mr+i]·b[p·nr+j] summed
// in increasing p. beta == 0 overwrites C without reading it.
type microKernel func(kc int, a, b, c []float32, ldc int, alpha, beta float32)

// Blocked is a Backend that packs panels of A and B and runs a register-tile
// micro-kernel over them, in parallel over Threads() goroutines.
//
// Each element of C is computed in one fixed order: the products of each
// block of 256 values of k are summed in increasing k in one accumulator,
// and the blocks are added in order (C = alpha·s₀ + beta·C, then
// C = alpha·s_b + C). So a row of C does not depend on m, on the other
// rows of A, on n or on the thread count. The exception is the gemv path
// (A not transposed, B transposed, m at most GemvMaxRows), which computes
// each element with Dot. Its rows do not depend on m or the thread count
// either, and they agree with the packed path within the bound documented
// on GemvMaxRows. A Blocked is safe for concurrent use.
type Blocked struct {
	name   string
	mr, nr int
	kernel microKernel

	// free holds packing buffers for reuse. Unlike a sync.Pool it survives
	// garbage collections, which would otherwise cost a fresh 3 MB buffer
	// per goroutine and product.
	mu   sync.Mutex
	free []*packBuffers
}

// GemvMaxRows is the largest m for which a Blocked product with B
// transposed (and A not) takes the gemv path, which reads B once instead of
// packing it. The gemv path sums in Dot's order, not the packed path's, and
// the two agree within 2·k·ε·Σ|a·b| per element (ε = 2⁻²⁴), twice the
// standard bound for a float32 dot product. From m = 5 the packed path was
// faster on the AVX-512 machine of docs/bench/gemm.md.
const GemvMaxRows = 4

// packBuffers holds one goroutine's packed panels.
type packBuffers struct {
	a, b []float32
	tile []float32
}

func newBlocked(name string, mr, nr int, kernel microKernel) *Blocked {
	return &Blocked{name: name, mr: mr, nr: nr, kernel: kernel}
}

// getBuffers takes packing buffers from the free list or allocates them.
func (bk *Blocked) getBuffers() *packBuffers {
	bk.mu.Lock()
	defer bk.mu.Unlock()
	if n := len(bk.free); n > 0 {
		bufs := bk.free[n-1]
		bk.free = bk.free[:n-1]
		return bufs
	}
	return &packBuffers{
		a:    make([]float32, blockM*blockK),
		b:    make([]float32, blockK*blockN),
		tile: make([]float32, bk.mr*bk.nr),
	}
}

// putBuffers returns packing buffers to the free list.
func (bk *Blocked) putBuffers(bufs *packBuffers) {
	bk.mu.Lock()
	bk.free = append(bk.free, bufs)
	bk.mu.Unlock()
}

// Name returns the name of the micro-kernel, such as "avx512".
func (bk *Blocked) Name() string { return bk.name }

// Gemm implements Backend. It panics, naming the argument, when a slice is
// too short for its dimensions and stride.
func (bk *Blocked) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	if beta == 0 {
		beta = 0 // turn -0 into +0: the kernels test the bits of beta
	}

	if !transA && transB && m <= GemvMaxRows {
		gemvTransB(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}

	workers := Threads()
	if m*n*k < minParallelFlops {
		workers = 1
	}
	tilesM := (m + bk.mr - 1) / bk.mr
	tilesN := (n + bk.nr - 1) / bk.nr
	if tilesN >= tilesM {
		parallelChunks(tilesN, workers, func(lo, hi int) {
			j0, j1 := lo*bk.nr, min(hi*bk.nr, n)
			bk.serial(transA, transB, m, j1-j0, k, alpha, a, lda, offsetB(b, transB, ldb, j0), ldb, beta, c[j0:], ldc)
		})
		return
	}
	parallelChunks(tilesM, workers, func(lo, hi int) {
		i0, i1 := lo*bk.mr, min(hi*bk.mr, m)
		bk.serial(transA, transB, i1-i0, n, k, alpha, offsetA(a, transA, lda, i0), lda, b, ldb, beta, c[i0*ldc:], ldc)
	})
}

// offsetA returns A starting at row i0 of op(A).
func offsetA(a []float32, transA bool, lda, i0 int) []float32 {
	if transA {
		return a[i0:]
	}
	return a[i0*lda:]
}

// offsetB returns B starting at column j0 of op(B).
func offsetB(b []float32, transB bool, ldb, j0 int) []float32 {
	if transB {
		return b[j0*ldb:]
	}
	return b[j0:]
}

// serial runs the blocked product on the calling goroutine.
func (bk *Blocked) serial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	bufs := bk.getBuffers()
	defer bk.putBuffers(bufs)

	for jc := 0; jc < n; jc += blockN {
		nb := min(blockN, n-jc)
		for pc := 0; pc < k; pc += blockK {
			kb := min(blockK, k-pc)
			packB(transB, b, ldb, pc, jc, kb, nb, bk.nr, bufs.b)

			blockBeta := beta
			if pc > 0 {
				blockBeta = 1
			}
			for ic := 0; ic < m; ic += blockM {
				mb := min(blockM, m-ic)
				packA(transA, a, lda, ic, pc, mb, kb, bk.mr, bufs.a)
				bk.macroKernel(mb, nb, kb, alpha, bufs, blockBeta, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

// macroKernel multiplies one packed block of A (mb×kb) by one packed block
// of B (kb×nb) into C.
func (bk *Blocked) macroKernel(mb, nb, kb int, alpha float32, bufs *packBuffers, beta float32, c []float32, ldc int) {
	mr, nr := bk.mr, bk.nr
	for jr := 0; jr < nb; jr += nr {
		panelB := bufs.b[jr*kb:]
		cols := min(nr, nb-jr)
		for ir := 0; ir < mb; ir += mr {
			panelA := bufs.a[ir*kb:]
			rows := min(mr, mb-ir)
			if rows == mr && cols == nr {
				bk.kernel(kb, panelA, panelB, c[ir*ldc+jr:], ldc, alpha, beta)
				continue
			}

			// An edge tile runs the same kernel on a full-size scratch tile,
			// so its elements are summed exactly like interior ones.
			tile := bufs.tile
			if beta != 0 {
				for i := 0; i < rows; i++ {
					copy(tile[i*nr:i*nr+cols], c[(ir+i)*ldc+jr:])
				}
			}
			bk.kernel(kb, panelA, panelB, tile, nr, alpha, beta)
			for i := 0; i < rows; i++ {
				copy(c[(ir+i)*ldc+jr:(ir+i)*ldc+jr+cols], tile[i*nr:])
			}
		}
	}
}

// scaleMatrix sets C = beta·C, writing zeros when beta is 0.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// checkGemm panics when a matrix slice is too short or a stride is smaller
// than the row it must hold.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("compute: Gemm dimensions m=%d n=%d k=%d must not be negative", m, n, k))
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	checkMatrix("A", rowsA, colsA, a, lda)
	checkMatrix("B", rowsB, colsB, b, ldb)
	checkMatrix("C", m, n, c, ldc)
}

func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("compute: Gemm stride ld%s=%d is less than the %d columns of %s", lowerName(name), ld, cols, name))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("compute: Gemm matrix %s has %d elements, %d×%d with stride %d needs %d", name, len(s), rows, cols, ld, need))
	}
}

func lowerName(name string) string {
	switch name {
	case "A":
		return "a"
	case "B":
		return "b"
	}
	return "c"
}
