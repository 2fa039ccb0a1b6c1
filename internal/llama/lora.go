package llama

import (
	"fmt"
	"slices"

	"ipo/internal/peft"
)

// loraPair is the trainable A [r × in] and B [out × r] of one adapted
// linear layer. In float32 they share the adapter's slices, so an optimizer
// step on the adapter is seen by the next pass.
type loraPair[T float] struct {
	r, in, out int
	a, b       []T
}

// trainLayer contains one decoder layer's frozen weights in type T and the
// LoRA pairs of its adapted projections, indexed like peft.LinearModules
// (nil where the module is not adapted).
type trainLayer[T float] struct {
	attnNorm, mlpNorm, qNorm, kNorm []T
	w, bias                         [numLinear][]T
	lora                            [numLinear]*loraPair[T]
}

// The linear layers of a decoder layer, in the order of peft.LinearModules.
const (
	projQ = iota
	projK
	projV
	projO
	projGate
	projUp
	projDown
	numLinear
)

// network is a model with an adapter in element type T: the weights of m
// converted (shared when T is float32) and the adapter's pairs.
type network[T float] struct {
	cfg     Config
	ops     ops[T]
	embed   []T
	norm    []T
	head    []T
	layers  []trainLayer[T]
	scaling T
	dropout float64
	invFreq []float64
}

// convert returns src as []T, the same slice when T is float32.
func convert[T float](src []float32) []T {
	if src == nil {
		return nil
	}
	if same, ok := any(src).([]T); ok {
		return same
	}
	out := make([]T, len(src))
	for i, v := range src {
		out[i] = T(v)
	}
	return out
}

// adapterDims returns the peft.Dims of the model's configuration.
func adapterDims(cfg Config) peft.Dims {
	return peft.Dims{
		Layers:       cfg.NumLayers,
		Hidden:       cfg.HiddenSize,
		Intermediate: cfg.IntermediateSize,
		Heads:        cfg.NumHeads,
		KVHeads:      cfg.NumKVHeads,
		HeadDim:      cfg.HeadDim,
	}
}

// AdapterDims returns the dimensions peft.New and peft.Load need to shape
// an adapter for m.
func (m *Model) AdapterDims() peft.Dims {
	return adapterDims(m.Config)
}

// checkAdapter verifies that every pair of ad fits m's linear layers.
func (m *Model) checkAdapter(ad *peft.Adapter) error {
	if ad == nil {
		return fmt.Errorf("lora: adapter is nil; create one with peft.New or peft.Load")
	}
	dims := m.AdapterDims()
	for k, l := range ad.Layers {
		if k.Layer < 0 || k.Layer >= m.Config.NumLayers {
			return fmt.Errorf("lora: %s: layer %d out of range for a model of %d layers", k, k.Layer, m.Config.NumLayers)
		}
		if !slices.Contains(peft.LinearModules, k.Module) {
			return fmt.Errorf("lora: %s: module %q is not a linear layer of the decoder (want one of %v)", k, k.Module, peft.LinearModules)
		}
		out, in, err := dims.Shape(k.Module)
		if err != nil {
			return fmt.Errorf("lora: %s: %w", k, err)
		}
		if l.Out != out || l.In != in || l.R <= 0 || len(l.A) != l.R*in || len(l.B) != out*l.R {
			return fmt.Errorf("lora: %s: A has %d values and B %d (r %d, %d×%d), want r×%d and %d×r for this model",
				k, len(l.A), len(l.B), l.R, l.Out, l.In, in, out)
		}
	}
	if d := ad.Config.LoraDropout; d < 0 || d >= 1 {
		return fmt.Errorf("lora: lora_dropout %v out of range [0, 1)", d)
	}
	return nil
}

// newNetwork binds m's weights and ad's pairs in type T. ad may be nil for
// the base model alone.
func newNetwork[T float](m *Model, ad *peft.Adapter) (*network[T], error) {
	if m.embed == nil {
		return nil, fmt.Errorf("llama: model is closed")
	}
	n := &network[T]{
		cfg:     m.Config,
		ops:     ops[T]{be: m.backend},
		embed:   convert[T](m.embed),
		norm:    convert[T](m.norm),
		invFreq: m.invFreq,
		layers:  make([]trainLayer[T], len(m.layers)),
	}
	n.head = n.embed
	if !m.Config.TieWordEmbeddings {
		n.head = convert[T](m.head)
	}
	for i := range m.layers {
		l, t := &m.layers[i], &n.layers[i]
		t.attnNorm, t.mlpNorm = convert[T](l.attnNorm), convert[T](l.mlpNorm)
		t.qNorm, t.kNorm = convert[T](l.qNorm), convert[T](l.kNorm)
		weights := [numLinear][]float32{l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown}
		biases := [numLinear][]float32{l.bq, l.bk, l.bv, l.bo, l.bGt, l.bUp, l.bDn}
		for p := range numLinear {
			t.w[p], t.bias[p] = convert[T](weights[p]), convert[T](biases[p])
		}
	}
	if ad == nil {
		return n, nil
	}

	if err := m.checkAdapter(ad); err != nil {
		return nil, err
	}
	n.scaling = T(ad.Scaling())
	n.dropout = ad.Config.LoraDropout
	for k, l := range ad.Layers {
		p := slices.Index(peft.LinearModules, k.Module)
		n.layers[k.Layer].lora[p] = &loraPair[T]{r: l.R, in: l.In, out: l.Out, a: convert[T](l.A), b: convert[T](l.B)}
	}
	return n, nil
}

// Merge returns a copy of m whose adapted linear weights are
// W + scaling·B·A, computed by peft.Merge, so that its logits equal those of
// m with ad applied (without dropout). m is unchanged: the copy shares
// every weight that ad does not adapt.
func (m *Model) Merge(ad *peft.Adapter) (*Model, error) {
	if m.embed == nil {
		return nil, fmt.Errorf("llama: model is closed")
	}
	if err := m.checkAdapter(ad); err != nil {
		return nil, err
	}
	merged := *m
	merged.layers = slices.Clone(m.layers)
	for _, k := range ad.Keys() {
		l := &merged.layers[k.Layer]
		var w *[]float32
		switch k.Module {
		case "q_proj":
			w = &l.wq
		case "k_proj":
			w = &l.wk
		case "v_proj":
			w = &l.wv
		case "o_proj":
			w = &l.wo
		case "gate_proj":
			w = &l.wGate
		case "up_proj":
			w = &l.wUp
		case "down_proj":
			w = &l.wDown
		}
		*w = slices.Clone(*w)
		if err := peft.Merge(*w, ad.Layers[k], ad.Scaling()); err != nil {
			return nil, fmt.Errorf("merge %s: %w", peft.WeightName(k), err)
		}
	}
	return &merged, nil
}
