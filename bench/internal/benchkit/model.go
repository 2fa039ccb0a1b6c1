// Package benchkit holds what the benchmark programs share: random-weight
// models with the shapes of real checkpoints, so ipo is measured on
// realistic sizes without downloading weights, and the process CPU time.
package benchkit

import (
	"math"
	"math/rand/v2"
	"strings"

	"ipo/internal/compute"
	"ipo/internal/llama"
)

// SmolLM2Config returns SmolLM2-135M's architecture (hidden 576, 9 heads,
// 3 KV heads, MLP 1536, vocab 49152, tied embeddings) with the given
// number of layers. The real model has 30.
func SmolLM2Config(layers int) llama.Config {
	return llama.Config{
		ModelType: "llama", HiddenSize: 576, IntermediateSize: 1536, NumLayers: layers,
		NumHeads: 9, NumKVHeads: 3, HeadDim: 64, VocabSize: 49152, MaxPositions: 8192,
		RMSNormEps: 1e-5, RopeTheta: 100000, TieWordEmbeddings: true,
	}
}

// Weights generates each tensor when it is requested: norm weights near
// 1, the others uniform in ±1/sqrt(columns), the bound of PyTorch's
// default Linear initialisation.
type Weights struct {
	RNG *rand.Rand
}

// Float32 implements llama.TensorSource.
func (w Weights) Float32(name string, shape ...int) ([]float32, error) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := make([]float32, n)
	if strings.HasSuffix(name, "norm.weight") {
		for i := range out {
			out[i] = 1 + 0.1*float32(w.RNG.NormFloat64())
		}
		return out, nil
	}
	bound := float32(1 / math.Sqrt(float64(shape[len(shape)-1])))
	for i := range out {
		out[i] = bound * (2*w.RNG.Float32() - 1)
	}
	return out, nil
}

// New returns a model of cfg with random weights drawn from seed.
func New(cfg llama.Config, seed uint64) (*llama.Model, error) {
	return llama.New(cfg, Weights{RNG: rand.New(rand.NewPCG(seed, 2))}, compute.Default())
}
