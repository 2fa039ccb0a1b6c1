package compute

// minParallelGemv is the size of weight matrix (n·k elements) below which
// the gemv path stays on the calling goroutine.
const minParallelGemv = 1 << 15

// gemvTransB computes C = alpha·A·Bᵀ + beta·C for m ≤ GemvMaxRows by taking
// dot products of the rows of A with the rows of B, reading B once. It runs
// in parallel over the columns of C. beta == 0 overwrites C.
func (bk *Blocked) gemvTransB(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	workers := Threads()
	if n*k < minParallelGemv {
		workers = 1
	}
	pairs := (n + 1) / 2
	parallelChunks(pairs, workers, func(lo, hi int) {
		var out [8]float32
		for j := 2 * lo; j < min(2*hi, n); j += 2 {
			w0 := b[j*ldb : j*ldb+k]
			w1 := w0
			if j+1 < n {
				w1 = b[(j+1)*ldb : (j+1)*ldb+k]
			}

			for i := 0; i < m; i += 4 {
				// Rows past m repeat the last row; their results are dropped.
				rows := min(4, m-i)
				x0 := a[i*lda : i*lda+k]
				x1 := a[(i+min(1, rows-1))*lda:]
				x2 := a[(i+min(2, rows-1))*lda:]
				x3 := a[(i+min(3, rows-1))*lda:]
				bk.gemv(k, rows, x0, x1[:k], x2[:k], x3[:k], w0, w1, &out)

				for r := 0; r < min(4, m-i); r++ {
					storeScaled(c, (i+r)*ldc+j, out[r], alpha, beta)
					if j+1 < n {
						storeScaled(c, (i+r)*ldc+j+1, out[4+r], alpha, beta)
					}
				}
			}
		}
	})
}

// storeScaled sets c[at] = alpha·sum + beta·c[at], ignoring the old value
// when beta is 0.
func storeScaled(c []float32, at int, sum, alpha, beta float32) {
	if beta == 0 {
		c[at] = alpha * sum
		return
	}
	c[at] = alpha*sum + beta*c[at]
}

// gemvDot is the gemvKernel built on Dot, so its sums follow Dot's order.
func gemvDot(k, rows int, x0, x1, x2, x3, w0, w1 []float32, out *[8]float32) {
	x := [4][]float32{x0, x1, x2, x3}
	for r := 0; r < rows; r++ {
		out[r] = Dot(x[r][:k], w0[:k])
		out[4+r] = Dot(x[r][:k], w1[:k])
	}
}
