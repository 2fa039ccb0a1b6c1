package llama

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"ipo/internal/compute"
	"ipo/internal/peft"
)

// randomSource returns random tensors: norm weights near 1, the others
// uniform in ±1/sqrt(columns).
type randomSource struct {
	rng *rand.Rand
}

func (r randomSource) Float32(name string, shape ...int) ([]float32, error) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := make([]float32, n)
	if strings.HasSuffix(name, "norm.weight") {
		for i := range out {
			out[i] = 1 + 0.1*float32(r.rng.NormFloat64())
		}
		return out, nil
	}
	bound := 1 / math.Sqrt(float64(shape[len(shape)-1]))
	for i := range out {
		out[i] = float32((2*r.rng.Float64() - 1) * bound)
	}
	return out, nil
}

// benchTrainModel returns a random model with SmolLM2-135M's layer shapes
// (hidden 576, 9 heads, 3 KV heads, MLP 1536, vocab 49152, tied) and 4
// layers. It also returns an r 16 all-linear adapter and a batch of 4
// sequences of 256 tokens whose last 128 tokens are targets.
func benchTrainModel(b *testing.B) (*Model, *peft.Adapter, []TrainSequence) {
	cfg := Config{
		ModelType: "llama", HiddenSize: 576, IntermediateSize: 1536, NumLayers: 4,
		NumHeads: 9, NumKVHeads: 3, HeadDim: 64, VocabSize: 49152, MaxPositions: 8192,
		RMSNormEps: 1e-5, RopeTheta: 100000, TieWordEmbeddings: true,
	}
	m, err := New(cfg, randomSource{rng: rand.New(rand.NewPCG(1, 2))}, compute.Default())
	if err != nil {
		b.Fatal(err)
	}
	lc := peft.DefaultLoraConfig()
	lc.R, lc.LoraAlpha, lc.LoraDropout = 16, 32, 0.05
	lc.TargetModules, lc.AllLinearLayers = nil, true
	ad, err := peft.New(lc, m.AdapterDims(), rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	batch := make([]TrainSequence, 4)
	for s := range batch {
		tokens, targets := make([]int, 256), make([]bool, 256)
		for i := range tokens {
			tokens[i] = rng.IntN(cfg.VocabSize)
			targets[i] = i >= 128
		}
		batch[s] = TrainSequence{Tokens: tokens, Targets: targets}
	}
	return m, ad, batch
}

// BenchmarkTrainStep times one forward and backward pass of the LoRA
// training path; its tokens/s metric counts all 1024 tokens.
func BenchmarkTrainStep(b *testing.B) {
	m, ad, batch := benchTrainModel(b)
	rng := rand.New(rand.NewPCG(7, 8))
	grads := NewLoraGrads(ad)
	dlogp := func(logps []float64) ([]float64, error) {
		return []float64{1, -1, 1, -1}, nil
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.SequenceLogProbGrad(ad, batch, rng, dlogp, grads); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1024*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTrainForwardOnly times the training forward alone, to compare
// with BenchmarkTrainStep and with the inference forward.
func BenchmarkTrainForwardOnly(b *testing.B) {
	m, ad, batch := benchTrainModel(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.TrainForward(ad, batch, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1024*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
