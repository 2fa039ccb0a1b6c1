package train

import "fmt"

// SequenceLogp returns the log-prob of a completion from its tokens'
// log-probs: the sum over tokens whose mask entry is true, or their mean
// when normalize is true (TRL's IPO). It also returns ∂result/∂logps[i] for
// every masked token, 1 for the sum and 1/count for the mean, which the
// backward pass multiplies by the loss's gradient of the sequence log-prob.
func SequenceLogp(logps []float64, mask []bool, normalize bool) (logp, tokenGrad float64, err error) {
	if len(logps) != len(mask) {
		return 0, 0, fmt.Errorf("sequence log-prob: %d log-probs but %d mask entries; they must match", len(logps), len(mask))
	}
	count := 0
	for i, lp := range logps {
		if mask[i] {
			logp += lp
			count++
		}
	}
	if count == 0 {
		return 0, 0, fmt.Errorf("sequence log-prob: the completion has no tokens; drop the example or raise max_length")
	}
	if normalize {
		return logp / float64(count), 1 / float64(count), nil
	}
	return logp, 1, nil
}
