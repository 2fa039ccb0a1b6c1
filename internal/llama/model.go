// Package llama runs Hugging Face Llama-family checkpoints in float32:
// llama (Llama 2, Llama 3.x, SmolLM, TinyLlama), mistral, qwen2 and qwen3.
//
// Load a model folder (config.json plus model.safetensors or a sharded
// index) and score token sequences:
//
//	m, err := llama.Load("path/to/model")
//	if err != nil { ... }
//	defer m.Close()
//	logits, err := m.Logits([]llama.Request{{Tokens: ids, LastOnly: true}})
//
// A batch of sequences of different lengths runs as one packed matrix of
// rows, with each sequence attending only to its own earlier positions, so
// results do not depend on the batch or on padding. Every matrix product
// goes through a compute.Backend.
//
// The golden tests compare against testdata/reference.py, an independent
// plain-torch implementation; run it with /usr/bin/python3 to regenerate
// the tiny models and golden values under testdata/.
package llama

import (
	"fmt"
	"path/filepath"

	"ipo/internal/compute"
	"ipo/internal/safetensors"
)

// TensorSource provides checkpoint tensors by their Hugging Face names,
// converted to float32 and checked against the expected shape. The model
// keeps the returned slices, so each call must return a fresh one, as
// *safetensors.Set does.
type TensorSource interface {
	Float32(name string, shape ...int) ([]float32, error)
}

// Model is a loaded Llama-family decoder with float32 weights. Its methods
// other than Close are safe for concurrent use because they only read the
// weights.
type Model struct {
	Config Config

	backend compute.Backend
	embed   []float32 // [vocab × hidden]
	layers  []layer
	norm    []float32 // [hidden]
	head    []float32 // [vocab × hidden], the same slice as embed when tied
	invFreq []float64 // [headDim/2], RoPE inverse frequencies after scaling
}

// layer contains one decoder layer's weights in the PyTorch Linear layout
// [out × in]. Bias and q/k norm slices are nil when the architecture has
// none.
type layer struct {
	attnNorm   []float32 // [hidden]
	wq, bq     []float32 // [heads·headDim × hidden], [heads·headDim]
	wk, bk     []float32 // [kvHeads·headDim × hidden], [kvHeads·headDim]
	wv, bv     []float32 // [kvHeads·headDim × hidden], [kvHeads·headDim]
	wo, bo     []float32 // [hidden × heads·headDim], [hidden]
	qNorm      []float32 // [headDim], qwen3
	kNorm      []float32 // [headDim], qwen3
	mlpNorm    []float32 // [hidden]
	wGate, bGt []float32 // [intermediate × hidden], [intermediate]
	wUp, bUp   []float32 // [intermediate × hidden], [intermediate]
	wDown, bDn []float32 // [hidden × intermediate], [hidden]
}

// Load reads dir/config.json and the safetensors weights of dir, and
// returns a model computing with compute.Default().
func Load(dir string) (*Model, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	if err := checkWeights(cfg, set, filepath.Join(dir, "config.json")); err != nil {
		return nil, err
	}

	m, err := New(cfg, set, compute.Default())
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	return m, nil
}

// New binds the weights of cfg's architecture, read from src by their
// checkpoint names. A *safetensors.Set may be closed afterwards because
// its Float32 returns copies.
func New(cfg Config, src TensorSource, backend compute.Backend) (*Model, error) {
	h := cfg.HiddenSize
	qDim := cfg.NumHeads * cfg.HeadDim
	kvDim := cfg.NumKVHeads * cfg.HeadDim
	f := cfg.IntermediateSize

	m := &Model{Config: cfg, backend: backend, invFreq: inverseFrequencies(cfg)}
	b := binder{src: src}
	m.embed = b.tensor("model.embed_tokens.weight", cfg.VocabSize, h)
	m.norm = b.tensor("model.norm.weight", h)
	if cfg.TieWordEmbeddings {
		m.head = m.embed
	} else {
		m.head = b.tensor("lm_head.weight", cfg.VocabSize, h)
	}

	qkvBias := cfg.AttentionBias
	oBias := cfg.AttentionBias && cfg.ModelType != "qwen2"
	m.layers = make([]layer, cfg.NumLayers)
	for i := range m.layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		l := &m.layers[i]
		l.attnNorm = b.tensor(p+"input_layernorm.weight", h)
		l.wq = b.tensor(p+"self_attn.q_proj.weight", qDim, h)
		l.wk = b.tensor(p+"self_attn.k_proj.weight", kvDim, h)
		l.wv = b.tensor(p+"self_attn.v_proj.weight", kvDim, h)
		l.wo = b.tensor(p+"self_attn.o_proj.weight", h, qDim)
		if qkvBias {
			l.bq = b.tensor(p+"self_attn.q_proj.bias", qDim)
			l.bk = b.tensor(p+"self_attn.k_proj.bias", kvDim)
			l.bv = b.tensor(p+"self_attn.v_proj.bias", kvDim)
		}
		if oBias {
			l.bo = b.tensor(p+"self_attn.o_proj.bias", h)
		}
		if cfg.ModelType == "qwen3" {
			l.qNorm = b.tensor(p+"self_attn.q_norm.weight", cfg.HeadDim)
			l.kNorm = b.tensor(p+"self_attn.k_norm.weight", cfg.HeadDim)
		}
		l.mlpNorm = b.tensor(p+"post_attention_layernorm.weight", h)
		l.wGate = b.tensor(p+"mlp.gate_proj.weight", f, h)
		l.wUp = b.tensor(p+"mlp.up_proj.weight", f, h)
		l.wDown = b.tensor(p+"mlp.down_proj.weight", h, f)
		if cfg.MLPBias {
			l.bGt = b.tensor(p+"mlp.gate_proj.bias", f)
			l.bUp = b.tensor(p+"mlp.up_proj.bias", f)
			l.bDn = b.tensor(p+"mlp.down_proj.bias", h)
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	return m, nil
}

// Close releases the model's weights, after which its methods return an
// error. The weights are plain Go slices, so Close only drops them. It
// exists so that memory-mapped weights can be added later.
func (m *Model) Close() error {
	m.embed, m.head, m.norm, m.layers = nil, nil, nil, nil
	return nil
}

// binder reads tensors until the first error, which it keeps.
type binder struct {
	src TensorSource
	err error
}

func (b *binder) tensor(name string, shape ...int) []float32 {
	if b.err != nil {
		return nil
	}
	data, err := b.src.Float32(name, shape...)
	if err != nil {
		b.err = err
		return nil
	}
	want := 1
	for _, d := range shape {
		want *= d
	}
	if len(data) != want {
		b.err = fmt.Errorf("tensor %q has %d values, want %d for shape %v", name, len(data), want, shape)
		return nil
	}
	return data
}
