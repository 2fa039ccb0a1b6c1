// Package train holds the parts of preference and supervised fine-tuning
// that do not depend on the model. These are the DPO losses and their
// gradients with respect to the policy's sequence log-probs, the SFT loss
// over completion tokens, AdamW, learning-rate schedules, gradient
// clipping, the metrics log, resumable checkpoints and the DPO and SFT
// configuration.
//
// A training step with a model that supplies log-probs and their backward
// pass reads:
//
//	res := loss.Batch(pairs)              // loss, metrics and dL/dlogp per pair
//	// backward through the model with res.Grads, summed over micro-batches
//	norm := train.ClipGradNorm(grads, cfg.MaxGradNorm)
//	opt.Step(params, sched.LR(opt.Steps()))
package train

import (
	"fmt"
	"math"
)

// LossType names a DPO loss as TRL's DPOConfig.loss_type does.
type LossType string

// The DPO losses. With h the difference of the policy's and the reference
// model's log-ratios of chosen over rejected, β = beta and ε = label
// smoothing:
//
//	sigmoid: -(1-ε)·log σ(βh) - ε·log σ(-βh)
//	robust:  (-(1-ε)·log σ(βh) + ε·log σ(-βh)) / (1-2ε)
//	hinge:   max(0, 1 - βh)
//	ipo:     (h - 1/(2β))²
const (
	Sigmoid LossType = "sigmoid"
	Robust  LossType = "robust"
	Hinge   LossType = "hinge"
	IPO     LossType = "ipo"
)

// DPOLoss is a DPO loss with its hyper-parameters.
type DPOLoss struct {
	Type LossType
	// Beta is the inverse temperature β (TRL default 0.1). For IPO it is the
	// regulariser τ.
	Beta float64
	// LabelSmoothing is the probability ε, in [0, 0.5), that a preference
	// label is flipped. Only the sigmoid (conservative DPO) and robust
	// losses use it.
	LabelSmoothing float64
}

// Validate checks the loss type and its hyper-parameters and names the
// offending config key.
func (l DPOLoss) Validate() error {
	switch l.Type {
	case Sigmoid, Robust, Hinge, IPO:
	default:
		return fmt.Errorf("loss_type: unsupported value %q (supported: sigmoid, robust, hinge, ipo)", l.Type)
	}
	if !(l.Beta > 0) || math.IsInf(l.Beta, 0) {
		return fmt.Errorf("beta: must be a positive number, got %v", l.Beta)
	}
	if !(l.LabelSmoothing >= 0 && l.LabelSmoothing < 0.5) {
		return fmt.Errorf("label_smoothing: must be in [0, 0.5), got %v", l.LabelSmoothing)
	}
	if l.LabelSmoothing != 0 && (l.Type == Hinge || l.Type == IPO) {
		return fmt.Errorf("label_smoothing: %v has no effect with loss_type %q; set it to 0 or use sigmoid or robust", l.LabelSmoothing, l.Type)
	}
	return nil
}

// LengthNormalized reports whether the loss expects each sequence log-prob
// divided by its number of completion tokens. TRL averages the log-probs
// over tokens for IPO and sums them for the other losses.
func (l DPOLoss) LengthNormalized() bool {
	return l.Type == IPO
}

// Pair holds the four sequence log-probs of one preference pair: the sums
// (or, for IPO, the means) of the completion tokens' log-probs under the
// policy and under the reference model.
type Pair struct {
	PolicyChosen, PolicyRejected       float64
	ReferenceChosen, ReferenceRejected float64
}

// PairResult is the loss of one pair, its gradient with respect to the two
// policy log-probs, and the implicit rewards β·(policy - reference).
type PairResult struct {
	Loss           float64
	GradChosen     float64 // ∂loss/∂PolicyChosen
	GradRejected   float64 // ∂loss/∂PolicyRejected
	RewardChosen   float64
	RewardRejected float64
}

// Pair returns the loss of p and its gradient. The reference log-probs are
// constants, so they get no gradient.
func (l DPOLoss) Pair(p Pair) PairResult {
	h := (p.PolicyChosen - p.PolicyRejected) - (p.ReferenceChosen - p.ReferenceRejected)
	beta, eps := l.Beta, l.LabelSmoothing
	z := beta * h

	var loss, dh float64
	switch l.Type {
	case Sigmoid:
		loss = -(1-eps)*logSigmoid(z) - eps*logSigmoid(-z)
		dh = beta * (-(1-eps)*sigmoid(-z) + eps*sigmoid(z))
	case Robust:
		loss = (-(1-eps)*logSigmoid(z) + eps*logSigmoid(-z)) / (1 - 2*eps)
		dh = beta * (-(1-eps)*sigmoid(-z) - eps*sigmoid(z)) / (1 - 2*eps)
	case Hinge:
		// The subgradient at the kink is 0, as torch's relu uses.
		if 1-z > 0 {
			loss = 1 - z
			dh = -beta
		}
	case IPO:
		d := h - 1/(2*beta)
		loss = d * d
		dh = 2 * d
	default:
		loss = math.NaN()
		dh = math.NaN()
	}

	return PairResult{
		Loss:           loss,
		GradChosen:     dh,
		GradRejected:   -dh,
		RewardChosen:   beta * (p.PolicyChosen - p.ReferenceChosen),
		RewardRejected: beta * (p.PolicyRejected - p.ReferenceRejected),
	}
}

// logSigmoid returns log σ(x) without overflow for large |x|.
func logSigmoid(x float64) float64 {
	if x >= 0 {
		return -math.Log1p(math.Exp(-x))
	}
	return x - math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// DPOMetrics are the batch means TRL logs for a DPO step, under the names
// of its log keys.
type DPOMetrics struct {
	Loss              float64 // loss
	RewardsChosen     float64 // rewards/chosen
	RewardsRejected   float64 // rewards/rejected
	RewardsAccuracies float64 // rewards/accuracies: share of pairs with chosen reward > rejected
	RewardsMargins    float64 // rewards/margins: chosen minus rejected reward
	LogpsChosen       float64 // logps/chosen: policy log-prob of chosen
	LogpsRejected     float64 // logps/rejected
}

// BatchResult is the mean loss of a batch, its metrics, and the gradient of
// the mean loss with respect to each pair's policy log-probs.
type BatchResult struct {
	Metrics DPOMetrics
	Pairs   []PairResult // per-pair loss and gradient of the mean
}

// Batch returns the mean loss over pairs and its gradient: each pair's
// gradient is divided by len(pairs). To accumulate micro-batches into one
// optimizer step, scale each micro-batch's gradients by its share of the
// step's pairs instead (see MicroBatchWeight).
func (l DPOLoss) Batch(pairs []Pair) BatchResult {
	n := float64(len(pairs))
	res := BatchResult{Pairs: make([]PairResult, len(pairs))}
	if len(pairs) == 0 {
		return res
	}

	m := &res.Metrics
	for i, p := range pairs {
		r := l.Pair(p)
		m.Loss += r.Loss
		m.RewardsChosen += r.RewardChosen
		m.RewardsRejected += r.RewardRejected
		if r.RewardChosen > r.RewardRejected {
			m.RewardsAccuracies++
		}
		m.RewardsMargins += r.RewardChosen - r.RewardRejected
		m.LogpsChosen += p.PolicyChosen
		m.LogpsRejected += p.PolicyRejected

		r.GradChosen /= n
		r.GradRejected /= n
		res.Pairs[i] = r
	}

	m.Loss /= n
	m.RewardsChosen /= n
	m.RewardsRejected /= n
	m.RewardsAccuracies /= n
	m.RewardsMargins /= n
	m.LogpsChosen /= n
	m.LogpsRejected /= n
	return res
}

// MicroBatchWeight returns the factor for the gradient of a micro-batch's
// mean loss when the optimizer step averages over total examples and the
// micro-batch has size of them. With equal micro-batches it is
// 1/gradient_accumulation_steps, as in Hugging Face's Trainer.
func MicroBatchWeight(size, total int) float64 {
	if total <= 0 {
		return 0
	}
	return float64(size) / float64(total)
}
