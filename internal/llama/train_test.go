package llama

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"ipo/internal/peft"
)

// trainBatch is a batch of three sequences of different lengths; the
// targets are the tokens after the first two, as in a prompt/completion
// split.
func trainBatch() []TrainSequence {
	seqs := [][]int{{1, 17, 5, 42, 8, 63, 2}, {1, 9, 33, 4}, {3, 50, 7, 7, 12}}
	batch := make([]TrainSequence, len(seqs))
	for s, tokens := range seqs {
		targets := make([]bool, len(tokens))
		for i := 2; i < len(tokens); i++ {
			targets[i] = true
		}
		batch[s] = TrainSequence{Tokens: tokens, Targets: targets}
	}
	return batch
}

// testAdapter returns an all-linear adapter for m with non-zero B, so that
// gradients of A are not zero.
func testAdapter(t *testing.T, m *Model, dropout float64) *peft.Adapter {
	t.Helper()
	cfg := peft.DefaultLoraConfig()
	cfg.R, cfg.LoraAlpha, cfg.LoraDropout = 4, 8, dropout
	cfg.TargetModules, cfg.AllLinearLayers = nil, true
	cfg.InitLoraWeights = "false"
	ad, err := peft.New(cfg, m.AdapterDims(), rand.New(rand.NewPCG(21, 22)))
	if err != nil {
		t.Fatal(err)
	}
	return ad
}

// TestModelLoraGradFiniteDiff checks the LoRA gradients of a whole tiny
// model, in float64, against central differences of
// L = Σ dlogp[s]·logp[s], with dropout on so the masks are checked too.
func TestModelLoraGradFiniteDiff(t *testing.T) {
	for _, name := range []string{"llama_f32", "qwen2_bias_tied_f16", "qwen3_qknorm_bf16", "mistral_window_f16"} {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			ad := testAdapter(t, m, 0.2)
			net, err := newNetwork[float64](m, ad)
			if err != nil {
				t.Fatal(err)
			}
			p, err := newPass(m, net, trainBatch(), rand.New(rand.NewPCG(23, 24)))
			if err != nil {
				t.Fatal(err)
			}
			dlogp := []float64{0.7, -1.3, 0.4}
			loss := func() float64 {
				p.forward(len(dlogp))
				return dot(p.logps, dlogp)
			}

			grads := make([][numLinear]*loraPair[float64], len(net.layers))
			for i, l := range net.layers {
				for j, lp := range l.lora {
					if lp != nil {
						grads[i][j] = &loraPair[float64]{a: make([]float64, len(lp.a)), b: make([]float64, len(lp.b))}
					}
				}
			}
			p.backward(dlogp, grads)

			for i, l := range net.layers {
				for j, lp := range l.lora {
					key := peft.Key{Layer: i, Module: peft.LinearModules[j]}.String()
					checkGradient(t, key+" A", lp.a, grads[i][j].a, 5, loss)
					checkGradient(t, key+" B", lp.b, grads[i][j].b, 5, loss)
				}
			}
		})
	}
}

// TestTrainForwardMatchesLogits checks that the training forward's
// sequence log-probs, with B zero, equal those of the inference forward.
func TestTrainForwardMatchesLogits(t *testing.T) {
	for _, name := range goldenNames(t) {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			cfg := peft.DefaultLoraConfig()
			ad, err := peft.New(cfg, m.AdapterDims(), rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			batch := trainBatch()
			pass, err := m.TrainForward(ad, batch, nil)
			if err != nil {
				t.Fatal(err)
			}
			for s, seq := range batch {
				want := referenceSequenceLogp(t, m, seq)
				if got := pass.LogProbs()[s]; math.Abs(got-want) > 1e-4*max(1, math.Abs(want)) {
					t.Errorf("sequence %d: training log-prob %.7g, want %.7g from Logits", s, got, want)
				}
			}
		})
	}
}

// referenceSequenceLogp sums the target log-probs from m.Logits.
func referenceSequenceLogp(t *testing.T, m *Model, seq TrainSequence) float64 {
	t.Helper()
	logits, err := m.Logits([]Request{{Tokens: seq.Tokens}})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for i, on := range seq.Targets {
		if on {
			sum += logSoftmaxGatherForward(logits[0][i-1], seq.Tokens[i])
		}
	}
	return sum
}

// TestMergeMatchesAdapterLogits checks that the merged model's logits
// equal the base model's with the adapter applied.
func TestMergeMatchesAdapterLogits(t *testing.T) {
	for _, name := range []string{"llama_f32", "qwen3_qknorm_bf16"} {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			ad := testAdapter(t, m, 0)
			merged, err := m.Merge(ad)
			if err != nil {
				t.Fatal(err)
			}
			batch := trainBatch()
			pass, err := m.TrainForward(ad, batch, nil)
			if err != nil {
				t.Fatal(err)
			}
			base, err := m.TrainForward(nil, batch, nil)
			if err != nil {
				t.Fatal(err)
			}
			for s, seq := range batch {
				want := pass.LogProbs()[s]
				got := referenceSequenceLogp(t, merged, seq)
				if math.Abs(got-want) > 1e-4*max(1, math.Abs(want)) {
					t.Errorf("sequence %d: merged log-prob %.7g, want %.7g (base %.7g)", s, got, want, base.LogProbs()[s])
				}
				if math.Abs(base.LogProbs()[s]-want) < 1e-3 {
					t.Errorf("sequence %d: adapter changes the log-prob by under 1e-3 (%.7g vs %.7g), so the test proves nothing", s, base.LogProbs()[s], want)
				}
			}
		})
	}
}

func TestTrainForwardRejectsBadInput(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	ad := testAdapter(t, m, 0)
	other := loadTestModel(t, "llama_headdim_bias_f16")
	wrongShape := testAdapter(t, other, 0)
	tests := []struct {
		name    string
		ad      *peft.Adapter
		batch   []TrainSequence
		wantErr string
	}{
		{"targets length mismatch", ad, []TrainSequence{{Tokens: []int{1, 2, 3}, Targets: []bool{false, true}}}, "2 targets for 3 tokens"},
		{"first token target", ad, []TrainSequence{{Tokens: []int{1, 2}, Targets: []bool{true, true}}}, "set Targets[0] to false"},
		{"token out of range", ad, []TrainSequence{{Tokens: []int{1, 999}, Targets: []bool{false, true}}}, "token id 999 out of range"},
		{"empty sequence", ad, []TrainSequence{{}}, "sequence 0 is empty"},
		{"adapter of another model", wrongShape, trainBatch(), "want r×"},
		{"nil adapter", nil, trainBatch(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.TrainForward(tc.ad, tc.batch, nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("TrainForward: %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("TrainForward error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestBackwardRejectsBadGradients(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	ad := testAdapter(t, m, 0)
	pass, err := m.TrainForward(ad, trainBatch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pass.Backward([]float64{1}, NewLoraGrads(ad)); err == nil || !strings.Contains(err.Error(), "1 log-prob gradients for 3 sequences") {
		t.Errorf("Backward with 1 gradient: error %v, want one naming 1 gradient for 3 sequences", err)
	}
	if err := pass.Backward([]float64{1, 1, 1}, map[peft.Key]*peft.Lora{}); err == nil || !strings.Contains(err.Error(), "NewLoraGrads") {
		t.Errorf("Backward with empty grads: error %v, want one pointing to NewLoraGrads", err)
	}
}
