package llama

import (
	"fmt"
	"math"

	"ipo/internal/compute"
)

// Prefill runs the tokens of a new sequence through the model, stores their
// keys and values in an empty slot of c and returns the logits [vocab] of
// the last token. It computes what Logits computes for the same tokens, so
// the logits are the same.
func (m *Model) Prefill(c *KVCache, slot int, tokens []int) ([]float32, error) {
	if err := m.checkCache(c); err != nil {
		return nil, err
	}
	if err := c.checkSlot(slot, len(tokens)); err != nil {
		return nil, err
	}
	if c.lengths[slot] != 0 {
		return nil, fmt.Errorf("prefill into KV cache slot %d: the slot contains %d positions, so reset it first", slot, c.lengths[slot])
	}
	batch := [][]int{tokens}
	lay, err := m.newLayout(batch)
	if err != nil {
		return nil, err
	}

	cfg := m.Config
	h := cfg.HiddenSize
	rows := lay.rows
	act := newActivations(cfg, rows)
	for r, id := range tokens {
		copy(act.x[r*h:(r+1)*h], m.embed[id*h:(id+1)*h])
	}

	// The layer writes its keys and values straight into the slot, whose
	// first rows are laid out as the packed k and v of one sequence.
	for i := range m.layers {
		act.k = c.slotRows(c.keys[i], slot)[:rows*c.kvDim]
		act.v = c.slotRows(c.values[i], slot)[:rows*c.kvDim]
		m.layerForward(&m.layers[i], act, lay, c.rope)
	}
	c.lengths[slot] = rows

	return m.headForward(act.x, []int{rows - 1}), nil
}

// Decode appends one token to each of several sequences held in c, in one
// batched step: tokens[i] goes to slots[i], at the position after the ones
// the slot holds. It returns the logits [len(slots)][vocab] of the new
// tokens. A row's logits depend only on its own slot and token, bit for
// bit, not on the other rows or their number, because every matrix product
// of the step takes the per-row dot-product path of the compute backend.
func (m *Model) Decode(c *KVCache, slots, tokens []int) ([][]float32, error) {
	if err := m.checkCache(c); err != nil {
		return nil, err
	}
	if len(slots) != len(tokens) {
		return nil, fmt.Errorf("decode: %d slots but %d tokens", len(slots), len(tokens))
	}
	cfg := m.Config
	seen := make(map[int]bool, len(slots))
	positions := make([]int, len(slots))
	for i, slot := range slots {
		if err := c.checkSlot(slot, 1); err != nil {
			return nil, err
		}
		if seen[slot] {
			return nil, fmt.Errorf("decode: KV cache slot %d appears twice in one step", slot)
		}
		seen[slot] = true
		if id := tokens[i]; id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("decode: token id %d out of range [0, %d)", id, cfg.VocabSize)
		}
		positions[i] = c.lengths[slot]
	}
	if len(slots) == 0 {
		return nil, nil
	}

	h := cfg.HiddenSize
	rows := len(slots)
	act := newActivations(cfg, rows)
	for r, id := range tokens {
		copy(act.x[r*h:(r+1)*h], m.embed[id*h:(id+1)*h])
	}
	for i := range m.layers {
		m.decodeLayer(i, c, act, slots, positions)
	}
	for _, slot := range slots {
		c.lengths[slot]++
	}

	normed := act.normed
	rmsNormForward(normed, act.x, m.norm, rows, h, cfg.RMSNormEps)
	logits := make([]float32, rows*cfg.VocabSize)
	linearRows(m.backend, logits, normed, m.head, nil, rows, h, cfg.VocabSize, 0)

	out := make([][]float32, rows)
	for r := range out {
		out[r] = logits[r*cfg.VocabSize : (r+1)*cfg.VocabSize]
	}
	return out, nil
}

// checkCache rejects a closed model and a cache made by another model.
func (m *Model) checkCache(c *KVCache) error {
	if m.embed == nil {
		return fmt.Errorf("llama: model is closed")
	}
	if c == nil || c.model != m {
		return fmt.Errorf("KV cache was not made by this model: use Model.NewKVCache")
	}
	return nil
}

// decodeLayer runs decoder layer i on one new row per slot, as
// layerForward does for packed sequences, and stores the row's key and
// value at its position in the slot.
func (m *Model) decodeLayer(i int, c *KVCache, act *activations, slots, positions []int) {
	cfg := m.Config
	be := m.backend
	l := &m.layers[i]
	rows, h, f := len(slots), cfg.HiddenSize, cfg.IntermediateSize
	qDim := cfg.NumHeads * cfg.HeadDim
	kvDim := c.kvDim

	rmsNormForward(act.normed, act.x, l.attnNorm, rows, h, cfg.RMSNormEps)
	linearRows(be, act.q, act.normed, l.wq, l.bq, rows, h, qDim, 0)
	linearRows(be, act.k, act.normed, l.wk, l.bk, rows, h, kvDim, 0)
	linearRows(be, act.v, act.normed, l.wv, l.bv, rows, h, kvDim, 0)
	if l.qNorm != nil {
		rmsNormForward(act.q, act.q, l.qNorm, rows*cfg.NumHeads, cfg.HeadDim, cfg.RMSNormEps)
		rmsNormForward(act.k, act.k, l.kNorm, rows*cfg.NumKVHeads, cfg.HeadDim, cfg.RMSNormEps)
	}
	ropeForward(act.q, positions, cfg.NumHeads, c.rope)
	ropeForward(act.k, positions, cfg.NumKVHeads, c.rope)

	for r, slot := range slots {
		at := positions[r] * kvDim
		copy(c.slotRows(c.keys[i], slot)[at:at+kvDim], act.k[r*kvDim:(r+1)*kvDim])
		copy(c.slotRows(c.values[i], slot)[at:at+kvDim], act.v[r*kvDim:(r+1)*kvDim])
	}
	m.cachedAttention(i, c, act, slots, positions)
	linearRows(be, act.x, act.ctx, l.wo, l.bo, rows, qDim, h, 1)

	rmsNormForward(act.normed, act.x, l.mlpNorm, rows, h, cfg.RMSNormEps)
	linearRows(be, act.gate, act.normed, l.wGate, l.bGt, rows, h, f, 0)
	linearRows(be, act.up, act.normed, l.wUp, l.bUp, rows, h, f, 0)
	swigluForward(act.gate, act.up, rows, f)
	linearRows(be, act.x, act.gate, l.wDown, l.bDn, rows, f, h, 1)
}

// cachedAttention computes act.ctx for one query row per slot over the keys
// and values of positions [0, position] of its slot (or the last window
// positions), with grouped-query heads as in attentionForward.
func (m *Model) cachedAttention(i int, c *KVCache, act *activations, slots, positions []int) {
	cfg := m.Config
	heads, headDim := cfg.NumHeads, cfg.HeadDim
	group := heads / cfg.NumKVHeads
	qDim, kvDim := heads*headDim, c.kvDim
	scale := float32(1 / math.Sqrt(float64(headDim)))
	tasks := len(slots) * heads

	compute.Parallel(tasks, func(lo, hi int) {
		var scores []float32
		for task := lo; task < hi; task++ {
			r, head := task/heads, task%heads
			pos := positions[r]
			first := 0
			if cfg.SlidingWindow > 0 {
				first = max(0, pos-cfg.SlidingWindow+1)
			}
			keys := c.slotRows(c.keys[i], slots[r])
			values := c.slotRows(c.values[i], slots[r])
			offset := (head / group) * headDim
			q := act.q[r*qDim+head*headDim : r*qDim+(head+1)*headDim]

			n := pos + 1 - first
			if cap(scores) < n {
				scores = make([]float32, n)
			}
			scores = scores[:n]
			for j := range n {
				at := (first+j)*kvDim + offset
				scores[j] = scale * compute.Dot(q, keys[at:at+headDim])
			}
			softmaxRow(scores, 0, n)

			out := act.ctx[r*qDim+head*headDim : r*qDim+(head+1)*headDim]
			clear(out)
			// A plain loop, because compute.Axpy costs an allocation per
			// call and a head's row is short.
			for j, p := range scores {
				at := (first+j)*kvDim + offset
				for d, v := range values[at : at+headDim] {
					out[d] += p * v
				}
			}
		}
	})
}

// linearRows is linearForward in chunks of at most compute.GemvMaxRows
// rows, so that every row takes the backend's dot-product path and its
// result does not depend on how many rows are decoded together.
func linearRows(be compute.Backend, out, x, w, bias []float32, rows, in, outDim int, beta float32) {
	for r0 := 0; r0 < rows; r0 += compute.GemvMaxRows {
		n := min(compute.GemvMaxRows, rows-r0)
		linearForward(be, out[r0*outDim:(r0+n)*outDim], x[r0*in:(r0+n)*in], w, bias, n, in, outDim, beta)
	}
}
