package llama_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/train"
)

// Example_dpoGradients computes the LoRA gradients of the DPO loss of one
// chosen/rejected pair with a tiny test model.
func Example_dpoGradients() {
	m, err := llama.Load("testdata/models/llama_f32")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	cfg := peft.DefaultLoraConfig()
	cfg.LoraDropout = 0.05
	ad, err := peft.New(cfg, m.AdapterDims(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}

	// The prompt is the first three tokens, so only the completion's
	// tokens are targets.
	completion := func(tokens []int) llama.TrainSequence {
		targets := make([]bool, len(tokens))
		for i := 3; i < len(tokens); i++ {
			targets[i] = true
		}
		return llama.TrainSequence{Tokens: tokens, Targets: targets}
	}
	batch := []llama.TrainSequence{completion([]int{1, 17, 5, 42, 8}), completion([]int{1, 17, 5, 30, 11, 2})}

	loss := train.DPOLoss{Type: train.Sigmoid, Beta: 0.1}
	reference := []float64{-9.5, -12.25}
	lossGrad := func(logps []float64) ([]float64, error) {
		res := loss.Batch([]train.Pair{{
			PolicyChosen: logps[0], PolicyRejected: logps[1],
			ReferenceChosen: reference[0], ReferenceRejected: reference[1],
		}})
		return []float64{res.Pairs[0].GradChosen, res.Pairs[0].GradRejected}, nil
	}

	grads := llama.NewLoraGrads(ad)
	logps, err := m.SequenceLogProbGrad(ad, batch, rand.New(rand.NewPCG(3, 4)), lossGrad, grads)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("policy log-probs %.2f\n", logps)
	fmt.Printf("%d adapted layers with gradients\n", len(grads))
	// Output:
	// policy log-probs [-7.19 -11.72]
	// 4 adapted layers with gradients
}
