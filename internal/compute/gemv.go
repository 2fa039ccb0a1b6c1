package compute

// minParallelGemv is the size of weight matrix (n·k elements) below which
// the gemv path stays on the calling goroutine.
const minParallelGemv = 1 << 15

// gemvTransB computes C = alpha·A·Bᵀ + beta·C for small m as dot products
// of the rows of A with the rows of B, in parallel over the rows of B. Each
// row of B is read from memory once and from cache for the other rows of A.
// beta == 0 overwrites C.
func gemvTransB(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	workers := Threads()
	if n*k < minParallelGemv {
		workers = 1
	}
	parallelChunks(n, workers, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			w := b[j*ldb : j*ldb+k]
			i := 0
			for ; i+1 < m; i += 2 {
				sum0, sum1 := dot2(a[i*lda:i*lda+k], a[(i+1)*lda:(i+1)*lda+k], w)
				storeScaled(c, i*ldc+j, sum0, alpha, beta)
				storeScaled(c, (i+1)*ldc+j, sum1, alpha, beta)
			}
			if i < m {
				storeScaled(c, i*ldc+j, Dot(a[i*lda:i*lda+k], w), alpha, beta)
			}
		}
	})
}

// dot2 returns Dot(x0, w) and Dot(x1, w), bit for bit, reading w once.
func dot2(x0, x1, w []float32) (float32, float32) {
	sum0, sum1, done := dot2Body(x0, x1, w)
	for p := done; p < len(w); p++ {
		sum0 += float32(x0[p] * w[p]) // rounded like Dot's tail
		sum1 += float32(x1[p] * w[p])
	}
	return sum0, sum1
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
