// Package judge scores responses with a language model's own yes/no
// answer: the score of a response is P(Yes) / (P(Yes) + P(No)) for the
// next token after a question asking whether the response is good.
package judge

import (
	"fmt"
	"math"
)

// Score is the classifier output for one response.
type Score struct {
	// Score is P(Yes) / (P(Yes) + P(No)).
	Score float64 `json:"score"`
	// PYes and PNo are the summed next-token probabilities of each set.
	PYes float64 `json:"p_yes"`
	PNo  float64 `json:"p_no"`
	// Mass is PYes + PNo, the share of the distribution on the two words.
	Mass float64 `json:"mass"`
	// LogOdds is log P(Yes) - log P(No), which stays finite and ordered when
	// both probabilities are tiny.
	LogOdds float64 `json:"log_odds"`
}

// ScoreLogits computes the score from next-token logits. It works in
// float64 with log-sum-exp, so neither the softmax nor the ratio
// underflows: two responses whose probabilities differ only far below
// float32 precision still get different scores.
func ScoreLogits(logits []float32, sets TokenSets) (Score, error) {
	if len(logits) == 0 {
		return Score{}, fmt.Errorf("empty logits")
	}
	for _, id := range append(append([]int(nil), sets.Yes...), sets.No...) {
		if id < 0 || id >= len(logits) {
			return Score{}, fmt.Errorf("token id %d is outside the model's vocabulary of %d", id, len(logits))
		}
	}

	maxLogit := math.Inf(-1)
	for _, x := range logits {
		maxLogit = math.Max(maxLogit, float64(x))
	}
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - maxLogit)
	}
	logZ := maxLogit + math.Log(sum)

	logYes := logSumExp(logits, sets.Yes) - logZ
	logNo := logSumExp(logits, sets.No) - logZ
	if math.IsNaN(logYes) || math.IsNaN(logNo) {
		return Score{}, fmt.Errorf("the model returned NaN logits")
	}

	s := Score{PYes: math.Exp(logYes), PNo: math.Exp(logNo), LogOdds: logYes - logNo}
	s.Mass = s.PYes + s.PNo
	// 1 / (1 + e^(logNo-logYes)) equals PYes/(PYes+PNo) without dividing
	// two numbers that may both have underflowed.
	s.Score = 1 / (1 + math.Exp(logNo-logYes))
	return s, nil
}

func logSumExp(logits []float32, ids []int) float64 {
	maxLogit := math.Inf(-1)
	for _, id := range ids {
		maxLogit = math.Max(maxLogit, float64(logits[id]))
	}
	if math.IsInf(maxLogit, -1) {
		return maxLogit
	}
	var sum float64
	for _, id := range ids {
		sum += math.Exp(float64(logits[id]) - maxLogit)
	}
	return maxLogit + math.Log(sum)
}
