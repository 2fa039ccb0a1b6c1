package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"ipo/internal/peft"
)

// TrainingArguments are the settings DPO and SFT share, under the names of
// Hugging Face's TrainingArguments and TRL's command line. Zero values of
// optional limits mean "none".
type TrainingArguments struct {
	ModelNameOrPath string `yaml:"model_name_or_path"`
	DatasetPath     string `yaml:"dataset_path"`
	OutputDir       string `yaml:"output_dir"`

	LearningRate   float64       `yaml:"learning_rate"`
	LRScheduler    SchedulerType `yaml:"lr_scheduler_type"`
	WarmupRatio    float64       `yaml:"warmup_ratio"`
	WarmupSteps    int           `yaml:"warmup_steps"`
	NumTrainEpochs float64       `yaml:"num_train_epochs"`
	MaxSteps       int           `yaml:"max_steps"` // -1: run num_train_epochs

	// PerDeviceTrainBatchSize is the micro-batch size: the examples in one
	// forward and backward pass.
	PerDeviceTrainBatchSize int `yaml:"per_device_train_batch_size"`
	PerDeviceEvalBatchSize  int `yaml:"per_device_eval_batch_size"`
	// GradientAccumulationSteps is the number of micro-batches per
	// optimizer step.
	GradientAccumulationSteps int `yaml:"gradient_accumulation_steps"`

	WeightDecay float64 `yaml:"weight_decay"`
	AdamBeta1   float64 `yaml:"adam_beta1"`
	AdamBeta2   float64 `yaml:"adam_beta2"`
	AdamEpsilon float64 `yaml:"adam_epsilon"`
	MaxGradNorm float64 `yaml:"max_grad_norm"` // 0 disables clipping

	Seed           int64   `yaml:"seed"`
	LoggingSteps   int     `yaml:"logging_steps"`
	SaveSteps      int     `yaml:"save_steps"`
	SaveTotalLimit int     `yaml:"save_total_limit"` // 0 keeps every checkpoint
	EvalSplit      float64 `yaml:"eval_split"`       // share of the data held out for evaluation
	EvalSteps      int     `yaml:"eval_steps"`       // 0: evaluate every logging_steps

	MaxLength int `yaml:"max_length"`

	LoraR             int      `yaml:"lora_r"`
	LoraAlpha         float64  `yaml:"lora_alpha"`
	LoraDropout       float64  `yaml:"lora_dropout"`
	LoraTargetModules []string `yaml:"lora_target_modules"` // names, or ["all-linear"]
	UseRSLoRA         bool     `yaml:"use_rslora"`
}

// defaultTrainingArguments returns the TrainingArguments defaults as TRL's
// configs set them, with PEFT's LoraConfig defaults for the adapter.
func defaultTrainingArguments() TrainingArguments {
	lora := peft.DefaultLoraConfig()
	return TrainingArguments{
		LRScheduler:               Linear,
		NumTrainEpochs:            3,
		MaxSteps:                  -1,
		PerDeviceTrainBatchSize:   8,
		PerDeviceEvalBatchSize:    8,
		GradientAccumulationSteps: 1,
		AdamBeta1:                 0.9,
		AdamBeta2:                 0.999,
		AdamEpsilon:               1e-8,
		MaxGradNorm:               1,
		Seed:                      42,
		LoggingSteps:              10,
		SaveSteps:                 500,
		MaxLength:                 1024,
		LoraR:                     lora.R,
		LoraAlpha:                 lora.LoraAlpha,
		LoraDropout:               lora.LoraDropout,
		LoraTargetModules:         lora.TargetModules,
	}
}

// DPOConfig configures `ipo train dpo`. Its keys and defaults follow TRL's
// DPOConfig: beta 0.1, sigmoid loss, learning rate 1e-6, max_length 1024,
// max_prompt_length 512, truncation keep_end.
type DPOConfig struct {
	TrainingArguments `yaml:",inline"`

	Beta                float64  `yaml:"beta"`
	LossType            LossType `yaml:"loss_type"`
	LabelSmoothing      float64  `yaml:"label_smoothing"`
	MaxPromptLength     int      `yaml:"max_prompt_length"`
	MaxCompletionLength int      `yaml:"max_completion_length"`
	TruncationMode      string   `yaml:"truncation_mode"` // keep_end or keep_start
}

// DefaultDPOConfig returns TRL's DPOConfig defaults.
func DefaultDPOConfig() DPOConfig {
	c := DPOConfig{
		TrainingArguments: defaultTrainingArguments(),
		Beta:              0.1,
		LossType:          Sigmoid,
		MaxPromptLength:   512,
		TruncationMode:    "keep_end",
	}
	c.LearningRate = 1e-6
	return c
}

// Loss returns the DPO loss the config selects.
func (c DPOConfig) Loss() DPOLoss {
	return DPOLoss{Type: c.LossType, Beta: c.Beta, LabelSmoothing: c.LabelSmoothing}
}

// Validate checks every value and names the offending key.
func (c DPOConfig) Validate() error {
	if err := c.TrainingArguments.Validate(); err != nil {
		return err
	}
	if err := c.Loss().Validate(); err != nil {
		return err
	}
	if c.MaxPromptLength < 0 {
		return fmt.Errorf("max_prompt_length: must not be negative, got %d", c.MaxPromptLength)
	}
	if c.MaxCompletionLength < 0 {
		return fmt.Errorf("max_completion_length: must not be negative, got %d", c.MaxCompletionLength)
	}
	if c.TruncationMode != "keep_end" && c.TruncationMode != "keep_start" {
		return fmt.Errorf("truncation_mode: must be keep_end or keep_start, got %q", c.TruncationMode)
	}
	return nil
}

// SFTConfig configures `ipo train sft`. Its keys and defaults follow TRL's
// SFTConfig: learning rate 2e-5, max_length 1024, loss on completion tokens
// only.
type SFTConfig struct {
	TrainingArguments `yaml:",inline"`

	CompletionOnlyLoss bool `yaml:"completion_only_loss"`
}

// DefaultSFTConfig returns TRL's SFTConfig defaults.
func DefaultSFTConfig() SFTConfig {
	c := SFTConfig{TrainingArguments: defaultTrainingArguments(), CompletionOnlyLoss: true}
	c.LearningRate = 2e-5
	return c
}

// Validate checks every value and names the offending key.
func (c SFTConfig) Validate() error {
	return c.TrainingArguments.Validate()
}

// Validate checks the shared settings and names the offending key.
func (a TrainingArguments) Validate() error {
	sched := Schedule{Type: a.LRScheduler, BaseLR: a.LearningRate, WarmupSteps: a.WarmupSteps, TotalSteps: 1}
	if err := sched.Validate(); err != nil {
		return err
	}
	if err := a.AdamW().Validate(); err != nil {
		return err
	}

	positive := []struct {
		key   string
		value int
	}{
		{"per_device_train_batch_size", a.PerDeviceTrainBatchSize},
		{"per_device_eval_batch_size", a.PerDeviceEvalBatchSize},
		{"gradient_accumulation_steps", a.GradientAccumulationSteps},
		{"logging_steps", a.LoggingSteps},
		{"save_steps", a.SaveSteps},
		{"max_length", a.MaxLength},
	}
	for _, p := range positive {
		if p.value <= 0 {
			return fmt.Errorf("%s: must be a positive integer, got %d", p.key, p.value)
		}
	}
	if a.MaxSteps == 0 || a.MaxSteps < -1 {
		return fmt.Errorf("max_steps: must be positive, or -1 to run num_train_epochs, got %d", a.MaxSteps)
	}
	if a.MaxSteps == -1 && !(a.NumTrainEpochs > 0) {
		return fmt.Errorf("num_train_epochs: must be positive when max_steps is -1, got %v", a.NumTrainEpochs)
	}
	if !(a.WarmupRatio >= 0 && a.WarmupRatio <= 1) {
		return fmt.Errorf("warmup_ratio: must be in [0, 1], got %v", a.WarmupRatio)
	}
	if !(a.MaxGradNorm >= 0) || math.IsInf(a.MaxGradNorm, 0) {
		return fmt.Errorf("max_grad_norm: must be a non-negative number (0 disables clipping), got %v", a.MaxGradNorm)
	}
	if !(a.EvalSplit >= 0 && a.EvalSplit < 1) {
		return fmt.Errorf("eval_split: must be in [0, 1), got %v", a.EvalSplit)
	}
	if a.EvalSteps < 0 || a.SaveTotalLimit < 0 {
		return fmt.Errorf("eval_steps and save_total_limit: must not be negative, got %d and %d", a.EvalSteps, a.SaveTotalLimit)
	}

	if _, err := a.Lora(); err != nil {
		return err
	}
	return nil
}

// AdamW returns the optimizer settings.
func (a TrainingArguments) AdamW() AdamWConfig {
	return AdamWConfig{Beta1: a.AdamBeta1, Beta2: a.AdamBeta2, Eps: a.AdamEpsilon, WeightDecay: a.WeightDecay}
}

// Schedule returns the learning-rate schedule for totalSteps optimizer
// steps.
func (a TrainingArguments) Schedule(totalSteps int) Schedule {
	return Schedule{
		Type:        a.LRScheduler,
		BaseLR:      a.LearningRate,
		WarmupSteps: WarmupSteps(a.WarmupSteps, a.WarmupRatio, totalSteps),
		TotalSteps:  totalSteps,
	}
}

// Lora returns the adapter configuration, with the lora_* keys mapped to
// PEFT's names. The base model name is left for the caller to set.
func (a TrainingArguments) Lora() (peft.LoraConfig, error) {
	c := peft.DefaultLoraConfig()
	c.R = a.LoraR
	c.LoraAlpha = a.LoraAlpha
	c.LoraDropout = a.LoraDropout
	c.UseRSLoRA = a.UseRSLoRA
	c.TargetModules = a.LoraTargetModules
	if slices.Contains(a.LoraTargetModules, peft.AllLinear) {
		if len(a.LoraTargetModules) != 1 {
			return c, fmt.Errorf("lora_target_modules: %q cannot be combined with module names, got %v", peft.AllLinear, a.LoraTargetModules)
		}
		c.TargetModules = nil
		c.AllLinearLayers = true
	}
	if err := c.Validate(); err != nil {
		return c, loraKeyError(err)
	}
	return c, nil
}

// LoadDPOConfig reads a YAML or JSON file over the defaults and validates
// the result. Unknown keys are rejected with the key and its line.
func LoadDPOConfig(path string) (DPOConfig, error) {
	c := DefaultDPOConfig()
	if err := decodeConfigFile(path, &c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// LoadSFTConfig reads a YAML or JSON file over the defaults and validates
// the result. Unknown keys are rejected with the key and its line.
func LoadSFTConfig(path string) (SFTConfig, error) {
	c := DefaultSFTConfig()
	if err := decodeConfigFile(path, &c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// decodeConfigFile decodes path into dst, which holds the defaults. JSON
// is read as YAML, of which it is a subset.
func decodeConfigFile(path string, dst any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if err := DecodeYAML(data, dst); err != nil && !errors.Is(err, io.EOF) {
		var typeErr *yaml.TypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("config %s: %v", path, joinLines(typeErr.Errors))
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// loraKeyError renames the PEFT key that err starts with to its lora_*
// config key.
func loraKeyError(err error) error {
	msg := err.Error()
	for _, key := range []string{"r", "target_modules"} {
		if rest, ok := strings.CutPrefix(msg, key+":"); ok {
			return errors.New("lora_" + key + ":" + rest)
		}
	}
	return err
}

func joinLines(lines []string) string {
	var buf bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			buf.WriteString("; ")
		}
		buf.WriteString(l)
	}
	return buf.String()
}
