package llama

import (
	"math/rand/v2"
)

// layerCache contains the activations of one decoder layer that its
// backward needs. The training forward fills it for each layer in turn and
// keeps only the layer inputs. The backward fills it again by recomputing
// the layer, so activation memory is one layer's worth plus one
// [rows × hidden] input per layer. The attention probabilities make one
// layer's worth grow as heads × length² per sequence.
type layerCache[T float] struct {
	n1, r1       []T // input norm output [rows × hidden] and rstd [rows]
	qRaw, kRaw   []T // q and k projections before the q/k norm
	qr, kr       []T // rstd of the q/k norm [rows·heads], [rows·kvHeads]
	q, k, v      []T // after the q/k norm and RoPE
	probs        [][]T
	ctx, attnOut []T
	x1           []T // residual stream after attention [rows × hidden]
	n2, r2       []T
	gate, up     []T // [rows × intermediate], before the activation
	act, mlpOut  []T
	keep, xd, u  [numLinear][]T // LoRA dropout mask, dropped input, x·Aᵀ
}

func newLayerCache[T float](cfg Config, lay layout) *layerCache[T] {
	rows, h, f := lay.rows, cfg.HiddenSize, cfg.IntermediateSize
	qDim, kvDim := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	c := &layerCache[T]{
		n1: make([]T, rows*h), r1: make([]T, rows),
		qRaw: make([]T, rows*qDim), kRaw: make([]T, rows*kvDim),
		qr: make([]T, rows*cfg.NumHeads), kr: make([]T, rows*cfg.NumKVHeads),
		q: make([]T, rows*qDim), k: make([]T, rows*kvDim), v: make([]T, rows*kvDim),
		ctx: make([]T, rows*qDim), attnOut: make([]T, rows*h),
		x1: make([]T, rows*h), n2: make([]T, rows*h), r2: make([]T, rows),
		gate: make([]T, rows*f), up: make([]T, rows*f),
		act: make([]T, rows*f), mlpOut: make([]T, rows*h),
	}
	c.probs = make([][]T, len(lay.lengths)*cfg.NumHeads)
	for s, n := range lay.lengths {
		for h := range cfg.NumHeads {
			c.probs[s*cfg.NumHeads+h] = make([]T, n*n)
		}
	}
	return c
}

// linearShape returns the input and output widths of linear layer p.
func linearShape(cfg Config, p int) (in, out int) {
	h, f := cfg.HiddenSize, cfg.IntermediateSize
	qDim, kvDim := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	switch p {
	case projQ:
		return h, qDim
	case projK, projV:
		return h, kvDim
	case projO:
		return qDim, h
	case projGate, projUp:
		return h, f
	}
	return f, h
}

// project computes out = x·Wᵀ + bias plus the LoRA term of linear layer p.
// rng draws the dropout mask; nil means no dropout (evaluation).
func (n *network[T]) project(l *trainLayer[T], c *layerCache[T], p int, out, x []T, rows int, rng *rand.Rand) {
	in, outDim := linearShape(n.cfg, p)
	n.ops.linearForward(out, x, l.w[p], l.bias[p], rows, in, outDim)
	lp := l.lora[p]
	if lp == nil {
		return
	}
	if len(c.u[p]) != rows*lp.r {
		c.u[p] = make([]T, rows*lp.r)
	}
	c.keep[p] = nil
	if rng != nil && n.dropout > 0 {
		if len(c.xd[p]) != rows*in {
			c.xd[p] = make([]T, rows*in)
		}
		keep := make([]T, rows*in)
		scale := T(1 / (1 - n.dropout))
		for i := range keep {
			if rng.Float64() >= n.dropout {
				keep[i] = scale
			}
		}
		c.keep[p] = keep
	}
	n.ops.loraForward(out, c.xd[p], c.u[p], x, c.keep[p], lp.a, lp.b, rows, in, outDim, lp.r, n.scaling)
}

// projectBackward adds the gradient of project's input into dx and of its
// LoRA pair into g (nil for an unadapted layer), given dout.
func (n *network[T]) projectBackward(l *trainLayer[T], c *layerCache[T], p int, dx, dout, x []T, rows int, g *loraPair[T]) {
	in, outDim := linearShape(n.cfg, p)
	n.ops.linearBackward(dx, dout, x, l.w[p], l.bias[p], rows, in, outDim)
	lp := l.lora[p]
	if lp == nil {
		return
	}
	du := make([]T, rows*lp.r)
	var dxd []T
	if c.keep[p] != nil {
		dxd = make([]T, rows*in)
	}
	n.ops.loraBackward(dx, g.a, g.b, du, dxd, dout, c.xd[p], c.u[p], x, c.keep[p], lp.a, lp.b, rows, in, outDim, lp.r, n.scaling)
}

// layerForward computes out, the layer's output [rows × hidden], from its
// input x and fills c. x and out must not overlap.
func (n *network[T]) layerForward(l *trainLayer[T], c *layerCache[T], out, x []T, lay layout, rope ropeTable, rng *rand.Rand) {
	cfg, o := n.cfg, n.ops
	rows, h, f := lay.rows, cfg.HiddenSize, cfg.IntermediateSize
	eps := cfg.RMSNormEps

	o.rmsNormForward(c.n1, c.r1, x, l.attnNorm, rows, h, eps)
	n.project(l, c, projQ, c.qRaw, c.n1, rows, rng)
	n.project(l, c, projK, c.kRaw, c.n1, rows, rng)
	n.project(l, c, projV, c.v, c.n1, rows, rng)
	if l.qNorm != nil {
		o.rmsNormForward(c.q, c.qr, c.qRaw, l.qNorm, rows*cfg.NumHeads, cfg.HeadDim, eps)
		o.rmsNormForward(c.k, c.kr, c.kRaw, l.kNorm, rows*cfg.NumKVHeads, cfg.HeadDim, eps)
	} else {
		copy(c.q, c.qRaw)
		copy(c.k, c.kRaw)
	}
	o.ropeForward(c.q, lay.positions, cfg.NumHeads, rope)
	o.ropeForward(c.k, lay.positions, cfg.NumKVHeads, rope)
	o.attentionForward(c.ctx, c.q, c.k, c.v, c.probs, lay, n.attentionShape())
	n.project(l, c, projO, c.attnOut, c.ctx, rows, rng)
	for i := range c.x1 {
		c.x1[i] = x[i] + c.attnOut[i]
	}

	o.rmsNormForward(c.n2, c.r2, c.x1, l.mlpNorm, rows, h, eps)
	n.project(l, c, projGate, c.gate, c.n2, rows, rng)
	n.project(l, c, projUp, c.up, c.n2, rows, rng)
	o.swigluForward(c.act, c.gate, c.up, rows, f)
	n.project(l, c, projDown, c.mlpOut, c.act, rows, rng)
	for i := range out[:rows*h] {
		out[i] = c.x1[i] + c.mlpOut[i]
	}
}

// layerBackward adds the gradient of the layer's input into dx, given dout
// for its output, the input x and the cache of layerForward on x. It adds
// the LoRA gradients into g, indexed like trainLayer.lora.
func (n *network[T]) layerBackward(l *trainLayer[T], c *layerCache[T], dx, dout, x []T, lay layout, rope ropeTable, g *[numLinear]*loraPair[T]) {
	cfg, o := n.cfg, n.ops
	rows, h, f := lay.rows, cfg.HiddenSize, cfg.IntermediateSize
	qDim, kvDim := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim

	// out = x1 + down(silu(gate(n2))·up(n2)), n2 = norm(x1).
	dx1 := make([]T, rows*h)
	copy(dx1, dout[:rows*h])
	dact := make([]T, rows*f)
	n.projectBackward(l, c, projDown, dact, dout, c.act, rows, g[projDown])
	dgate, dup := make([]T, rows*f), make([]T, rows*f)
	o.swigluBackward(dgate, dup, dact, c.gate, c.up, rows, f)
	dn2 := make([]T, rows*h)
	n.projectBackward(l, c, projGate, dn2, dgate, c.n2, rows, g[projGate])
	n.projectBackward(l, c, projUp, dn2, dup, c.n2, rows, g[projUp])
	o.rmsNormBackward(dx1, nil, dn2, c.x1, l.mlpNorm, c.r2, rows, h)

	// x1 = x + o(attention(rope(qknorm(q(n1))), ...)), n1 = norm(x).
	for i, v := range dx1 {
		dx[i] += v
	}
	dctx := make([]T, rows*qDim)
	n.projectBackward(l, c, projO, dctx, dx1, c.ctx, rows, g[projO])
	dq, dk, dv := make([]T, rows*qDim), make([]T, rows*kvDim), make([]T, rows*kvDim)
	o.attentionBackward(dq, dk, dv, dctx, c.q, c.k, c.v, c.probs, lay, n.attentionShape())
	o.ropeBackward(dq, lay.positions, cfg.NumHeads, rope)
	o.ropeBackward(dk, lay.positions, cfg.NumKVHeads, rope)
	if l.qNorm != nil {
		dqRaw, dkRaw := make([]T, rows*qDim), make([]T, rows*kvDim)
		o.rmsNormBackward(dqRaw, nil, dq, c.qRaw, l.qNorm, c.qr, rows*cfg.NumHeads, cfg.HeadDim)
		o.rmsNormBackward(dkRaw, nil, dk, c.kRaw, l.kNorm, c.kr, rows*cfg.NumKVHeads, cfg.HeadDim)
		dq, dk = dqRaw, dkRaw
	}
	dn1 := make([]T, rows*h)
	n.projectBackward(l, c, projQ, dn1, dq, c.n1, rows, g[projQ])
	n.projectBackward(l, c, projK, dn1, dk, c.n1, rows, g[projK])
	n.projectBackward(l, c, projV, dn1, dv, c.n1, rows, g[projV])
	o.rmsNormBackward(dx, nil, dn1, x, l.attnNorm, c.r1, rows, h)
}

func (n *network[T]) attentionShape() attentionShape {
	cfg := n.cfg
	return attentionShape{heads: cfg.NumHeads, kvHeads: cfg.NumKVHeads, headDim: cfg.HeadDim, window: cfg.SlidingWindow}
}

// layerRNG returns the dropout generator of layer i for a pass seeded with
// seed, so that the backward's recomputation draws the forward's masks.
func layerRNG(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(i)))
}
