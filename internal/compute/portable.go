package compute

import "sync"

// Portable is the plain Go backend; it runs everywhere and is the reference
// the faster kernels are tested against. It sums each element of C in
// increasing k in one float32 accumulator.
type Portable struct{}

// Name returns "portable".
func (Portable) Name() string { return "portable" }

// Gemm implements Backend with straightforward loops. Like BLAS, it leaves A
// and B unread when alpha or k is 0, so C becomes beta·C.
func (Portable) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
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

var backends = sync.OnceValue(func() []Backend {
	list := platformBackends()
	list = append(list, newBlocked("go", genericMR, genericNR, kernelGeneric))
	return append(list, Portable{})
})

// Backends returns every backend this CPU can run, fastest first: the
// assembly kernels it supports ("avx512", "avx2"), the blocked pure-Go
// kernel ("go") and Portable.
func Backends() []Backend { return backends() }

// Default returns the fastest backend available on this machine.
func Default() Backend { return backends()[0] }
