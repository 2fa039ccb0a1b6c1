package llama

import (
	"math"
	"sync/atomic"

	"ipo/internal/compute"
)

// Forward kernels of one decoder layer. Activations are flat row-major
// float32 buffers of packed rows (all positions of all sequences); each
// kernel states its shapes. A backward pass is meant to sit next to each
// forward with the same argument order.

// rowsPerTask is the least number of rows a parallel task of the cheap
// row-wise kernels gets, so goroutines are not spent on tiny work.
const rowsPerTask = 16

// parallelRows calls fn over [0, rows) split across the cores in chunks of
// at least rowsPerTask rows.
func parallelRows(rows int, fn func(lo, hi int)) {
	tasks := (rows + rowsPerTask - 1) / rowsPerTask
	compute.Parallel(tasks, func(lo, hi int) {
		fn(lo*rowsPerTask, min(hi*rowsPerTask, rows))
	})
}

// rmsNormForward computes out = x / sqrt(mean(x²) + eps) · weight for each
// row. x and out are [rows × dim] and may be the same slice; weight is
// [dim].
func rmsNormForward(out, x, weight []float32, rows, dim int, eps float64) {
	parallelRows(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			in := x[r*dim : (r+1)*dim]
			var sum float64
			for _, v := range in {
				sum += float64(v) * float64(v)
			}
			scale := float32(1 / math.Sqrt(sum/float64(dim)+eps))
			dst := out[r*dim : (r+1)*dim]
			for i, v := range in {
				dst[i] = weight[i] * (v * scale)
			}
		}
	})
}

// linearForward computes out = beta·out + x·Wᵀ + bias, with x [rows × in],
// w [outDim × in] (the PyTorch Linear layout), bias [outDim] or nil and out
// [rows × outDim]. beta 0 overwrites out and beta 1 adds to it (a residual
// connection).
func linearForward(be compute.Backend, out, x, w, bias []float32, rows, in, outDim int, beta float32) {
	if rows == 0 {
		return
	}
	be.Gemm(false, true, rows, outDim, in, 1, x, in, w, in, beta, out, outDim)
	if bias == nil {
		return
	}
	parallelRows(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			dst := out[r*outDim : (r+1)*outDim]
			for i, b := range bias {
				dst[i] += b
			}
		}
	})
}

// swigluForward computes gate = silu(gate)·up in place; both are
// [rows × dim]. silu(x) = x / (1 + e^-x), with e^-x from compute.ExpNeg in
// chunks of siluChunk on the stack. Below x = -88.8, e^-x is +Inf and the
// result is -0, where the exact value is below 1e-36 in magnitude.
func swigluForward(gate, up []float32, rows, dim int) {
	parallelRows(rows, func(lo, hi int) {
		var expNeg [siluChunk]float32
		for i := lo * dim; i < hi*dim; i += siluChunk {
			g := gate[i:min(i+siluChunk, hi*dim)]
			u := up[i : i+len(g)]
			compute.ExpNeg(expNeg[:len(g)], g)
			for j, x := range g {
				g[j] = x / (1 + expNeg[j]) * u[j]
			}
		}
	})
}

// siluChunk is the number of elements swigluForward exponentiates at once.
const siluChunk = 256

// attentionShape describes the packed q, k, v buffers of one attention call.
type attentionShape struct {
	heads, kvHeads, headDim int
	window                  int // 0: full causal attention
}

// attentionBlock is the number of query rows whose scores one Gemm
// computes. Each block only multiplies by the keys it may see, which skips
// most of the masked upper triangle.
const attentionBlock = 64

// attentionForward computes causal scaled dot-product attention for each
// sequence of the layout, with grouped-query heads: query head h reads key
// and value head h / (heads/kvHeads). q and out are [rows × heads·headDim],
// k and v are [rows × kvHeads·headDim]. Sequences never see each other's
// rows, so there is no padding to mask.
func attentionForward(be compute.Backend, out, q, k, v []float32, lay layout, s attentionShape) {
	qDim := s.heads * s.headDim
	kvDim := s.kvHeads * s.headDim
	group := s.heads / s.kvHeads
	scale := float32(1 / math.Sqrt(float64(s.headDim)))
	tasks := len(lay.lengths) * s.heads

	// Workers take (sequence, head) tasks from a shared counter, so
	// sequences of different lengths still spread evenly over the cores.
	var next atomic.Int64
	workers := min(compute.Threads(), tasks)
	compute.Parallel(workers, func(lo, hi int) {
		for range hi - lo {
			scores := make([]float32, attentionBlock*lay.maxLength)
			for {
				task := int(next.Add(1)) - 1
				if task >= tasks {
					break
				}
				seq, h := task/s.heads, task%s.heads
				start, length := lay.starts[seq], lay.lengths[seq]
				kvHead := h / group
				qh := q[start*qDim+h*s.headDim:]
				kh := k[start*kvDim+kvHead*s.headDim:]
				vh := v[start*kvDim+kvHead*s.headDim:]
				oh := out[start*qDim+h*s.headDim:]

				for q0 := 0; q0 < length; q0 += attentionBlock {
					q1 := min(q0+attentionBlock, length)
					k0 := 0
					if s.window > 0 {
						k0 = max(0, q0-s.window+1)
					}
					m, n := q1-q0, q1-k0
					be.Gemm(false, true, m, n, s.headDim, scale, qh[q0*qDim:], qDim, kh[k0*kvDim:], kvDim, 0, scores, n)
					for i := range m {
						first := k0
						if s.window > 0 {
							first = max(k0, q0+i-s.window+1)
						}
						softmaxRow(scores[i*n:(i+1)*n], first-k0, q0+i-k0+1)
					}
					be.Gemm(false, false, m, s.headDim, n, 1, scores, n, vh[k0*kvDim:], kvDim, 0, oh[q0*qDim:], qDim)
				}
			}
		}
	})
}
