// Package compute holds the numeric kernels of ipo: matrix products behind
// one small interface, vector helpers, bfloat16/float16 widening, and the
// helpers that spread work over the cores.
//
// Every matrix product in the model code goes through a Backend, so that a
// tuned library or a bfloat16 path can replace the pure-Go kernels without
// touching the model code. Default returns the fastest backend for the CPU:
//
//	be := compute.Default() // "avx512", "avx2" or "go"
//	// y = x·Wᵀ for a Linear weight W stored out×in:
//	be.Gemm(false, true, tokens, out, in, 1, x, in, w, in, 0, y, out)
//
// The kernels run on Threads() goroutines: SetThreads, else the
// IPO_THREADS environment variable, else GOMAXPROCS.
//
// Results are deterministic. On one machine and backend, a row of C does
// not depend on m, on the other rows of A or on the thread count, so a
// sequence scored alone or in a padded batch gets the same logits. Blocked
// documents the one exception and its bound.
package compute

// Backend computes matrix products on row-major float32 matrices.
type Backend interface {
	// Name identifies the backend in logs and benchmark reports.
	Name() string

	// Gemm computes C = alpha·op(A)·op(B) + beta·C with the semantics of
	// BLAS sgemm on row-major storage: op(A) is m×k, op(B) is k×n, C is m×n.
	// transA stores A as k×m, transB stores B as n×k (the layout of a
	// PyTorch Linear weight). lda, ldb and ldc are the row strides.
	// When beta is 0, C is overwritten and its old contents are ignored.
	// When alpha or k is 0, A and B are not read. Gemm panics, naming the
	// argument, when a slice is too short for its dimensions and stride.
	Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}
