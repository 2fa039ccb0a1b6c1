package compute

// Portable is the plain Go backend; it runs everywhere and is the reference
// the faster kernels are tested against.
type Portable struct{}

// Name returns "portable".
func (Portable) Name() string { return "portable" }

// Gemm implements Backend with straightforward loops.
func (Portable) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float32
			for p := 0; p < k; p++ {
				var x, y float32
				if transA {
					x = a[p*lda+i]
				} else {
					x = a[i*lda+p]
				}
				if transB {
					y = b[j*ldb+p]
				} else {
					y = b[p*ldb+j]
				}
				sum += x * y
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * sum
			} else {
				c[i*ldc+j] = alpha*sum + beta*c[i*ldc+j]
			}
		}
	}
}

// Default returns the fastest backend available on this machine.
func Default() Backend { return Portable{} }
