package llama

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"ipo/internal/peft"
	"ipo/internal/safetensors"
	"ipo/internal/train"
)

// gradGoldenTolerance bounds, per LoRA tensor, max|Go - torch| divided by
// max|torch| for the gradients of testdata/grad_reference.py, computed in
// float64 by torch and in float32 here. The loss and log-probs are
// compared with the same relative tolerance.
const gradGoldenTolerance = 1e-4

type gradGolden struct {
	Beta  float64 `json:"beta"`
	Pairs []struct {
		PromptLength int   `json:"prompt_length"`
		Chosen       []int `json:"chosen"`
		Rejected     []int `json:"rejected"`
	} `json:"pairs"`
	ReferenceLogps []float64 `json:"reference_logps"`
	PolicyLogps    []float64 `json:"policy_logps"`
	Loss           float64   `json:"loss"`
}

func completion(tokens []int, prompt int) TrainSequence {
	targets := make([]bool, len(tokens))
	for i := prompt; i < len(tokens); i++ {
		targets[i] = true
	}
	return TrainSequence{Tokens: tokens, Targets: targets}
}

// TestLoraGradsMatchTorch runs the DPO sigmoid loss of two pairs through
// the float32 training pass and compares the loss, the policy log-probs
// and every LoRA gradient with the plain-torch reference.
func TestLoraGradsMatchTorch(t *testing.T) {
	for _, name := range []string{"llama_f32", "qwen2_bias_tied_f16", "qwen3_qknorm_bf16", "llama3_rope_tied_bf16"} {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			dir := filepath.Join("testdata", "grad", name)
			ad, err := peft.Load(dir, m.AdapterDims())
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			var g gradGolden
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatalf("parse %s/golden.json: %v", dir, err)
			}

			var batch []TrainSequence
			for _, p := range g.Pairs {
				batch = append(batch, completion(p.Chosen, p.PromptLength), completion(p.Rejected, p.PromptLength))
			}
			loss := train.DPOLoss{Type: train.Sigmoid, Beta: g.Beta}
			var gotLoss float64
			lossGrad := func(logps []float64) ([]float64, error) {
				pairs := make([]train.Pair, len(g.Pairs))
				for i := range pairs {
					pairs[i] = train.Pair{
						PolicyChosen: logps[2*i], PolicyRejected: logps[2*i+1],
						ReferenceChosen: g.ReferenceLogps[2*i], ReferenceRejected: g.ReferenceLogps[2*i+1],
					}
				}
				res := loss.Batch(pairs)
				gotLoss = res.Metrics.Loss
				dlogp := make([]float64, len(logps))
				for i, r := range res.Pairs {
					dlogp[2*i], dlogp[2*i+1] = r.GradChosen, r.GradRejected
				}
				return dlogp, nil
			}
			grads := NewLoraGrads(ad)
			logps, err := m.SequenceLogProbGrad(ad, batch, nil, lossGrad, grads)
			if err != nil {
				t.Fatal(err)
			}

			if d := math.Abs(gotLoss-g.Loss) / math.Abs(g.Loss); d > gradGoldenTolerance {
				t.Errorf("loss = %.8g, want %.8g (relative difference %.2g)", gotLoss, g.Loss, d)
			}
			for i, want := range g.PolicyLogps {
				if d := math.Abs(logps[i]-want) / math.Abs(want); d > gradGoldenTolerance {
					t.Errorf("log-prob of sequence %d = %.8g, want %.8g (relative difference %.2g)", i, logps[i], want, d)
				}
			}

			set, err := safetensors.Open(filepath.Join(dir, "grads.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			for _, k := range ad.Keys() {
				for _, matrix := range []string{"A", "B"} {
					l := grads[k]
					got, shape := l.A, []int{l.R, l.In}
					if matrix == "B" {
						got, shape = l.B, []int{l.Out, l.R}
					}
					tensor := peft.TensorName(k, matrix)
					want, err := set.Float32(tensor, shape...)
					if err != nil {
						t.Fatal(err)
					}
					wantF64 := make([]float64, len(want))
					for i, v := range want {
						wantF64[i] = float64(v)
					}
					if d := relativeMaxDiff(got, wantF64); d > gradGoldenTolerance {
						t.Errorf("%s: gradient differs from torch by %.3g relative to its max, want at most %g", tensor, d, gradGoldenTolerance)
					}
				}
			}
		})
	}
}

// TestDPOStepsLowerLoss wires the training pass to train.DPOLoss,
// train.ClipGradNorm and train.AdamW, and checks that a few optimizer steps
// on one batch, with dropout, lower the DPO loss.
func TestDPOStepsLowerLoss(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	ad := testAdapter(t, m, 0.1)
	batch := []TrainSequence{
		completion([]int{1, 17, 5, 42, 8, 63, 2}, 3), completion([]int{1, 17, 5, 30, 11, 2}, 3),
		completion([]int{1, 9, 33, 4, 60, 21, 2, 14}, 4), completion([]int{1, 9, 33, 4, 7}, 4),
	}
	reference, err := m.TrainForward(nil, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	refLogps := reference.LogProbs()
	loss := train.DPOLoss{Type: train.Sigmoid, Beta: 0.1}
	evalLoss := func() float64 {
		pass, err := m.TrainForward(ad, batch, nil)
		if err != nil {
			t.Fatal(err)
		}
		return loss.Batch(dpoPairs(pass.LogProbs(), refLogps)).Metrics.Loss
	}

	opt, err := train.NewAdamW(train.DefaultAdamWConfig())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(31, 32))
	before := evalLoss()
	for step := range 5 {
		grads := NewLoraGrads(ad)
		lossGrad := func(logps []float64) ([]float64, error) {
			res := loss.Batch(dpoPairs(logps, refLogps))
			dlogp := make([]float64, len(logps))
			for i, r := range res.Pairs {
				dlogp[2*i], dlogp[2*i+1] = r.GradChosen, r.GradRejected
			}
			return dlogp, nil
		}
		if _, err := m.SequenceLogProbGrad(ad, batch, rng, lossGrad, grads); err != nil {
			t.Fatal(err)
		}
		var params []train.Param
		var flat [][]float32
		for _, k := range ad.Keys() {
			l, g := ad.Layers[k], grads[k]
			params = append(params,
				train.Param{Name: peft.TensorName(k, "A"), Value: l.A, Grad: g.A},
				train.Param{Name: peft.TensorName(k, "B"), Value: l.B, Grad: g.B})
			flat = append(flat, g.A, g.B)
		}
		train.ClipGradNorm(flat, 1)
		if err := opt.Step(params, 1e-2); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	after := evalLoss()
	t.Logf("DPO loss %.6g before and %.6g after 5 steps", before, after)
	if !(after < before-0.01) {
		t.Errorf("DPO loss after 5 steps = %.6g, want below %.6g (the loss before minus 0.01)", after, before-0.01)
	}
}

// dpoPairs pairs the sequence log-probs as chosen, rejected, chosen, ...
func dpoPairs(policy, reference []float64) []train.Pair {
	pairs := make([]train.Pair, len(policy)/2)
	for i := range pairs {
		pairs[i] = train.Pair{
			PolicyChosen: policy[2*i], PolicyRejected: policy[2*i+1],
			ReferenceChosen: reference[2*i], ReferenceRejected: reference[2*i+1],
		}
	}
	return pairs
}
