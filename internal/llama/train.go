package llama

import (
	"fmt"
	"math/rand/v2"

	"ipo/internal/peft"
)

// TrainSequence is one token sequence of a training batch and the tokens
// whose log-probs its sequence log-prob sums.
type TrainSequence struct {
	Tokens []int

	// Targets has one entry per token. Targets[i] true adds
	// log p(Tokens[i] | Tokens[:i]) to the sequence log-prob, so
	// Targets[0] must be false.
	Targets []bool
}

// headChunk is the number of rows whose vocabulary-wide logits the output
// head computes at once, which bounds that buffer to headChunk × vocab.
const headChunk = 64

// TrainPass is the forward pass of a batch with a LoRA adapter, kept for
// its backward: the input of every decoder layer and the final residual
// stream. Each layer's other activations are recomputed in Backward.
type TrainPass struct {
	p *pass[float32]
}

// pass is a training forward in element type T.
type pass[T float] struct {
	net     *network[T]
	tokens  []int // all sequences, packed
	targets []headTarget
	lay     layout
	rope    ropeTable
	inputs  [][]T // inputs[i] is layer i's input; inputs[L] is the final residual stream
	seed    uint64
	dropout bool
	logps   []float64
}

// headTarget is one summed token: the packed row whose logits predict it.
type headTarget struct {
	seq, row, token int
}

// TrainForward runs the batch through m with ad applied and returns the
// pass, whose LogProbs are the sequence log-probs. rng draws the LoRA
// dropout masks; a nil rng disables dropout (evaluation mode).
func (m *Model) TrainForward(ad *peft.Adapter, batch []TrainSequence, rng *rand.Rand) (*TrainPass, error) {
	net, err := newNetwork[float32](m, ad)
	if err != nil {
		return nil, err
	}
	p, err := newPass(m, net, batch, rng)
	if err != nil {
		return nil, err
	}
	return &TrainPass{p: p}, nil
}

// LogProbs returns each sequence's sum of target-token log-probs.
func (t *TrainPass) LogProbs() []float64 {
	return t.p.logps
}

// Backward adds to grads the gradient of Σ dlogp[s]·logp[s] with respect
// to every LoRA A and B, where logp[s] is LogProbs()[s]. dlogp[s] is the
// loss's derivative with respect to sequence s's summed log-prob (for a
// length-normalised loss, multiply by the token gradient of
// train.SequenceLogp). grads must have the adapter's keys and shapes, as
// NewLoraGrads returns; adding lets micro-batches accumulate.
func (t *TrainPass) Backward(dlogp []float64, grads map[peft.Key]*peft.Lora) error {
	p := t.p
	if len(dlogp) != len(p.logps) {
		return fmt.Errorf("backward: %d log-prob gradients for %d sequences; pass one per sequence", len(dlogp), len(p.logps))
	}
	g := make([][numLinear]*loraPair[float32], len(p.net.layers))
	for i, l := range p.net.layers {
		for j, lp := range l.lora {
			if lp == nil {
				continue
			}
			k := peft.Key{Layer: i, Module: peft.LinearModules[j]}
			gl, ok := grads[k]
			if !ok || len(gl.A) != len(lp.a) || len(gl.B) != len(lp.b) {
				return fmt.Errorf("backward: gradient of %s missing or misshaped; allocate grads with NewLoraGrads", k)
			}
			g[i][j] = &loraPair[float32]{r: lp.r, in: lp.in, out: lp.out, a: gl.A, b: gl.B}
		}
	}
	p.backward(dlogp, g)
	return nil
}

// NewLoraGrads returns zero gradients with the keys and shapes of ad.
func NewLoraGrads(ad *peft.Adapter) map[peft.Key]*peft.Lora {
	grads := make(map[peft.Key]*peft.Lora, len(ad.Layers))
	for k, l := range ad.Layers {
		grads[k] = &peft.Lora{R: l.R, In: l.In, Out: l.Out, A: make([]float32, len(l.A)), B: make([]float32, len(l.B))}
	}
	return grads
}

// SequenceLogProbGrad runs the forward pass, calls lossGrad with the
// sequence log-probs to get the loss's gradient with respect to each, and
// adds the LoRA gradients into grads. It returns the log-probs.
func (m *Model) SequenceLogProbGrad(ad *peft.Adapter, batch []TrainSequence, rng *rand.Rand,
	lossGrad func(logps []float64) ([]float64, error), grads map[peft.Key]*peft.Lora) ([]float64, error) {
	t, err := m.TrainForward(ad, batch, rng)
	if err != nil {
		return nil, err
	}
	dlogp, err := lossGrad(t.LogProbs())
	if err != nil {
		return nil, err
	}
	if err := t.Backward(dlogp, grads); err != nil {
		return nil, err
	}
	return t.LogProbs(), nil
}

// newPass validates the batch and runs the training forward.
func newPass[T float](m *Model, net *network[T], batch []TrainSequence, rng *rand.Rand) (*pass[T], error) {
	tokens := make([][]int, len(batch))
	for s, seq := range batch {
		if len(seq.Targets) != len(seq.Tokens) {
			return nil, fmt.Errorf("sequence %d: %d targets for %d tokens; give one target flag per token", s, len(seq.Targets), len(seq.Tokens))
		}
		if len(seq.Targets) > 0 && seq.Targets[0] {
			return nil, fmt.Errorf("sequence %d: the first token has no prefix to predict it from; set Targets[0] to false", s)
		}
		tokens[s] = seq.Tokens
	}
	lay, err := m.newLayout(tokens)
	if err != nil {
		return nil, err
	}

	p := &pass[T]{net: net, lay: lay, rope: newRopeTable(net.invFreq, lay.maxLength)}
	for s, seq := range batch {
		p.tokens = append(p.tokens, seq.Tokens...)
		for i, on := range seq.Targets {
			if on {
				p.targets = append(p.targets, headTarget{seq: s, row: lay.starts[s] + i - 1, token: seq.Tokens[i]})
			}
		}
	}
	if rng != nil && net.dropout > 0 {
		p.dropout = true
		p.seed = rng.Uint64()
	}
	p.forward(len(batch))
	return p, nil
}

// layerRNG returns layer i's dropout generator, or nil without dropout.
func (p *pass[T]) layerRNG(i int) *rand.Rand {
	if !p.dropout {
		return nil
	}
	return layerRNG(p.seed, i)
}

func (p *pass[T]) forward(sequences int) {
	n, cfg := p.net, p.net.cfg
	h := cfg.HiddenSize
	x := make([]T, p.lay.rows*h)
	n.ops.embeddingForward(x, p.tokens, n.embed, h)

	c := newLayerCache[T](cfg, p.lay)
	p.inputs = append(p.inputs, x)
	for i := range n.layers {
		out := make([]T, p.lay.rows*h)
		n.layerForward(&n.layers[i], c, out, x, p.lay, p.rope, p.layerRNG(i))
		p.inputs = append(p.inputs, out)
		x = out
	}

	p.logps = make([]float64, sequences)
	rowLogps := make([]float64, headChunk)
	p.headChunks(func(chunk []headTarget, logits, _, _ []T) {
		vocab := cfg.VocabSize
		parallelRows(len(chunk), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				rowLogps[i] = logSoftmaxGatherForward(logits[i*vocab:(i+1)*vocab], chunk[i].token)
			}
		})
		for i, t := range chunk {
			p.logps[t.seq] += rowLogps[i]
		}
	})
}

// headChunks computes the final norm and the logits of the target rows,
// headChunk rows at a time, and calls fn with each chunk's targets, logits
// [len(chunk) × vocab], the gathered residual rows and their rstd.
func (p *pass[T]) headChunks(fn func(chunk []headTarget, logits, selected, rstd []T)) {
	n, cfg := p.net, p.net.cfg
	h, vocab := cfg.HiddenSize, cfg.VocabSize
	final := p.inputs[len(p.inputs)-1]
	selected := make([]T, headChunk*h)
	normed := make([]T, headChunk*h)
	rstd := make([]T, headChunk)
	logits := make([]T, headChunk*vocab)
	for lo := 0; lo < len(p.targets); lo += headChunk {
		chunk := p.targets[lo:min(lo+headChunk, len(p.targets))]
		rows := len(chunk)
		for i, t := range chunk {
			copy(selected[i*h:(i+1)*h], final[t.row*h:(t.row+1)*h])
		}
		n.ops.rmsNormForward(normed, rstd, selected, n.norm, rows, h, cfg.RMSNormEps)
		n.ops.linearForward(logits, normed, n.head, nil, rows, h, vocab)
		fn(chunk, logits[:rows*vocab], selected[:rows*h], rstd[:rows])
	}
}

// backward adds the LoRA gradients of Σ dlogp[s]·logps[s] into g.
func (p *pass[T]) backward(dlogp []float64, g [][numLinear]*loraPair[T]) {
	n, cfg := p.net, p.net.cfg
	h, vocab := cfg.HiddenSize, cfg.VocabSize

	// The head: logp = log_softmax(norm(x)·headᵀ)[token].
	dx := make([]T, p.lay.rows*h)
	dlogits := make([]T, headChunk*vocab)
	dnormed := make([]T, headChunk*h)
	dselected := make([]T, headChunk*h)
	p.headChunks(func(chunk []headTarget, logits, selected, rstd []T) {
		rows := len(chunk)
		parallelRows(rows, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				t := chunk[i]
				logSoftmaxGatherBackward(dlogits[i*vocab:(i+1)*vocab], dlogp[t.seq], logits[i*vocab:(i+1)*vocab], t.token)
			}
		})
		clear(dnormed)
		clear(dselected)
		n.ops.linearBackward(dnormed, dlogits, nil, n.head, nil, rows, h, vocab)
		n.ops.rmsNormBackward(dselected, nil, dnormed, selected, n.norm, rstd, rows, h)
		for i, t := range chunk {
			dst := dx[t.row*h : (t.row+1)*h]
			for j, v := range dselected[i*h : (i+1)*h] {
				dst[j] += v
			}
		}
	})

	// The layers in reverse, each recomputed from its saved input.
	c := newLayerCache[T](cfg, p.lay)
	scratch := make([]T, p.lay.rows*h)
	for i := len(n.layers) - 1; i >= 0; i-- {
		l := &n.layers[i]
		n.layerForward(l, c, scratch, p.inputs[i], p.lay, p.rope, p.layerRNG(i))
		din := make([]T, p.lay.rows*h)
		n.layerBackward(l, c, din, dx, p.inputs[i], p.lay, p.rope, &g[i])
		dx = din
	}
}
