package llama

import (
	"encoding/json"
	"math"
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
