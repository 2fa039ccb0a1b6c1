package train

import "fmt"

// SFTLoss accumulates the negative log-likelihood of the completion tokens
// of one optimizer step. The loss is the mean over every counted token of
// the step, across sequences and micro-batches, as Hugging Face's Trainer
// computes it when it is given the number of items in the batch. So a long
// completion weighs more than a short one.
type SFTLoss struct {
	NLL    float64 // sum of -log p over counted tokens
	Tokens int     // number of counted tokens
}

// Add counts the log-probs of the tokens of one sequence whose mask entry
// is true: the completion tokens, or every token when training on the whole
// sequence. logps[i] is the log-prob of token i given the tokens before it.
func (s *SFTLoss) Add(logps []float64, mask []bool) error {
	if len(logps) != len(mask) {
		return fmt.Errorf("sft loss: %d log-probs but %d mask entries; they must match", len(logps), len(mask))
	}
	for i, lp := range logps {
		if mask[i] {
			s.NLL -= lp
			s.Tokens++
		}
	}
	return nil
}

// Mean returns the mean negative log-likelihood per counted token, or 0
// when no token was counted.
func (s SFTLoss) Mean() float64 {
	if s.Tokens == 0 {
		return 0
	}
	return s.NLL / float64(s.Tokens)
}

// TokenGrad returns ∂Mean/∂logp for every counted token: -1/Tokens. Tokens
// outside the mask get gradient 0.
func (s SFTLoss) TokenGrad() float64 {
	if s.Tokens == 0 {
		return 0
	}
	return -1 / float64(s.Tokens)
}

// CompletionMask returns the loss mask of a sequence of total tokens whose
// first promptTokens tokens are the prompt: false on the prompt, true on
// the completion. With completionOnly false every token is counted, as with
// TRL's completion_only_loss=False.
func CompletionMask(promptTokens, total int, completionOnly bool) ([]bool, error) {
	if promptTokens < 0 || promptTokens > total {
		return nil, fmt.Errorf("completion mask: prompt length %d outside [0, %d]", promptTokens, total)
	}
	mask := make([]bool, total)
	start := promptTokens
	if !completionOnly {
		start = 0
	}
	for i := start; i < total; i++ {
		mask[i] = true
	}
	return mask, nil
}
