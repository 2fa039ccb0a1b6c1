// Package compute holds the numeric kernels of ipo: matrix products behind
// one small interface, and the helpers that spread work over the cores.
//
// Every matrix product in the model code goes through a Backend, so that a
// tuned library or a bfloat16 path can replace the pure-Go kernels without
// touching the model code.
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
	Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}
