// Package sample picks the next token of a generated sequence from the
// model's logits and decides when a sequence ends.
//
// A Sampler applies the logits processors of Hugging Face transformers in
// the order that transformers 4.41 and later apply them: the repetition
// penalty, then, when sampling, temperature, top-k, top-p and min-p. It
// draws from the softmax of what is left. A Stopper ends a sequence on a
// stop token, a stop string or max_new_tokens. ReadPrompts reads the
// inputs of `ipo sample` from JSON, JSON Lines or Parquet files.
//
// Typical use, one Sampler and one Stopper per sequence, where i is the
// sequence's fixed number in the run (such as prompt number times samples
// per prompt plus sample number), never its slot in a batch:
//
//	decode := func(ids []int) string { return tok.Decode(ids, true) }
//	s := sample.New(cfg, uint64(i))
//	stop := sample.NewStopper(eosIDs, stopStrings, maxNew, decode)
//	for {
//		id := s.Next(logits, history)
//		history = append(history, id)
//		if done, _ := stop.Push(id); done {
//			break
//		}
//		// run the model on id to get the next logits
//	}
//	text := stop.Text()
package sample

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Sampler draws the next token of one sequence. Each Sampler owns a random
// stream derived from (Config.Seed, sequence index) alone. So the tokens of
// a sequence depend only on the seed, its index, its logits and its
// history, not on the other sequences in its batch, the batch size or the
// order in which samplers are called. A Sampler is not safe for concurrent
// use, but different Samplers share nothing.
//
// NOTE: if batching changes the model's logits in the last bits, a greedy
// near-tie, or a random number that falls that close to the cumulative
// probability where one token gives way to the next, can still change the
// token with the batch size.
type Sampler struct {
	cfg Config
	rng *rand.Rand

	// Scratch buffers reused across calls.
	scores     []float64
	candidates []int32
	weights    []float64
	heap       []float64
}

// New returns the Sampler of sequence number sequence. Its random stream is
// ChaCha8 keyed by the seed and the sequence index, so two sequences of one
// run, or one sequence under two seeds, draw independent streams. New does
// not validate cfg; Next treats a setting that Validate rejects as off.
func New(cfg Config, sequence uint64) *Sampler {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:8], cfg.Seed)
	binary.LittleEndian.PutUint64(key[8:16], sequence)
	copy(key[16:], "ipo/sample")
	return &Sampler{cfg: cfg, rng: rand.New(rand.NewChaCha8(key))}
}

// Next returns the next token id given logits over the vocabulary and the
// tokens of the sequence so far (prompt and generated, for the repetition
// penalty). It works on a float64 copy and never changes logits.
//
// Greedy decoding returns the highest score, the lowest id on ties (as
// torch.argmax) and consumes no random numbers. Sampling consumes exactly
// one random number per call. NaN logits are never picked. Ids in history
// outside the vocabulary are skipped. Next returns -1 for empty logits and
// the greedy choice when no token has a finite score.
func (s *Sampler) Next(logits []float32, history []int) int {
	if len(logits) == 0 {
		return -1
	}

	scores := s.process(logits, history)
	if !s.cfg.DoSample {
		return argmax(scores)
	}

	candidates := s.warp(scores)
	if len(candidates) == 0 {
		return argmax(scores)
	}
	return s.draw(scores, candidates)
}

// process returns the logits as float64 scores with the repetition
// penalty applied, the step that greedy decoding shares with sampling.
func (s *Sampler) process(logits []float32, history []int) []float64 {
	scores := s.load(logits)
	if p := s.cfg.RepetitionPenalty; p > 0 && p != 1 && !math.IsInf(p, 0) {
		penalize(scores, logits, history, p)
	}
	return scores
}

// warp divides scores by the temperature and returns the ids that top-k,
// top-p and min-p keep, in that order. It returns no ids when no score is
// finite.
func (s *Sampler) warp(scores []float64) []int32 {
	if t := s.cfg.Temperature; t > 0 && t != 1 && !math.IsInf(t, 0) {
		for i := range scores {
			scores[i] /= t
		}
	}

	candidates := s.finite(scores)
	if len(candidates) == 0 {
		return candidates
	}
	if k := s.cfg.TopK; k > 0 {
		candidates = s.topK(scores, candidates, k)
	}
	if p := s.cfg.TopP; p > 0 && p < 1 {
		candidates = s.topP(scores, candidates, p)
	}
	if m := s.cfg.MinP; m > 0 && m <= 1 {
		candidates = minP(scores, candidates, m)
	}
	return candidates
}

// load copies logits into the float64 scratch buffer.
func (s *Sampler) load(logits []float32) []float64 {
	if cap(s.scores) < len(logits) {
		s.scores = make([]float64, len(logits))
	}
	scores := s.scores[:len(logits)]
	for i, v := range logits {
		scores[i] = float64(v)
	}
	return scores
}

// finite returns the ids whose score can be drawn: not NaN and not -Inf.
func (s *Sampler) finite(scores []float64) []int32 {
	candidates := s.candidates[:0]
	for i, v := range scores {
		if !math.IsNaN(v) && !math.IsInf(v, -1) {
			candidates = append(candidates, int32(i))
		}
	}
	s.candidates = candidates
	return candidates
}

// draw picks one candidate with probability softmax(scores) restricted to
// the candidates, computed in float64.
func (s *Sampler) draw(scores []float64, candidates []int32) int {
	top := maxScore(scores, candidates)
	weights := s.weights[:0]
	total := 0.0
	for _, id := range candidates {
		w := weight(scores[id], top)
		weights = append(weights, w)
		total += w
	}
	s.weights = weights

	target := s.rng.Float64() * total
	cumulative := 0.0
	last := candidates[0]
	for i, w := range weights {
		if w == 0 {
			continue
		}
		cumulative += w
		last = candidates[i]
		if cumulative > target {
			return int(last)
		}
	}

	// Only reached if rounding leaves target at the total.
	return int(last)
}

// penalize applies transformers' RepetitionPenaltyLogitsProcessor: each
// distinct token of history has its score divided by penalty when the
// score is positive (zero included) and multiplied by it when negative.
// The new score is computed from the original logit, so a token repeated
// in history is penalized once.
func penalize(scores []float64, logits []float32, history []int, penalty float64) {
	for _, id := range history {
		if id < 0 || id >= len(logits) {
			continue
		}
		v := float64(logits[id])
		if v < 0 {
			scores[id] = v * penalty
		} else {
			scores[id] = v / penalty
		}
	}
}

// argmax returns the index of the highest score, the lowest index on ties.
// NaN scores are skipped; it returns 0 when every score is NaN.
func argmax(scores []float64) int {
	best := -1
	for i, v := range scores {
		if math.IsNaN(v) {
			continue
		}
		if best < 0 || v > scores[best] {
			best = i
		}
	}
	if best < 0 {
		return 0
	}
	return best
}

// maxScore returns the highest score among the candidates.
func maxScore(scores []float64, candidates []int32) float64 {
	top := math.Inf(-1)
	for _, id := range candidates {
		// A plain comparison is enough and faster than the builtin max,
		// because candidates hold no NaN.
		if v := scores[id]; v > top {
			top = v
		}
	}
	return top
}

// weight returns exp(score - top), the unnormalized softmax probability of
// a score given the highest score top. When top is +Inf, the +Inf scores
// share all the probability.
func weight(score, top float64) float64 {
	if math.IsInf(top, 1) {
		if math.IsInf(score, 1) {
			return 1
		}
		return 0
	}
	return math.Exp(score - top)
}
