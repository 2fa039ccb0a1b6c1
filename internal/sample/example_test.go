package sample_test

import (
	"fmt"
	"slices"
	"strings"

	"ipo/internal/sample"
)

// This example generates from a toy "model" whose logits always favour the
// token after the last one, with greedy decoding and a stop string.
func Example() {
	vocab := []string{"<eos>", "one ", "two ", "three ", "four "}
	decode := func(ids []int) string {
		var b strings.Builder
		for _, id := range ids {
			b.WriteString(vocab[id])
		}
		return b.String()
	}
	logitsAfter := func(last int) []float32 {
		logits := make([]float32, len(vocab))
		logits[(last+1)%len(vocab)] = 5
		return logits
	}

	cfg := sample.DefaultConfig()
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	s := sample.New(cfg, 0)
	stop := sample.NewStopper([]int{0}, []string{"four"}, 10, decode)

	history := []int{1} // the prompt
	for {
		id := s.Next(logitsAfter(history[len(history)-1]), history)
		history = append(history, id)
		if done, reason := stop.Push(id); done {
			fmt.Printf("%q %s %s\n", stop.Text(), reason, stop.FinishReason())
			break
		}
	}
	// Output: "two three " stop_string stop
}

// This example shows that a sequence's samples depend only on the seed and
// its index, not on how many other sequences are sampled alongside it.
func ExampleNew() {
	cfg := sample.DefaultConfig()
	cfg.DoSample = true
	cfg.Seed = 1234
	logits := []float32{1, 1, 1, 1, 1, 1, 1, 1}

	alone := sample.New(cfg, 2)
	a := []int{alone.Next(logits, nil), alone.Next(logits, nil), alone.Next(logits, nil)}

	batch := []*sample.Sampler{sample.New(cfg, 0), sample.New(cfg, 1), sample.New(cfg, 2)}
	var b []int
	for range 3 {
		for i, s := range batch {
			id := s.Next(logits, nil)
			if i == 2 {
				b = append(b, id)
			}
		}
	}
	fmt.Println(slices.Equal(a, b))
	// Output: true
}
