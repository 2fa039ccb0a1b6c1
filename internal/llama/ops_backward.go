package llama

import (
	"math"

	"ipo/internal/compute"
)

// Differentiable kernels of the training pass. Each op has a forward and a
// backward with the same argument order, as in llm.c. The backward takes
// the gradient of the forward's output (dout) and adds into the gradients
// of its inputs (dx, dA, ...), which callers clear first. The kernels are
// generic over the element type so that the same code runs in float32 for
// training and in float64 for finite-difference checks.

// float is the element type of the training kernels.
type float interface{ ~float32 | ~float64 }

// ops runs the training kernels with a backend for float32 matrix
// products; float64 products and a nil backend use plain loops.
type ops[T float] struct {
	be compute.Backend
}

// gemm computes c = alpha·op(a)·op(b) + beta·c with c [m × n] and the inner
// dimension k, as compute.Backend.Gemm does.
func (o ops[T]) gemm(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if o.be != nil {
		if a32, ok := any(a).([]float32); ok {
			o.be.Gemm(transA, transB, m, n, k, float32(alpha), a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
			return
		}
	}
	compute.Parallel(m, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for j := range n {
				var sum float64
				for p := range k {
					ai, bi := i*lda+p, p*ldb+j
					if transA {
						ai = p*lda + i
					}
					if transB {
						bi = j*ldb + p
					}
					av, bv := a[ai], b[bi]
					sum += float64(av) * float64(bv)
				}
				cv := T(0)
				if beta != 0 {
					cv = beta * c[i*ldc+j]
				}
				c[i*ldc+j] = cv + alpha*T(sum)
			}
		}
	})
}

// embeddingForward copies the rows of table [vocab × dim] for tokens into
// out [len(tokens) × dim].
func (o ops[T]) embeddingForward(out []T, tokens []int, table []T, dim int) {
	for r, id := range tokens {
		copy(out[r*dim:(r+1)*dim], table[id*dim:(id+1)*dim])
	}
}

// embeddingBackward adds each row of dout [len(tokens) × dim] into the row
// of dtable [vocab × dim] its token selected.
func (o ops[T]) embeddingBackward(dtable []T, dout []T, tokens []int, dim int) {
	for r, id := range tokens {
		dst := dtable[id*dim : (id+1)*dim]
		for i, g := range dout[r*dim : (r+1)*dim] {
			dst[i] += g
		}
	}
}

// rmsNormForward computes out = x·rstd·weight per row, with
// rstd = 1/sqrt(mean(x²)+eps) stored in rstd [rows]. x and out are
// [rows × dim] and must not overlap; weight is [dim].
func (o ops[T]) rmsNormForward(out, rstd, x, weight []T, rows, dim int, eps float64) {
	parallelRows(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			in := x[r*dim : (r+1)*dim]
			var sum float64
			for _, v := range in {
				sum += float64(v) * float64(v)
			}
			s := 1 / math.Sqrt(sum/float64(dim)+eps)
			rstd[r] = T(s)
			dst := out[r*dim : (r+1)*dim]
			for i, v := range in {
				dst[i] = weight[i] * T(float64(v)*s)
			}
		}
	})
}

// rmsNormBackward adds ∂L/∂x into dx [rows × dim] and, when dweight is not
// nil, ∂L/∂weight into dweight [dim], given dout [rows × dim] and the
// forward's x, weight and rstd. With g = dout·weight:
// dx = rstd·g - x·rstd³·mean(g·x).
func (o ops[T]) rmsNormBackward(dx, dweight, dout, x, weight, rstd []T, rows, dim int) {
	parallelRows(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			in := x[r*dim : (r+1)*dim]
			g := dout[r*dim : (r+1)*dim]
			s := float64(rstd[r])
			var dot float64
			for i, v := range in {
				dot += float64(g[i]) * float64(weight[i]) * float64(v)
			}
			c := s * s * s * dot / float64(dim)
			dst := dx[r*dim : (r+1)*dim]
			for i, v := range in {
				dst[i] += T(s*float64(g[i])*float64(weight[i]) - c*float64(v))
			}
		}
	})
	if dweight == nil {
		return
	}
	for r := range rows {
		s := rstd[r]
		for i, v := range x[r*dim : (r+1)*dim] {
			dweight[i] += dout[r*dim+i] * v * s
		}
	}
}

// linearForward computes out = x·Wᵀ + bias with x [rows × in], w
// [outDim × in], bias [outDim] or nil and out [rows × outDim].
func (o ops[T]) linearForward(out, x, w, bias []T, rows, in, outDim int) {
	o.gemm(false, true, rows, outDim, in, 1, x, in, w, in, 0, out, outDim)
	if bias == nil {
		return
	}
	for r := range rows {
		dst := out[r*outDim : (r+1)*outDim]
		for i, b := range bias {
			dst[i] += b
		}
	}
}

// linearBackward adds dout·W into dx [rows × in]. The base weight and bias
// are frozen, so they get no gradient.
func (o ops[T]) linearBackward(dx, dout, x, w, bias []T, rows, in, outDim int) {
	o.gemm(false, false, rows, in, outDim, 1, dout, outDim, w, in, 1, dx, in)
}

// loraForward adds scaling·(drop(x)·Aᵀ)·Bᵀ to out [rows × outDim], with x
// [rows × in], a [r × in] and b [outDim × r]. keep [rows × in] is the
// dropout mask already divided by the keep probability, or nil without
// dropout. It stores drop(x) in xd [rows × in] (unused without dropout)
// and drop(x)·Aᵀ in u [rows × r] for the backward.
func (o ops[T]) loraForward(out, xd, u, x, keep, a, b []T, rows, in, outDim, r int, scaling T) {
	src := x
	if keep != nil {
		for i, v := range x[:rows*in] {
			xd[i] = v * keep[i]
		}
		src = xd
	}
	o.gemm(false, true, rows, r, in, 1, src, in, a, in, 0, u, r)
	o.gemm(false, true, rows, outDim, r, scaling, u, r, b, r, 1, out, outDim)
}

// loraBackward adds the gradients of loraForward's output dout
// [rows × outDim] into dx [rows × in], da [r × in] and db [outDim × r]:
// dB = s·doutᵀ·u, dU = s·dout·B, dA = dUᵀ·drop(x), dx = keep⊙(dU·A).
// du is scratch [rows × r]; dxd is scratch [rows × in] when keep is not nil.
func (o ops[T]) loraBackward(dx, da, db, du, dxd, dout, xd, u, x, keep, a, b []T, rows, in, outDim, r int, scaling T) {
	src := x
	if keep != nil {
		src = xd
	}
	o.gemm(true, false, outDim, r, rows, scaling, dout, outDim, u, r, 1, db, r)
	o.gemm(false, false, rows, r, outDim, scaling, dout, outDim, b, r, 0, du, r)
	o.gemm(true, false, r, in, rows, 1, du, r, src, in, 1, da, in)
	if keep == nil {
		o.gemm(false, false, rows, in, r, 1, du, r, a, in, 1, dx, in)
		return
	}
	o.gemm(false, false, rows, in, r, 1, du, r, a, in, 0, dxd, in)
	for i, g := range dxd[:rows*in] {
		dx[i] += g * keep[i]
	}
}

// ropeForward rotates, in place, the pairs (j, j+half) of every head of x
// [len(positions) × heads·2·half] by position·invFreq[j], with cos and sin
// from t.
func (o ops[T]) ropeForward(x []T, positions []int, heads int, t ropeTable) {
	o.rotate(x, positions, heads, t, 1)
}

// ropeBackward maps dout to the gradient of the rotation's input in
// place: a rotation's transpose is the rotation by the opposite angle.
func (o ops[T]) ropeBackward(dx []T, positions []int, heads int, t ropeTable) {
	o.rotate(dx, positions, heads, t, -1)
}

func (o ops[T]) rotate(x []T, positions []int, heads int, t ropeTable, sign T) {
	half := t.half
	width := heads * 2 * half
	parallelRows(len(positions), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			pos := positions[r]
			cos := t.cos[pos*half : (pos+1)*half]
			sin := t.sin[pos*half : (pos+1)*half]
			row := x[r*width : (r+1)*width]
			for h := range heads {
				x1 := row[h*2*half : h*2*half+half]
				x2 := row[h*2*half+half : (h+1)*2*half]
				for j := range half {
					c, s := T(cos[j]), sign*T(sin[j])
					a, b := x1[j], x2[j]
					x1[j] = a*c - b*s
					x2[j] = b*c + a*s
				}
			}
		}
	})
}

// swigluForward computes out = silu(gate)·up; all are [rows × dim].
func (o ops[T]) swigluForward(out, gate, up []T, rows, dim int) {
	parallelRows(rows, func(lo, hi int) {
		for i := lo * dim; i < hi*dim; i++ {
			g := float64(gate[i])
			out[i] = T(g/(1+math.Exp(-g))) * up[i]
		}
	})
}

// swigluBackward adds the gradients of out = silu(gate)·up into dgate and
// dup: silu'(g) = σ(g)·(1 + g·(1-σ(g))).
func (o ops[T]) swigluBackward(dgate, dup, dout, gate, up []T, rows, dim int) {
	parallelRows(rows, func(lo, hi int) {
		for i := lo * dim; i < hi*dim; i++ {
			g := float64(gate[i])
			sig := 1 / (1 + math.Exp(-g))
			d := float64(dout[i])
			dup[i] += T(d * g * sig)
			dgate[i] += T(d * float64(up[i]) * sig * (1 + g*(1-sig)))
		}
	})
}

// attentionForward computes causal grouped-query attention for each
// sequence of lay, like the inference kernel, and stores the attention
// probabilities of sequence s and head h in probs[s·heads+h]
// [length × length], zero where masked. q and out are [rows × heads·headDim],
// k and v [rows × kvHeads·headDim].
func (o ops[T]) attentionForward(out, q, k, v []T, probs [][]T, lay layout, s attentionShape) {
	qDim, kvDim := s.heads*s.headDim, s.kvHeads*s.headDim
	group := s.heads / s.kvHeads
	scale := T(1 / math.Sqrt(float64(s.headDim)))
	compute.Parallel(len(lay.lengths)*s.heads, func(lo, hi int) {
		for task := lo; task < hi; task++ {
			seq, h := task/s.heads, task%s.heads
			start, n := lay.starts[seq], lay.lengths[seq]
			kv := h / group
			p := probs[task][:n*n]
			qh := q[start*qDim+h*s.headDim:]
			kh := k[start*kvDim+kv*s.headDim:]
			vh := v[start*kvDim+kv*s.headDim:]
			o.gemm(false, true, n, n, s.headDim, scale, qh, qDim, kh, kvDim, 0, p, n)
			for i := range n {
				softmaxMasked(p[i*n:(i+1)*n], s.firstKey(i), i+1)
			}
			o.gemm(false, false, n, s.headDim, n, 1, p, n, vh, kvDim, 0, out[start*qDim+h*s.headDim:], qDim)
		}
	})
}

// attentionBackward adds the gradients of attentionForward's output dout
// into dq, dk and dv (same shapes as q, k, v). With P the probabilities:
// dV = Pᵀ·dout, dP = dout·Vᵀ, dS = P⊙(dP - rowsum(dP⊙P)),
// dQ = scale·dS·K and dK = scale·dSᵀ·Q. The heads that share a key-value
// head run in one task so that their dk and dv sums do not race.
func (o ops[T]) attentionBackward(dq, dk, dv, dout, q, k, v []T, probs [][]T, lay layout, s attentionShape) {
	qDim, kvDim := s.heads*s.headDim, s.kvHeads*s.headDim
	group := s.heads / s.kvHeads
	scale := T(1 / math.Sqrt(float64(s.headDim)))
	compute.Parallel(len(lay.lengths)*s.kvHeads, func(lo, hi int) {
		var dp []T
		for task := lo; task < hi; task++ {
			seq, kv := task/s.kvHeads, task%s.kvHeads
			start, n := lay.starts[seq], lay.lengths[seq]
			if cap(dp) < n*n {
				dp = make([]T, n*n)
			}
			dp = dp[:n*n]
			kh := k[start*kvDim+kv*s.headDim:]
			vh := v[start*kvDim+kv*s.headDim:]
			dkh := dk[start*kvDim+kv*s.headDim:]
			dvh := dv[start*kvDim+kv*s.headDim:]
			for h := kv * group; h < (kv+1)*group; h++ {
				p := probs[seq*s.heads+h][:n*n]
				qh := q[start*qDim+h*s.headDim:]
				dqh := dq[start*qDim+h*s.headDim:]
				doh := dout[start*qDim+h*s.headDim:]
				g := o
				g.gemm(true, false, n, s.headDim, n, 1, p, n, doh, qDim, 1, dvh, kvDim)
				g.gemm(false, true, n, n, s.headDim, 1, doh, qDim, vh, kvDim, 0, dp, n)
				for i := range n {
					row, pr := dp[i*n:(i+1)*n], p[i*n:(i+1)*n]
					var dot float64
					for j := range n {
						dot += float64(row[j]) * float64(pr[j])
					}
					for j := range n {
						row[j] = pr[j] * (row[j] - T(dot))
					}
				}
				g.gemm(false, false, n, s.headDim, n, scale, dp, n, kh, kvDim, 1, dqh, qDim)
				g.gemm(true, false, n, s.headDim, n, scale, dp, n, qh, qDim, 1, dkh, kvDim)
			}
		}
	})
}

// firstKey returns the first key position query i may see.
func (s attentionShape) firstKey(i int) int {
	if s.window > 0 {
		return max(0, i-s.window+1)
	}
	return 0
}

// softmaxMasked replaces row[lo:hi] by its softmax, computed in float64,
// and sets the rest of row to zero.
func softmaxMasked[T float](row []T, lo, hi int) {
	m := math.Inf(-1)
	for _, v := range row[lo:hi] {
		m = max(m, float64(v))
	}
	var sum float64
	for j := lo; j < hi; j++ {
		e := math.Exp(float64(row[j]) - m)
		row[j] = T(e)
		sum += e
	}
	for j := lo; j < hi; j++ {
		row[j] = T(float64(row[j]) / sum)
	}
	clear(row[:lo])
	clear(row[hi:])
}

// logSoftmaxGatherForward returns log softmax(logits)[target] for a
// logits row [vocab], computed in float64.
func logSoftmaxGatherForward[T float](logits []T, target int) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - m)
	}
	return float64(logits[target]) - m - math.Log(sum)
}

// logSoftmaxGatherBackward overwrites dlogits [vocab] with the gradient of
// dout·log softmax(logits)[target]: dout·(onehot(target) - softmax).
func logSoftmaxGatherBackward[T float](dlogits []T, dout float64, logits []T, target int) {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var sum float64
	for j, v := range logits {
		e := math.Exp(float64(v) - m)
		dlogits[j] = T(e)
		sum += e
	}
	scale := -dout / sum
	for j, e := range dlogits {
		dlogits[j] = T(float64(e) * scale)
	}
	dlogits[target] += T(dout)
}
