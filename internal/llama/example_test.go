package llama_test

import (
	"fmt"
	"log"
	"math"

	"ipo/internal/llama"
)

// Example scores a short token sequence with one of the tiny test models:
// the most likely next token, and the log-probs of a continuation.
func Example() {
	m, err := llama.Load("testdata/models/llama_f32")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	prompt := []int{1, 9, 33, 4}
	next, err := m.NextTokenLogProbs([][]int{prompt})
	if err != nil {
		log.Fatal(err)
	}
	best := 0
	for id, logProb := range next[0] {
		if logProb > next[0][best] {
			best = id
		}
	}
	fmt.Printf("next token %d with probability %.3f\n", best, math.Exp(float64(next[0][best])))

	// Log-probs of tokens 4 and 5 (60, 21) given everything before them.
	scores, err := m.LogProbs([][]int{{1, 9, 33, 4, 60, 21}}, []int{4})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("continuation log-probs %.3f\n", scores[0])
	// Output:
	// next token 42 with probability 0.092
	// continuation log-probs [-6.021 -3.630]
}
