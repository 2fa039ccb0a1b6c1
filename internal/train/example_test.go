package train_test

import (
	"fmt"

	"ipo/internal/train"
)

// Example computes the DPO loss of a batch of two pairs and the gradient
// that the backward pass through the policy starts from.
func Example() {
	loss := train.DefaultDPOConfig().Loss() // sigmoid, beta 0.1
	pairs := []train.Pair{
		{PolicyChosen: -12, PolicyRejected: -15, ReferenceChosen: -13, ReferenceRejected: -14},
		{PolicyChosen: -20, PolicyRejected: -18, ReferenceChosen: -20, ReferenceRejected: -19},
	}
	res := loss.Batch(pairs)
	fmt.Printf("loss %.4f accuracy %.2f margin %.2f\n", res.Metrics.Loss, res.Metrics.RewardsAccuracies, res.Metrics.RewardsMargins)
	fmt.Printf("dL/dchosen %.4f dL/drejected %.4f\n", res.Pairs[0].GradChosen, res.Pairs[0].GradRejected)
	// Output:
	// loss 0.6713 accuracy 0.50 margin 0.05
	// dL/dchosen -0.0225 dL/drejected 0.0225
}
