package llama

import (
	"fmt"
	"slices"
)

// Greedy appends up to maxNew tokens to prompt, each the highest-logit
// next token (the lowest id on ties, as torch.argmax), and returns the new
// tokens only. It stops after emitting a token listed in stop, which is
// included in the result.
//
// NOTE: there is no KV cache yet, so every step reruns the whole sequence
// and a step costs as much as a prefill of its length.
func (m *Model) Greedy(prompt []int, maxNew int, stop []int) ([]int, error) {
	if maxNew < 0 {
		return nil, fmt.Errorf("greedy decoding: max new tokens is %d, want 0 or more", maxNew)
	}
	if total := len(prompt) + maxNew; total > m.Config.MaxPositions {
		return nil, fmt.Errorf("greedy decoding: prompt of %d tokens plus %d new tokens exceeds max_position_embeddings %d",
			len(prompt), maxNew, m.Config.MaxPositions)
	}

	sequence := slices.Clone(prompt)
	var generated []int
	for range maxNew {
		logits, err := m.Logits([]Request{{Tokens: sequence, LastOnly: true}})
		if err != nil {
			return nil, err
		}
		next := argmax(logits[0][0])
		sequence = append(sequence, next)
		generated = append(generated, next)
		if slices.Contains(stop, next) {
			break
		}
	}
	return generated, nil
}

func argmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}
