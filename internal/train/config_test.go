package train

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeConfig(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDPODefaultsFollowTRL(t *testing.T) {
	c := DefaultDPOConfig()
	checks := []struct {
		key       string
		want, got any
	}{
		{"beta", 0.1, c.Beta},
		{"loss_type", Sigmoid, c.LossType},
		{"label_smoothing", 0.0, c.LabelSmoothing},
		{"learning_rate", 1e-6, c.LearningRate},
		{"max_length", 1024, c.MaxLength},
		{"max_prompt_length", 512, c.MaxPromptLength},
		{"truncation_mode", "keep_end", c.TruncationMode},
		{"lr_scheduler_type", Linear, c.LRScheduler},
		{"per_device_train_batch_size", 8, c.PerDeviceTrainBatchSize},
		{"gradient_accumulation_steps", 1, c.GradientAccumulationSteps},
		{"num_train_epochs", 3.0, c.NumTrainEpochs},
		{"max_grad_norm", 1.0, c.MaxGradNorm},
		{"adam_beta2", 0.999, c.AdamBeta2},
		{"adam_epsilon", 1e-8, c.AdamEpsilon},
		{"weight_decay", 0.0, c.WeightDecay},
		{"seed", int64(42), c.Seed},
		{"logging_steps", 10, c.LoggingSteps},
		{"lora_r", 8, c.LoraR},
		{"lora_alpha", 8.0, c.LoraAlpha},
		{"lora_dropout", 0.0, c.LoraDropout},
	}
	for _, ch := range checks {
		if ch.want != ch.got {
			t.Errorf("%s: want %v, got %v", ch.key, ch.want, ch.got)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults: want valid, got %v", err)
	}

	s := DefaultSFTConfig()
	if s.LearningRate != 2e-5 {
		t.Errorf("sft learning_rate: want 2e-05, got %v", s.LearningRate)
	}
	if !s.CompletionOnlyLoss {
		t.Error("sft completion_only_loss: want true, got false")
	}
}

func TestLoadDPOConfigYAMLAndJSON(t *testing.T) {
	yamlPath := writeConfig(t, "dpo.yaml", `
beta: 0.3
loss_type: robust
label_smoothing: 0.1
learning_rate: 5.0e-6
lr_scheduler_type: cosine
warmup_ratio: 0.1
gradient_accumulation_steps: 4
lora_r: 16
lora_alpha: 32
lora_target_modules: [all-linear]
`)
	jsonPath := writeConfig(t, "dpo.json", `{"beta": 0.3, "loss_type": "robust", "label_smoothing": 0.1,
 "learning_rate": 5e-6, "lr_scheduler_type": "cosine", "warmup_ratio": 0.1,
 "gradient_accumulation_steps": 4, "lora_r": 16, "lora_alpha": 32, "lora_target_modules": ["all-linear"]}`)

	want := DefaultDPOConfig()
	want.Beta, want.LossType, want.LabelSmoothing = 0.3, Robust, 0.1
	want.LearningRate, want.LRScheduler, want.WarmupRatio = 5e-6, Cosine, 0.1
	want.GradientAccumulationSteps = 4
	want.LoraR, want.LoraAlpha, want.LoraTargetModules = 16, 32, []string{"all-linear"}

	for _, path := range []string{yamlPath, jsonPath} {
		got, err := LoadDPOConfig(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", filepath.Base(path), diff)
		}
		lora, err := got.Lora()
		if err != nil {
			t.Fatal(err)
		}
		if !lora.AllLinearLayers || lora.Scaling() != 2 {
			t.Errorf("%s: lora: want all-linear with scaling 2, got %+v", filepath.Base(path), lora)
		}
	}
}

func TestLoadConfigRejectsBadKeys(t *testing.T) {
	tests := []struct {
		name, body, errSub string
	}{
		{"unknown key", "beta: 0.1\nbetta: 0.2\n", "field betta not found"},
		{"unknown json key", `{"lora_rank": 4}`, "field lora_rank not found"},
		{"wrong type", "beta: high\n", "cannot unmarshal"},
		{"bad loss", "loss_type: kto\n", `loss_type: unsupported value "kto"`},
		{"bad beta", "beta: -1\n", "beta: must be a positive number"},
		{"bad schedule", "lr_scheduler_type: polynomial\n", "lr_scheduler_type: unsupported"},
		{"bad target", "lora_target_modules: [qkv]\n", `lora_target_modules: unknown module "qkv"`},
		{"bad rank", "lora_r: 0\n", "lora_r: must be a positive integer"},
		{"mixed targets", "lora_target_modules: [all-linear, q_proj]\n", "cannot be combined"},
		{"bad batch", "per_device_train_batch_size: 0\n", "per_device_train_batch_size: must be a positive integer"},
		{"bad max steps", "max_steps: 0\n", "max_steps: must be positive"},
		{"bad truncation", "truncation_mode: middle\n", "truncation_mode: must be keep_end or keep_start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "c.yaml", tt.body)
			_, err := LoadDPOConfig(path)
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Fatalf("error: want one containing %q, got %v", tt.errSub, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error: want it to name the file %s, got %v", path, err)
			}
		})
	}
}

func TestLoadSFTConfigRejectsDPOKeys(t *testing.T) {
	path := writeConfig(t, "sft.yaml", "completion_only_loss: false\nlearning_rate: 1e-4\n")
	c, err := LoadSFTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.CompletionOnlyLoss || c.LearningRate != 1e-4 {
		t.Errorf("sft config: want completion_only_loss false and learning_rate 1e-4, got %v and %v", c.CompletionOnlyLoss, c.LearningRate)
	}
	path = writeConfig(t, "sft.yaml", "beta: 0.1\n")
	if _, err := LoadSFTConfig(path); err == nil || !strings.Contains(err.Error(), "field beta not found") {
		t.Errorf("beta in an sft config: want an unknown-key error, got %v", err)
	}
}

func TestConfigScheduleAndOptimizer(t *testing.T) {
	c := DefaultDPOConfig()
	c.WarmupRatio = 0.1
	s := c.Schedule(95)
	if s.WarmupSteps != 10 || s.TotalSteps != 95 || s.BaseLR != 1e-6 {
		t.Errorf("schedule: want 10 warmup of 95 steps at 1e-6, got %+v", s)
	}
	if got := c.AdamW(); got != DefaultAdamWConfig() {
		t.Errorf("optimizer: want %+v, got %+v", DefaultAdamWConfig(), got)
	}
}

func TestLoggerConsoleAndJSONL(t *testing.T) {
	var console, jsonl bytes.Buffer
	l := &Logger{Console: &console, JSONL: &jsonl, TotalSteps: 100}
	m := DPOMetrics{Loss: 0.5, RewardsChosen: 0.25, RewardsRejected: -0.125, RewardsAccuracies: 0.75, RewardsMargins: 0.375, LogpsChosen: -10, LogpsRejected: -12}
	values := m.Values()
	values[MetricLR] = 1e-6
	values[MetricGradNorm] = math.NaN()
	values[MetricTokensPerSec] = 1234.4
	if err := l.Log(Record{Step: 10, Epoch: 0.5, Values: values}); err != nil {
		t.Fatal(err)
	}
	if err := l.Log(Record{Step: 10, Epoch: 0.5, Values: map[string]float64{MetricLoss: 0.7}}.Prefixed("eval_")); err != nil {
		t.Fatal(err)
	}

	wantJSON := `{"step":10,"epoch":0.5,"loss":0.5,"rewards/chosen":0.25,"rewards/rejected":-0.125,"rewards/accuracies":0.75,"rewards/margins":0.375,"logps/chosen":-10,"logps/rejected":-12,"learning_rate":1e-06,"grad_norm":null,"tokens_per_second":1234.4}
{"step":10,"epoch":0.5,"eval_loss":0.7}
`
	if diff := cmp.Diff(wantJSON, jsonl.String()); diff != "" {
		t.Errorf("jsonl (-want +got):\n%s", diff)
	}
	wantConsole := "step 10/100 epoch 0.50 loss 0.5000 rewards/chosen 0.2500 rewards/rejected -0.1250 rewards/accuracies 0.7500 rewards/margins 0.3750 logps/chosen -10.0000 logps/rejected -12.0000 lr 1.000e-06 grad_norm NaN tokens/s 1234\n" +
		"step 10/100 epoch 0.50 eval_loss 0.7000\n"
	if diff := cmp.Diff(wantConsole, console.String()); diff != "" {
		t.Errorf("console (-want +got):\n%s", diff)
	}
}

func TestTruncateLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	body := `{"step":1,"loss":1}
{"step":2,"loss":0.9}
{"step":3,"loss":0.8}
{"step":4,"lo`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := TruncateLog(path, 2); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "{\"step\":1,\"loss\":1}\n{\"step\":2,\"loss\":0.9}\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("truncated log (-want +got):\n%s", diff)
	}
	if err := TruncateLog(filepath.Join(t.TempDir(), "none.jsonl"), 1); err != nil {
		t.Errorf("missing log: want nil, got %v", err)
	}
}
