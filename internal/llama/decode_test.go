package llama

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// decodeTolerance bounds the absolute logit difference between a cached
// decode step and a full prefill of the same tokens.
const decodeTolerance = 1e-4

func randomTokens(rng *rand.Rand, n, vocab int) []int {
	tokens := make([]int, n)
	for i := range tokens {
		tokens[i] = rng.IntN(vocab)
	}
	return tokens
}

func maxAbsDiff(a, b []float32) float64 {
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}

// lastLogits returns the logits of the last position of tokens from a full
// prefill without cache.
func lastLogits(t *testing.T, m *Model, tokens []int) []float32 {
	t.Helper()
	logits, err := m.Logits([]Request{{Tokens: tokens, LastOnly: true}})
	if err != nil {
		t.Fatalf("Logits: %v", err)
	}
	return logits[0][0]
}

func TestDecodeMatchesPrefill(t *testing.T) {
	promptLengths := []int{7, 1, 12}
	const steps = 10
	for _, name := range goldenNames(t) {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			rng := rand.New(rand.NewPCG(11, uint64(len(name))))
			c, err := m.NewKVCache(len(promptLengths), 12+steps, 1<<30)
			if err != nil {
				t.Fatalf("NewKVCache: %v", err)
			}

			sequences := make([][]int, len(promptLengths))
			slots := make([]int, len(promptLengths))
			for s, n := range promptLengths {
				sequences[s] = randomTokens(rng, n, m.Config.VocabSize)
				slots[s] = s
				got, err := m.Prefill(c, s, sequences[s])
				if err != nil {
					t.Fatalf("Prefill(slot %d): %v", s, err)
				}
				want := lastLogits(t, m, sequences[s])
				if !slices.Equal(got, want) {
					t.Errorf("slot %d: prefill logits differ from Logits by up to %.3g, want identical", s, maxAbsDiff(got, want))
				}
			}

			for step := range steps {
				next := randomTokens(rng, len(slots), m.Config.VocabSize)
				got, err := m.Decode(c, slots, next)
				if err != nil {
					t.Fatalf("Decode(step %d): %v", step, err)
				}
				for s := range slots {
					sequences[s] = append(sequences[s], next[s])
					want := lastLogits(t, m, sequences[s])
					if diff := maxAbsDiff(got[s], want); diff > decodeTolerance {
						t.Errorf("slot %d step %d (length %d): decode vs prefill max diff %.3g, want <= %g",
							s, step, len(sequences[s]), diff, decodeTolerance)
					}
				}
			}
			for s := range slots {
				if got, want := c.Len(s), len(sequences[s]); got != want {
					t.Errorf("slot %d: Len %d, want %d", s, got, want)
				}
			}
		})
	}
}

func TestDecodeBatchIndependence(t *testing.T) {
	m := loadTestModel(t, "qwen3_qknorm_bf16")
	rng := rand.New(rand.NewPCG(3, 4))
	const slots = 8
	c, err := m.NewKVCache(slots, 32, 1<<30)
	if err != nil {
		t.Fatalf("NewKVCache: %v", err)
	}
	alone, err := m.NewKVCache(1, 32, 1<<30)
	if err != nil {
		t.Fatalf("NewKVCache: %v", err)
	}

	prompts := make([][]int, slots)
	all := make([]int, slots)
	for s := range prompts {
		prompts[s] = randomTokens(rng, 3+2*s, m.Config.VocabSize)
		all[s] = s
		if _, err := m.Prefill(c, s, prompts[s]); err != nil {
			t.Fatalf("Prefill: %v", err)
		}
	}
	if _, err := m.Prefill(alone, 0, prompts[5]); err != nil {
		t.Fatalf("Prefill: %v", err)
	}

	for step := range 6 {
		next := randomTokens(rng, slots, m.Config.VocabSize)
		batched, err := m.Decode(c, all, next)
		if err != nil {
			t.Fatalf("Decode(batch): %v", err)
		}
		single, err := m.Decode(alone, []int{0}, next[5:6])
		if err != nil {
			t.Fatalf("Decode(alone): %v", err)
		}
		if !slices.Equal(batched[5], single[0]) {
			t.Errorf("step %d: batched and single logits differ by up to %.3g, want identical", step, maxAbsDiff(batched[5], single[0]))
		}
	}
}

func TestKVCacheBudgetError(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	need := KVCacheBytes(m.Config, 4, 64)

	if _, err := m.NewKVCache(4, 64, need); err != nil {
		t.Fatalf("NewKVCache with budget %d = need: %v", need, err)
	}
	_, err := m.NewKVCache(4, 64, need-1)
	var sizeErr *CacheSizeError
	if !errors.As(err, &sizeErr) {
		t.Fatalf("NewKVCache with budget need-1: error %v, want a *CacheSizeError", err)
	}
	if sizeErr.Need != need {
		t.Errorf("CacheSizeError.Need = %d, want %d", sizeErr.Need, need)
	}
	if !strings.Contains(err.Error(), "MiB") {
		t.Errorf("error %q, want the sizes in MiB", err)
	}
}

func TestDecodeBadInputErrors(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	other := loadTestModel(t, "qwen3_qknorm_bf16")
	c, err := m.NewKVCache(2, 4, 1<<30)
	if err != nil {
		t.Fatalf("NewKVCache: %v", err)
	}
	if _, err := m.Prefill(c, 0, []int{1, 2, 3}); err != nil {
		t.Fatalf("Prefill: %v", err)
	}
	foreign, err := other.NewKVCache(1, 4, 1<<30)
	if err != nil {
		t.Fatalf("NewKVCache: %v", err)
	}

	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"prefill into used slot", func() error { _, err := m.Prefill(c, 0, []int{1}); return err }, "reset it first"},
		{"prefill too long", func() error { _, err := m.Prefill(c, 1, []int{1, 2, 3, 4, 5}); return err }, "capacity is 4"},
		{"prefill empty", func() error { _, err := m.Prefill(c, 1, nil); return err }, "empty"},
		{"slot out of range", func() error { _, err := m.Decode(c, []int{2}, []int{1}); return err }, "out of range"},
		{"token out of range", func() error { _, err := m.Decode(c, []int{0}, []int{m.Config.VocabSize}); return err }, "token id"},
		{"repeated slot", func() error { _, err := m.Decode(c, []int{0, 0}, []int{1, 1}); return err }, "twice"},
		{"length mismatch", func() error { _, err := m.Decode(c, []int{0}, []int{1, 2}); return err }, "2 tokens"},
		{"cache of other model", func() error { _, err := m.Decode(foreign, []int{0}, []int{1}); return err }, "not made by this model"},
		{"capacity over max positions", func() error { _, err := m.NewKVCache(1, m.Config.MaxPositions+1, 1<<40); return err }, "max_position_embeddings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}

	if _, err := m.Decode(c, []int{0}, []int{4}); err != nil {
		t.Fatalf("Decode into the last free position: %v", err)
	}
	if _, err := m.Decode(c, []int{0}, []int{4}); err == nil || !strings.Contains(err.Error(), "capacity is 4") {
		t.Errorf("Decode into a full slot: error %v, want one containing %q", err, "capacity is 4")
	}
}

func TestCopyPrefixMatchesPrefill(t *testing.T) {
	m := loadTestModel(t, "mistral_window_f16")
	rng := rand.New(rand.NewPCG(8, 9))
	prompt := randomTokens(rng, 9, m.Config.VocabSize)
	c, err := m.NewKVCache(3, 16, 1<<30)
	if err != nil {
		t.Fatalf("NewKVCache: %v", err)
	}
	for _, slot := range []int{0, 1} {
		if _, err := m.Prefill(c, slot, prompt); err != nil {
			t.Fatalf("Prefill(slot %d): %v", slot, err)
		}
	}
	// Slot 1 moves on, then slot 2 takes slot 1's prompt positions.
	if _, err := m.Decode(c, []int{1}, []int{5}); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if err := c.CopyPrefix(2, 1, len(prompt)); err != nil {
		t.Fatalf("CopyPrefix: %v", err)
	}
	if got := c.Len(2); got != len(prompt) {
		t.Errorf("Len(2) after CopyPrefix = %d, want %d", got, len(prompt))
	}

	next := []int{7, 7}
	got, err := m.Decode(c, []int{0, 2}, next)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !slices.Equal(got[0], got[1]) {
		t.Errorf("copied slot logits differ from prefilled slot by up to %.3g, want identical", maxAbsDiff(got[0], got[1]))
	}

	if err := c.CopyPrefix(0, 1, 20); err == nil || !strings.Contains(err.Error(), "contains 10") {
		t.Errorf("CopyPrefix of 20 positions: error %v, want one naming the 10 positions the slot contains", err)
	}
	if err := c.CopyPrefix(3, 1, 1); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("CopyPrefix into slot 3: error %v, want out of range", err)
	}
}
