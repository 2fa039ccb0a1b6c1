package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"ipo/internal/train"
)

// fixedCompletions returns n examples with random prompts and one fixed
// completion, which SFT must learn.
func fixedCompletions(n, vocab int) []EncodedSFT {
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([]EncodedSFT, n)
	for i := range xs {
		prompt := []int{1}
		for range 3 + rng.IntN(4) {
			prompt = append(prompt, 3+rng.IntN(vocab-3))
		}
		xs[i] = EncodedSFT{ID: string(rune('A' + i)), Prompt: prompt, Completion: []int{40, 41, 42, 43, 2}}
	}
	return xs
}

func sftConfig() train.SFTConfig {
	cfg := train.DefaultSFTConfig()
	cfg.LearningRate = 1e-2
	cfg.MaxSteps = 60
	cfg.PerDeviceTrainBatchSize = 4
	cfg.GradientAccumulationSteps = 2
	cfg.LoggingSteps = 1
	cfg.SaveSteps = 100
	cfg.EvalSplit = 0.25
	cfg.LoraTargetModules = []string{"q_proj", "v_proj", "down_proj"}
	return cfg
}

func TestSFTFirstLossIsCompletionNLL(t *testing.T) {
	m := tinyModel(t)
	xs := fixedCompletions(16, m.Config.VocabSize)
	cfg := sftConfig()
	cfg.MaxSteps = 1
	cfg.EvalSplit = 0
	cfg.LearningRate = 0 // keeps the adapter at identity for the check below
	cfg.GradientAccumulationSteps = 4
	res, err := (&SFT{Model: m, Config: cfg, Examples: xs, Options: Options{OutDir: t.TempDir()}}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// One step with 4 micro-batches of 4 covers all 16 examples, so the
	// loss is the mean NLL of every completion token.
	var nll float64
	var n int
	for _, x := range xs {
		tokens := append(append([]int{}, x.Prompt...), x.Completion...)
		lps, err := m.LogProbs([][]int{tokens}, []int{len(x.Prompt)})
		if err != nil {
			t.Fatal(err)
		}
		for _, lp := range lps[0] {
			nll -= lp
			n++
		}
	}
	want := nll / float64(n)
	if got := res.Train[train.MetricLoss]; math.Abs(got-want) > 1e-4*math.Abs(want) {
		t.Errorf("first SFT loss %.6f, want the mean completion NLL %.6f", got, want)
	}
	if got := res.Train["num_tokens"]; got != float64(n) {
		t.Errorf("num_tokens %v, want %d completion tokens", got, n)
	}
}

func TestSFTLearnsFixedCompletion(t *testing.T) {
	m := tinyModel(t)
	xs := fixedCompletions(40, m.Config.VocabSize)
	cfg := sftConfig()

	cfg0 := cfg
	cfg0.MaxSteps, cfg0.LearningRate = 1, 0
	before, err := (&SFT{Model: m, Config: cfg0, Examples: xs, Options: Options{OutDir: t.TempDir()}}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after, err := (&SFT{Model: m, Config: cfg, Examples: xs, Options: Options{OutDir: t.TempDir()}}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, a := before.Eval[train.MetricLoss], after.Eval[train.MetricLoss]
	if !(a < b/2) {
		t.Errorf("held-out SFT loss %.4f after %d steps, want below half of %.4f before training", a, after.Steps, b)
	}
}

func TestSFTSequenceMasks(t *testing.T) {
	x := EncodedSFT{ID: "x", Prompt: []int{1, 5, 6}, Completion: []int{7, 8, 2}}
	tests := []struct {
		name           string
		max            int
		completionOnly bool
		want           []bool
	}{
		{"completion only", 0, true, []bool{false, false, false, true, true, true}},
		{"whole sequence", 0, false, []bool{false, true, true, true, true, true}},
		{"cut to five tokens", 5, true, []bool{false, false, false, true, true}},
		{"cut inside the prompt", 2, true, []bool{false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seq, err := x.Sequence(tc.max, tc.completionOnly)
			if err != nil {
				t.Fatal(err)
			}
			if len(seq.Targets) != len(tc.want) {
				t.Fatalf("targets %v, want %v", seq.Targets, tc.want)
			}
			for i := range tc.want {
				if seq.Targets[i] != tc.want[i] {
					t.Fatalf("targets %v, want %v", seq.Targets, tc.want)
				}
			}
		})
	}
}
