package llama

import (
	"errors"
	"fmt"

	"ipo/internal/compute"
)

// layout places the sequences of a batch one after another as rows of a
// packed matrix: sequence s occupies rows [starts[s], starts[s]+lengths[s]).
type layout struct {
	starts    []int
	lengths   []int
	positions []int // position of each row within its sequence
	rows      int
	maxLength int
}

// newLayout validates the token sequences of a batch and packs them.
func (m *Model) newLayout(batch [][]int) (layout, error) {
	if m.embed == nil {
		return layout{}, errors.New("llama: model is closed")
	}
	lay := layout{starts: make([]int, len(batch)), lengths: make([]int, len(batch))}
	for s, tokens := range batch {
		if len(tokens) == 0 {
			return layout{}, fmt.Errorf("sequence %d is empty: want at least one token", s)
		}
		if len(tokens) > m.Config.MaxPositions {
			return layout{}, fmt.Errorf("sequence %d has %d tokens, more than max_position_embeddings %d",
				s, len(tokens), m.Config.MaxPositions)
		}
		for i, id := range tokens {
			if id < 0 || id >= m.Config.VocabSize {
				return layout{}, fmt.Errorf("sequence %d position %d: token id %d out of range [0, %d)",
					s, i, id, m.Config.VocabSize)
			}
		}
		lay.starts[s] = lay.rows
		lay.lengths[s] = len(tokens)
		lay.rows += len(tokens)
		lay.maxLength = max(lay.maxLength, len(tokens))
	}
	lay.positions = make([]int, 0, lay.rows)
	for _, length := range lay.lengths {
		for p := range length {
			lay.positions = append(lay.positions, p)
		}
	}
	return lay, nil
}

// activations are the buffers of one forward pass over rows packed rows.
type activations struct {
	x      []float32 // [rows × hidden], the residual stream
	normed []float32 // [rows × hidden]
	q      []float32 // [rows × heads·headDim]
	k, v   []float32 // [rows × kvHeads·headDim]
	ctx    []float32 // [rows × heads·headDim]
	gate   []float32 // [rows × intermediate]
	up     []float32 // [rows × intermediate]
}

func newActivations(cfg Config, rows int) *activations {
	qDim := cfg.NumHeads * cfg.HeadDim
	kvDim := cfg.NumKVHeads * cfg.HeadDim
	return &activations{
		x:      make([]float32, rows*cfg.HiddenSize),
		normed: make([]float32, rows*cfg.HiddenSize),
		q:      make([]float32, rows*qDim),
		k:      make([]float32, rows*kvDim),
		v:      make([]float32, rows*kvDim),
		ctx:    make([]float32, rows*qDim),
		gate:   make([]float32, rows*cfg.IntermediateSize),
		up:     make([]float32, rows*cfg.IntermediateSize),
	}
}

// hiddenStates runs the embedding and every decoder layer over the packed
// batch and returns the residual stream [rows × hidden] before the final
// norm.
func (m *Model) hiddenStates(batch [][]int, lay layout) []float32 {
	cfg := m.Config
	h := cfg.HiddenSize
	act := newActivations(cfg, lay.rows)

	row := 0
	for _, tokens := range batch {
		for _, id := range tokens {
			copy(act.x[row*h:(row+1)*h], m.embed[id*h:(id+1)*h])
			row++
		}
	}

	rope := newRopeTable(m.invFreq, lay.maxLength)
	for i := range m.layers {
		m.layerForward(&m.layers[i], act, lay, rope)
	}
	return act.x
}

// layerForward runs one pre-norm decoder layer on act.x in place:
// x += o(attention(norm(x))), then x += down(silu(gate(norm(x)))·up(norm(x))).
func (m *Model) layerForward(l *layer, act *activations, lay layout, rope ropeTable) {
	cfg := m.Config
	be := m.backend
	rows, h, f := lay.rows, cfg.HiddenSize, cfg.IntermediateSize
	qDim := cfg.NumHeads * cfg.HeadDim
	kvDim := cfg.NumKVHeads * cfg.HeadDim

	rmsNormForward(act.normed, act.x, l.attnNorm, rows, h, cfg.RMSNormEps)
	linearForward(be, act.q, act.normed, l.wq, l.bq, rows, h, qDim, 0)
	linearForward(be, act.k, act.normed, l.wk, l.bk, rows, h, kvDim, 0)
	linearForward(be, act.v, act.normed, l.wv, l.bv, rows, h, kvDim, 0)

	if l.qNorm != nil {
		rmsNormForward(act.q, act.q, l.qNorm, rows*cfg.NumHeads, cfg.HeadDim, cfg.RMSNormEps)
		rmsNormForward(act.k, act.k, l.kNorm, rows*cfg.NumKVHeads, cfg.HeadDim, cfg.RMSNormEps)
	}
	ropeForward(act.q, lay.positions, cfg.NumHeads, rope)
	ropeForward(act.k, lay.positions, cfg.NumKVHeads, rope)

	shape := attentionShape{heads: cfg.NumHeads, kvHeads: cfg.NumKVHeads, headDim: cfg.HeadDim, window: cfg.SlidingWindow}
	attentionForward(be, act.ctx, act.q, act.k, act.v, lay, shape)
	linearForward(be, act.x, act.ctx, l.wo, l.bo, rows, qDim, h, 1)

	rmsNormForward(act.normed, act.x, l.mlpNorm, rows, h, cfg.RMSNormEps)
	linearForward(be, act.gate, act.normed, l.wGate, l.bGt, rows, h, f, 0)
	linearForward(be, act.up, act.normed, l.wUp, l.bUp, rows, h, f, 0)
	swigluForward(act.gate, act.up, rows, f)
	linearForward(be, act.x, act.gate, l.wDown, l.bDn, rows, f, h, 1)
}

// headForward computes the logits [len(rows) × vocab] of the given packed
// rows of the residual stream x: the final norm, then the output head.
func (m *Model) headForward(x []float32, rows []int) []float32 {
	h, vocab := m.Config.HiddenSize, m.Config.VocabSize

	// A backend may take a dot-product path for a few rows, which sums in
	// another order than its blocked path. Padding with zero rows past
	// that size keeps every row on the blocked path, so the last-position
	// logits of a sequence do not depend on how many share its batch.
	padded := max(len(rows), compute.GemvMaxRows+1)
	selected := make([]float32, padded*h)
	for i, r := range rows {
		copy(selected[i*h:(i+1)*h], x[r*h:(r+1)*h])
	}
	rmsNormForward(selected, selected, m.norm, len(rows), h, m.Config.RMSNormEps)

	logits := make([]float32, padded*vocab)
	linearForward(m.backend, logits, selected, m.head, nil, padded, h, vocab, 0)
	return logits[:len(rows)*vocab]
}
