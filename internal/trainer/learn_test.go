package trainer

import (
	"testing"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/testutil"
	"ipo/internal/train"
)

// TestDPOLearnsParityRule trains stories260K on pairs whose chosen
// completions use even token ids and rejected ones odd ids. Before
// training, the implicit rewards are all zero, so the held-out reward
// accuracy (chosen reward strictly above rejected) is 0; a working
// optimizer must lift it well above chance.
func TestDPOLearnsParityRule(t *testing.T) {
	m, err := llama.Load(testutil.Shared(t, "models/stories260K"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	pairs := parityPairs(320, m.Config.VocabSize, 11)
	cfg := train.DefaultDPOConfig()
	cfg.LearningRate = 5e-3
	cfg.MaxSteps = 150
	cfg.PerDeviceTrainBatchSize = 8
	cfg.PerDeviceEvalBatchSize = 32
	cfg.EvalSplit = 0.25
	cfg.LoggingSteps = 10
	cfg.SaveSteps = 100
	cfg.LoraR = 8
	cfg.LoraAlpha = 16
	cfg.LoraTargetModules = []string{peft.AllLinear}

	res, err := runDPO(t, m, cfg, pairs, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	const threshold = 0.8
	acc := res.Eval["rewards/accuracies"]
	if acc < threshold {
		t.Errorf("held-out reward accuracy %.3f after %d steps, want at least %.2f (chance is 0.5)", acc, res.Steps, threshold)
	}
	t.Logf("held-out reward accuracy %.3f, margin %.3f, loss %.4f", acc, res.Eval["rewards/margins"], res.Eval["loss"])
}
