package sample

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// fixedLogits has a clear top token (1), a tie (2 and 4) and a long tail.
// Its softmax at temperature 1 is, by token id:
//
//	0 0.0551, 1 0.4070, 2 0.1829, 3 0.0334, 4 0.1829, 5 0.0075, 6 0.0203, 7 0.1109
var fixedLogits = []float32{1.0, 3.0, 2.2, 0.5, 2.2, -1.0, 0.0, 1.7}

// draws is the number of samples per statistical test.
const draws = 20000

// zBound is the per-bin bound in standard deviations. Each bin's count is
// binomial(draws, p). Under a correct sampler, a count more than 5 standard
// deviations (plus one count for discreteness) from draws*p has probability
// below 6e-7, so over a few dozen bins a false failure has probability
// below 1e-4. The seeds are fixed, so the test is repeatable.
const zBound = 5

// reference computes the distribution that cfg gives fixedLogits, written
// independently of the sampler: it sorts the whole vocabulary and applies
// transformers' rules literally (top-p removes ids whose ascending
// cumulative probability is at most 1-p).
func reference(cfg Config, logits []float32) []float64 {
	n := len(logits)
	scores := make([]float64, n)
	for i, v := range logits {
		scores[i] = float64(v) / cfg.Temperature
	}
	removed := make([]bool, n)

	if cfg.TopK > 0 && cfg.TopK < n {
		sorted := slices.Clone(scores)
		slices.Sort(sorted)
		kth := sorted[n-cfg.TopK]
		for i, s := range scores {
			if s < kth {
				removed[i] = true
			}
		}
	}

	if cfg.TopP < 1 {
		probs := softmaxKept(scores, removed)
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		// Ascending by probability, higher id first on ties, so the higher
		// id is removed first.
		slices.SortFunc(order, func(a, b int) int {
			switch {
			case probs[a] < probs[b]:
				return -1
			case probs[a] > probs[b]:
				return 1
			}
			return b - a
		})
		cumulative := 0.0
		for j, id := range order {
			cumulative += probs[id]
			if cumulative <= 1-cfg.TopP && j < n-1 {
				removed[id] = true
			}
		}
	}

	if cfg.MinP > 0 {
		probs := softmaxKept(scores, removed)
		top := slices.Max(probs)
		for i, p := range probs {
			if p < cfg.MinP*top {
				removed[i] = true
			}
		}
	}

	return softmaxKept(scores, removed)
}

// softmaxKept returns the softmax of scores over the ids not removed.
func softmaxKept(scores []float64, removed []bool) []float64 {
	total := 0.0
	probs := make([]float64, len(scores))
	for i, s := range scores {
		if !removed[i] {
			probs[i] = math.Exp(s)
			total += probs[i]
		}
	}
	for i := range probs {
		probs[i] /= total
	}
	return probs
}

// renormalize returns probs restricted to the ids in keep.
func renormalize(probs []float64, keep []int) []float64 {
	out := make([]float64, len(probs))
	total := 0.0
	for _, id := range keep {
		total += probs[id]
	}
	for _, id := range keep {
		out[id] = probs[id] / total
	}
	return out
}

// count draws n tokens from a fresh sampler and counts each id.
func count(cfg Config, n int) []int {
	counts := make([]int, len(fixedLogits))
	s := New(cfg, 7)
	for range n {
		counts[s.Next(fixedLogits, nil)]++
	}
	return counts
}

// outOfBound returns a description of the first bin whose count is
// outside the per-bin bound around draws*p, or "" when all are inside.
func outOfBound(counts []int, probs []float64) string {
	n := 0
	for _, c := range counts {
		n += c
	}
	for id, p := range probs {
		want := float64(n) * p
		sd := math.Sqrt(float64(n) * p * (1 - p))
		if math.Abs(float64(counts[id])-want) > zBound*sd+1 {
			return fmt.Sprintf("token %d: count %d, want %.1f ± %.1f", id, counts[id], want, zBound*sd+1)
		}
	}
	return ""
}

func sampling(temperature float64, topK int, topP, minP float64) Config {
	return Config{DoSample: true, Temperature: temperature, TopK: topK, TopP: topP, MinP: minP, RepetitionPenalty: 1, Seed: 42}
}

func TestSamplerMatchesDistribution(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		kept []int // worked by hand from the probabilities above
	}{
		{"temperature 1", sampling(1, 0, 1, 0), []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"temperature 0.5", sampling(0.5, 0, 1, 0), []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"temperature 2", sampling(2, 0, 1, 0), []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"top-k 3", sampling(1, 3, 1, 0), []int{1, 2, 4}},
		{"top-k 2 keeps tie", sampling(1, 2, 1, 0), []int{1, 2, 4}},
		{"top-k 5", sampling(1, 5, 1, 0), []int{0, 1, 2, 4, 7}},
		{"top-p 0.8", sampling(1, 0, 0.8, 0), []int{1, 2, 4, 7}},
		{"top-p 0.5 splits tie", sampling(1, 0, 0.5, 0), []int{1, 2}},
		{"top-p 0.3 keeps one", sampling(1, 0, 0.3, 0), []int{1}},
		{"min-p 0.2", sampling(1, 0, 1, 0.2), []int{1, 2, 4, 7}},
		{"min-p 0.1", sampling(1, 0, 1, 0.1), []int{0, 1, 2, 4, 7}},
		{"temperature before top-p", sampling(0.5, 0, 0.8, 0), []int{1, 2, 4}},
		{"temperature top-k top-p min-p", sampling(2, 5, 0.8, 0.6), []int{1, 2, 4}},
		{"top-k top-p", sampling(2, 5, 0.8, 0), []int{1, 2, 4, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := reference(tt.cfg, fixedLogits)
			var wantKept []int
			for id, p := range want {
				if p > 0 {
					wantKept = append(wantKept, id)
				}
			}
			if !slices.Equal(wantKept, tt.kept) {
				t.Fatalf("reference keeps %v, hand-worked %v", wantKept, tt.kept)
			}

			counts := count(tt.cfg, draws)
			for id, c := range counts {
				if c > 0 && !slices.Contains(tt.kept, id) {
					t.Errorf("filtered token %d drawn %d times; kept set %v", id, c, tt.kept)
				}
			}
			if msg := outOfBound(counts, want); msg != "" {
				t.Errorf("%s\ncounts %v\nwant probabilities %.4f", msg, counts, want)
			}
		})
	}
}

// TestBoundRejectsBrokenSamplers checks that the per-bin bound has the
// power to catch the bugs it is meant to catch: counts drawn by the correct
// sampler fail it when compared with the distribution of a broken one.
func TestBoundRejectsBrokenSamplers(t *testing.T) {
	topP := reference(sampling(1, 0, 1, 0), fixedLogits)
	tests := []struct {
		name   string
		cfg    Config
		broken []float64
	}{
		{"temperature 0.5 ignored", sampling(0.5, 0, 1, 0), reference(sampling(1, 0, 1, 0), fixedLogits)},
		{"temperature 2 ignored", sampling(2, 0, 1, 0), reference(sampling(1, 0, 1, 0), fixedLogits)},
		{"temperature inverted", sampling(2, 0, 1, 0), reference(sampling(0.5, 0, 1, 0), fixedLogits)},
		{"top-p one token more", sampling(1, 0, 0.8, 0), renormalize(topP, []int{0, 1, 2, 4, 7})},
		{"top-p one token fewer", sampling(1, 0, 0.8, 0), renormalize(topP, []int{1, 2, 4})},
		{"top-p tie both kept", sampling(1, 0, 0.5, 0), renormalize(topP, []int{1, 2, 4})},
		{"top-k tie dropped", sampling(1, 2, 1, 0), renormalize(topP, []int{1, 2})},
		{"top-k off", sampling(1, 3, 1, 0), topP},
		{"min-p not scaled by p_max", sampling(1, 0, 1, 0.2), renormalize(topP, []int{1})},
		{"min-p before temperature", sampling(2, 0, 1, 0.2), renormalize(reference(sampling(2, 0, 1, 0), fixedLogits), []int{1, 2, 4, 7})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := count(tt.cfg, draws)
			if msg := outOfBound(counts, reference(tt.cfg, fixedLogits)); msg != "" {
				t.Fatalf("correct distribution rejected: %s", msg)
			}
			if outOfBound(counts, tt.broken) == "" {
				t.Errorf("counts %v pass the bound for the broken distribution %.4f", counts, tt.broken)
			}
		})
	}
}

// TestSamplerLargeVocabulary runs the warpers over a vocabulary with many
// ties and with scores spread over many top-p buckets, and compares the kept
// set with the reference.
func TestSamplerLargeVocabulary(t *testing.T) {
	const n = 5000
	// Nearly flat with many exact ties: about five ids share each value.
	flat := make([]float32, n)
	// Spread over 100 nats, past the last top-p bucket.
	wide := make([]float32, n)
	// One clear favourite over a flat tail.
	peaked := make([]float32, n)
	for i := range n {
		flat[i] = float32((i*7919)%997) / 300
		wide[i] = float32((i*7919)%n) / 50
		peaked[i] = float32((i*31)%17) / 10
	}
	peaked[1234] = 12

	configs := []struct {
		name string
		cfg  Config
	}{
		{"top-p 0.9", sampling(1, 0, 0.9, 0)},
		{"top-p 0.05", sampling(1, 0, 0.05, 0)},
		{"top-p 0.999", sampling(0.5, 0, 0.999, 0)},
		{"top-k 100", sampling(1, 100, 1, 0)},
		{"top-k 1", sampling(1, 1, 1, 0)},
		{"top-k 103 splits ties", sampling(1, 103, 1, 0)},
		{"top-k 1000 top-p 0.5", sampling(0.7, 1000, 0.5, 0)},
		{"min-p 0.5", sampling(1, 0, 1, 0.5)},
		{"all three", sampling(3, 2000, 0.8, 0.01)},
	}
	for name, logits := range map[string][]float32{"flat": flat, "wide": wide, "peaked": peaked} {
		for _, c := range configs {
			t.Run(name+" "+c.name, func(t *testing.T) {
				want := reference(c.cfg, logits)

				s := New(c.cfg, 0)
				candidates := s.warp(s.process(logits, nil))

				var wantKept, gotKept []int
				for id, p := range want {
					if p > 0 {
						wantKept = append(wantKept, id)
					}
				}
				for _, id := range candidates {
					gotKept = append(gotKept, int(id))
				}
				slices.Sort(gotKept)
				if !slices.Equal(gotKept, wantKept) {
					t.Errorf("kept %d ids, want %d\ngot  %v\nwant %v", len(gotKept), len(wantKept), head(gotKept), head(wantKept))
				}
			})
		}
	}
}

func head(ids []int) []int {
	return ids[:min(len(ids), 20)]
}
