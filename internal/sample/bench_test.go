package sample

import (
	"math/rand/v2"
	"testing"
)

// benchLogits returns logits over a Qwen3-sized vocabulary, normally
// distributed with standard deviation 3. This flat distribution is a hard
// case for top-p, which keeps tens of thousands of ids.
func benchLogits() []float32 {
	rng := rand.New(rand.NewPCG(5, 6))
	logits := make([]float32, 151936)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 3)
	}
	return logits
}

func BenchmarkNext(b *testing.B) {
	logits := benchLogits()
	history := make([]int, 512)
	for i := range history {
		history[i] = (i * 7919) % len(logits)
	}
	benchmarks := []struct {
		name string
		cfg  Config
	}{
		{"greedy", DefaultConfig()},
		{"temperature", sampling(0.7, 0, 1, 0)},
		{"top-k 50", sampling(0.7, 50, 1, 0)},
		{"top-p 0.9", sampling(0.7, 0, 0.9, 0)},
		{"top-k 20 top-p 0.8", sampling(0.7, 20, 0.8, 0)},
		{"min-p 0.05", sampling(1, 0, 1, 0.05)},
		{"penalty 1.1 top-p 0.9", func() Config { c := sampling(0.7, 0, 0.9, 0); c.RepetitionPenalty = 1.1; return c }()},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			s := New(bm.cfg, 0)
			for b.Loop() {
				s.Next(logits, history)
			}
		})
	}
}
