// Package pipeline runs the self-improvement loop of ipo: for iterations
// k = 1..K it samples responses from a disjoint pool of prompts, labels
// them with the model's own yes/no judge, trains a LoRA adapter with DPO,
// merges it and evaluates the merged model, which starts iteration k+1.
//
// Every stage writes into RUNS/NAME/iter-k/STAGE/ and finishes by writing a
// manifest there: its inputs with their sha256, its settings, counts read
// from its outputs and its wall time. A stage whose manifest matches the
// current inputs and settings is skipped, so a run can be repeated after an
// interruption and continues where it stopped.
//
// The loop is started with `ipo run --config run.yaml`; see
// docs/run-example.yaml for a small configuration.
package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"ipo/internal/train"
)

// Config is a run configuration, read from YAML or JSON. Relative paths are
// resolved from the working directory of `ipo run`.
type Config struct {
	// Name names the run folder RunsDir/Name.
	Name string `yaml:"name" json:"name"`
	// RunsDir is the folder that holds the run folders; default "runs".
	RunsDir string `yaml:"runs_dir" json:"runs_dir"`
	// Model is the model of iteration 1: a folder or a Hugging Face id.
	Model string `yaml:"model" json:"model"`
	// Iterations is K, the number of sample-label-train-merge-evaluate
	// rounds.
	Iterations int `yaml:"iterations" json:"iterations"`
	// Seed seeds the prompt pool split, the sampler (with seed+k in
	// iteration k) and the trainer.
	Seed uint64 `yaml:"seed" json:"seed"`

	Prompts PromptsConfig `yaml:"prompts" json:"prompts"`
	Sample  SampleConfig  `yaml:"sample" json:"sample"`
	Label   LabelConfig   `yaml:"label" json:"label"`
	Train   TrainConfig   `yaml:"train" json:"train"`
	Eval    EvalConfig    `yaml:"eval" json:"eval"`
}

// PromptsConfig is the prompt set that is split into one pool per
// iteration.
type PromptsConfig struct {
	// Data is a JSON, JSON Lines or Parquet file of prompts.
	Data string `yaml:"data" json:"data"`
	// Field and IDField are passed to ipo sample as --field and --id-field.
	Field   string `yaml:"field" json:"field"`
	IDField string `yaml:"id_field" json:"id_field"`
	// PerIteration is the pool size: prompts sampled in each iteration.
	PerIteration int `yaml:"per_iteration" json:"per_iteration"`
}

// SampleConfig holds the settings of `ipo sample`.
type SampleConfig struct {
	N            int      `yaml:"n" json:"n"`
	MaxNewTokens int      `yaml:"max_new_tokens" json:"max_new_tokens"`
	Temperature  *float64 `yaml:"temperature,omitempty" json:"temperature,omitempty"`
	ChatTemplate string   `yaml:"chat_template" json:"chat_template"`
	SkipLong     bool     `yaml:"skip_long" json:"skip_long"`
	// Args are further flags of ipo sample, such as ["--top-p", "0.9"].
	Args []string `yaml:"args,omitempty" json:"args,omitempty"`
}

// LabelConfig holds the settings of `ipo label`.
type LabelConfig struct {
	MinMargin     float64  `yaml:"min_margin" json:"min_margin"`
	KeepTruncated bool     `yaml:"keep_truncated" json:"keep_truncated"`
	ChatTemplate  string   `yaml:"chat_template" json:"chat_template"`
	Args          []string `yaml:"args,omitempty" json:"args,omitempty"`
}

// TrainConfig holds the settings of `ipo train dpo`.
type TrainConfig struct {
	// Config holds TRL configuration keys (beta, learning_rate, max_steps,
	// lora_r, ...), written to a file and passed as --config.
	Config       map[string]any `yaml:"config,omitempty" json:"config,omitempty"`
	ChatTemplate string         `yaml:"chat_template" json:"chat_template"`
	Args         []string       `yaml:"args,omitempty" json:"args,omitempty"`
}

// EvalConfig lists the evaluations run on the base model and after every
// iteration; a section without data is left out.
type EvalConfig struct {
	MMLU        MMLUConfig  `yaml:"mmlu" json:"mmlu"`
	GSM8K       GSM8KConfig `yaml:"gsm8k" json:"gsm8k"`
	Pairs       BenchConfig `yaml:"pairs" json:"pairs"`
	RewardBench BenchConfig `yaml:"rewardbench" json:"rewardbench"`
	RMBench     BenchConfig `yaml:"rmbench" json:"rmbench"`
}

// MMLUConfig holds the settings of `ipo eval mmlu`.
type MMLUConfig struct {
	Data     string   `yaml:"data" json:"data"`
	Subjects []string `yaml:"subjects,omitempty" json:"subjects,omitempty"`
	Shots    *int     `yaml:"shots,omitempty" json:"shots,omitempty"`
	Limit    int      `yaml:"limit" json:"limit"`
	Args     []string `yaml:"args,omitempty" json:"args,omitempty"`
}

// GSM8KConfig holds the settings of `ipo eval gsm8k`.
type GSM8KConfig struct {
	Data         string   `yaml:"data" json:"data"`
	Shots        int      `yaml:"shots" json:"shots"`
	Limit        int      `yaml:"limit" json:"limit"`
	MaxNewTokens int      `yaml:"max_new_tokens" json:"max_new_tokens"`
	Args         []string `yaml:"args,omitempty" json:"args,omitempty"`
}

// BenchConfig holds the settings of `ipo eval pairs`, `ipo bench
// rewardbench` and `ipo bench rmbench`. Limit keeps the first rows of the
// data file, written into the stage folder.
type BenchConfig struct {
	Data         string   `yaml:"data" json:"data"`
	Limit        int      `yaml:"limit" json:"limit"`
	ChatTemplate string   `yaml:"chat_template" json:"chat_template"`
	Args         []string `yaml:"args,omitempty" json:"args,omitempty"`
}

// LoadConfig reads a YAML or JSON run configuration, rejecting unknown
// keys, and validates it.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read run config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a YAML or JSON run configuration, rejecting unknown
// keys, fills in the defaults and validates it.
func ParseConfig(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty run config; give at least name, model, iterations and prompts")
		}
		return nil, fmt.Errorf("%s (the keys are listed in docs/run-example.yaml)", cleanYAMLError(err, data))
	}
	if cfg.RunsDir == "" {
		cfg.RunsDir = "runs"
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// cleanYAMLError rewrites yaml.v3's "field x not found in type
// pipeline.Config" as "unknown key x", and names the key of the line a
// type error points at.
func cleanYAMLError(err error, doc []byte) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil && strings.Contains(msg, "cannot unmarshal") {
		lines := strings.Split(string(doc), "\n")
		if line >= 1 && line <= len(lines) {
			if key, _, ok := strings.Cut(strings.TrimSpace(lines[line-1]), ":"); ok {
				msg = fmt.Sprintf("key %s: %s", strings.TrimLeft(key, "- "), msg)
			}
		}
	}
	if i := strings.Index(msg, "field "); i >= 0 {
		if j := strings.Index(msg[i:], " not found in type "); j >= 0 {
			msg = msg[:i] + "unknown key " + msg[i+len("field "):i+j]
		}
	}
	return msg
}

// Validate checks every field and returns an error that names the first
// invalid key and the fix.
func (c *Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("name is missing; give the run a name, used as its folder under runs_dir")
	case c.Name != filepath.Base(c.Name) || c.Name == "." || c.Name == "..":
		return fmt.Errorf("name %q must be a plain folder name without slashes", c.Name)
	case c.Model == "":
		return errors.New("model is missing; give a model folder or Hugging Face id")
	case c.Iterations < 1:
		return fmt.Errorf("iterations must be at least 1, got %d", c.Iterations)
	case c.Prompts.Data == "":
		return errors.New("prompts.data is missing; give a JSON, JSON Lines or Parquet file of prompts")
	case c.Prompts.PerIteration < 1:
		return fmt.Errorf("prompts.per_iteration must be at least 1, got %d", c.Prompts.PerIteration)
	case c.Sample.N < 2:
		return fmt.Errorf("sample.n must be at least 2 so that each prompt can give a chosen and a rejected response, got %d", c.Sample.N)
	case c.Sample.MaxNewTokens < 0:
		return fmt.Errorf("sample.max_new_tokens must be 0 (the model's default) or more, got %d", c.Sample.MaxNewTokens)
	case c.Sample.Temperature != nil && *c.Sample.Temperature < 0:
		return fmt.Errorf("sample.temperature must be 0 or more, got %v", *c.Sample.Temperature)
	case c.Label.MinMargin < 0:
		return fmt.Errorf("label.min_margin must be 0 or more, got %v", c.Label.MinMargin)
	case c.Eval.MMLU.Limit < 0:
		return fmt.Errorf("eval.mmlu.limit must be 0 (all questions) or more, got %d", c.Eval.MMLU.Limit)
	case c.Eval.MMLU.Shots != nil && *c.Eval.MMLU.Shots < 0:
		return fmt.Errorf("eval.mmlu.shots must be 0 or more, got %d", *c.Eval.MMLU.Shots)
	case c.Eval.GSM8K.Limit < 0:
		return fmt.Errorf("eval.gsm8k.limit must be 0 (all problems) or more, got %d", c.Eval.GSM8K.Limit)
	case c.Eval.GSM8K.Shots < 0:
		return fmt.Errorf("eval.gsm8k.shots must be 0 or more, got %d", c.Eval.GSM8K.Shots)
	case c.Eval.GSM8K.MaxNewTokens < 0:
		return fmt.Errorf("eval.gsm8k.max_new_tokens must be 0 (the command's default) or more, got %d", c.Eval.GSM8K.MaxNewTokens)
	}
	for key, b := range map[string]BenchConfig{"eval.pairs": c.Eval.Pairs, "eval.rewardbench": c.Eval.RewardBench, "eval.rmbench": c.Eval.RMBench} {
		if b.Limit < 0 {
			return fmt.Errorf("%s.limit must be 0 (all rows) or more, got %d", key, b.Limit)
		}
	}
	for key, args := range map[string][]string{"sample.args": c.Sample.Args, "label.args": c.Label.Args, "train.args": c.Train.Args,
		"eval.mmlu.args": c.Eval.MMLU.Args, "eval.gsm8k.args": c.Eval.GSM8K.Args, "eval.pairs.args": c.Eval.Pairs.Args,
		"eval.rewardbench.args": c.Eval.RewardBench.Args, "eval.rmbench.args": c.Eval.RMBench.Args} {
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("%s must start with a flag such as --top-p, got %q", key, args[0])
		}
	}
	for _, reserved := range []string{"model", "out", "data", "samples", "adapter", "resume", "config", "seed"} {
		for key, args := range map[string][]string{"sample.args": c.Sample.Args, "label.args": c.Label.Args, "train.args": c.Train.Args} {
			for _, a := range args {
				name := strings.SplitN(strings.TrimLeft(a, "-"), "=", 2)[0]
				if strings.HasPrefix(a, "-") && name == reserved {
					return fmt.Errorf("%s sets --%s, which ipo run sets itself; remove it (seed is the top-level key seed)", key, reserved)
				}
			}
		}
	}
	if _, ok := c.Train.Config["seed"]; ok {
		return errors.New("train.config.seed is set by ipo run from the top-level key seed; remove it there")
	}
	return checkTrainConfig(c.Train.Config)
}

// checkTrainConfig decodes train.config over the DPO defaults and
// validates it, so a wrong key or value is reported when the run starts,
// not at the first train stage after hours of sampling.
func checkTrainConfig(config map[string]any) error {
	if len(config) == 0 {
		return nil
	}
	doc, err := yaml.Marshal(config)
	if err != nil {
		return fmt.Errorf("train.config: %w", err)
	}
	cfg := train.DefaultDPOConfig()
	if err := train.DecodeYAML(doc, &cfg); err != nil {
		return fmt.Errorf("train.config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("train.config: %w", err)
	}
	return nil
}

// RunDir returns the folder of the run, RunsDir/Name.
func (c *Config) RunDir() string {
	return filepath.Join(c.RunsDir, c.Name)
}
