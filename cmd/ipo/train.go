package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"ipo/internal/llama"
	"ipo/internal/tokenizer"
	"ipo/internal/train"
	"ipo/internal/trainer"
)

func init() {
	commands["train dpo"] = command{summary: "train a LoRA adapter with DPO on preference pairs", run: runTrainDPO, resumable: true}
	commands["train sft"] = command{summary: "train a LoRA adapter with supervised fine-tuning", run: runTrainSFT, resumable: true}
}

// trainFlags are the flags `ipo train dpo` and `ipo train sft` share. Config
// keys given as flags are applied over the --config file, which is applied
// over TRL's defaults.
type trainFlags struct {
	fs           *flag.FlagSet
	model, data  string
	out, config  string
	chatTemplate string
	resume       bool
	// overrides are the config keys set by flags, in command-line order.
	overrides []override
}

type override struct{ key, value string }

// configFlags are the config keys offered as flags, with their help.
var configFlags = []struct{ key, help string }{
	{"learning_rate", "peak learning rate"},
	{"lr_scheduler_type", "linear, cosine, constant or constant_with_warmup"},
	{"warmup_ratio", "share of the steps spent warming up"},
	{"warmup_steps", "warmup steps (overrides warmup_ratio)"},
	{"num_train_epochs", "passes over the training data"},
	{"max_steps", "optimizer steps (overrides num_train_epochs when positive)"},
	{"per_device_train_batch_size", "examples per micro-batch"},
	{"per_device_eval_batch_size", "examples per evaluation batch"},
	{"gradient_accumulation_steps", "micro-batches per optimizer step"},
	{"weight_decay", "AdamW weight decay"},
	{"max_grad_norm", "gradient clipping norm (0: none)"},
	{"seed", "seed of the adapter init, data order, eval split and dropout"},
	{"logging_steps", "log metrics every N steps"},
	{"save_steps", "write a checkpoint every N steps"},
	{"save_total_limit", "keep only the newest N checkpoints (0: all)"},
	{"eval_split", "share of the rows held out for evaluation"},
	{"eval_steps", "evaluate every N steps (0: every logging_steps)"},
	{"max_length", "maximum tokens of prompt plus completion"},
	{"lora_r", "LoRA rank"},
	{"lora_alpha", "LoRA alpha"},
	{"lora_dropout", "LoRA dropout"},
	{"lora_target_modules", "comma-separated modules, or all-linear"},
	{"use_rslora", "scale by alpha/sqrt(r)"},
}

var dpoFlags = []struct{ key, help string }{
	{"beta", "DPO beta"},
	{"loss_type", "sigmoid, ipo, hinge or robust"},
	{"label_smoothing", "label smoothing of the sigmoid and robust losses"},
	{"max_prompt_length", "prompt tokens kept (its end)"},
	{"max_completion_length", "completion tokens kept (0: no limit)"},
	{"truncation_mode", "keep_end or keep_start, for max_length"},
}

var sftFlags = []struct{ key, help string }{
	{"completion_only_loss", "loss on completion tokens only"},
}

func newTrainFlags(name, usage string, keys ...[]struct{ key, help string }) *trainFlags {
	f := &trainFlags{fs: newFlagSet(name, usage)}
	f.fs.StringVar(&f.model, "model", "", "base model folder or Hugging Face id (required)")
	f.fs.StringVar(&f.data, "data", "", "JSON, JSON Lines or Parquet file or folder of training rows (required)")
	f.fs.StringVar(&f.out, "out", "", "output folder for checkpoints, logs and the adapter (required)")
	f.fs.StringVar(&f.config, "config", "", "YAML or JSON file of TRL config keys; flags override it")
	f.fs.StringVar(&f.chatTemplate, "chat-template", "auto", "auto (the model's), none (raw text) or a template file")
	f.fs.BoolVar(&f.resume, "resume", false, "continue from the newest checkpoint in --out")
	for _, group := range keys {
		for _, k := range group {
			key := k.key
			f.fs.Func(strings.ReplaceAll(key, "_", "-"), k.help+" (config key "+key+")", func(v string) error {
				if x, err := strconv.ParseFloat(v, 64); err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
					return fmt.Errorf("want a finite number, got %s", v)
				}
				// A repeated flag replaces its earlier value, as flags do.
				f.overrides = slices.DeleteFunc(f.overrides, func(o override) bool { return o.key == key })
				f.overrides = append(f.overrides, override{key, v})
				return nil
			})
		}
	}
	return f
}

func (f *trainFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args, false); err != nil {
		return err
	}
	for _, req := range []struct{ name, value string }{{"model", f.model}, {"data", f.data}, {"out", f.out}} {
		if err := requireFlag(f.fs, req.name, req.value); err != nil {
			return err
		}
	}
	return nil
}

// apply writes the flag overrides into the YAML-keyed config cfg by
// marshalling them as a YAML document over it.
func (f *trainFlags) apply(load func(doc string) error) error {
	if len(f.overrides) == 0 {
		return nil
	}
	var b strings.Builder
	for _, o := range f.overrides {
		value := o.value
		if o.key == "lora_target_modules" {
			parts := strings.Split(value, ",")
			for i := range parts {
				parts[i] = strconv.Quote(strings.TrimSpace(parts[i]))
			}
			value = "[" + strings.Join(parts, ", ") + "]"
		} else if _, err := strconv.ParseFloat(value, 64); err != nil && value != "true" && value != "false" {
			value = strconv.Quote(value)
		}
		fmt.Fprintf(&b, "%s: %s\n", o.key, value)
	}
	if err := load(b.String()); err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	return nil
}

// encoder returns the tokenizer and chat template of the --chat-template
// choice for the model folder dir.
func (f *trainFlags) encoder(tok *tokenizer.Tokenizer, dir string) (*trainer.Encoder, error) {
	enc, err := newPromptEncoder(tok, dir, f.chatTemplate)
	if err != nil {
		return nil, err
	}
	return &trainer.Encoder{Tok: tok, Template: enc.template}, nil
}

// trainConfig returns the settings of a training command: defaults, then
// the --config file over them, then the flags over both, validated.
func trainConfig[C interface{ Validate() error }](f *trainFlags, defaults C, loadFile func(string) (C, error)) (C, error) {
	cfg := defaults
	if f.config != "" {
		var err error
		if cfg, err = loadFile(f.config); err != nil {
			return cfg, err
		}
	}
	err := f.apply(func(doc string) error { return overlayYAML(&cfg, doc, func() error { return cfg.Validate() }) })
	return cfg, err
}

// load loads the base model and the encoder of its training rows.
func (f *trainFlags) load(ctx context.Context) (*llama.Model, *trainer.Encoder, string, error) {
	model, tok, dir, err := loadModel(ctx, f.model)
	if err != nil {
		return nil, nil, "", err
	}
	enc, err := f.encoder(tok, dir)
	if err != nil {
		model.Close()
		return nil, nil, "", err
	}
	return model, enc, dir, nil
}

func runTrainDPO(ctx context.Context, args []string, stdout io.Writer) error {
	f := newTrainFlags("train dpo", "--model DIR --data FILE --out DIR [--config FILE] [--resume] [flags]", configFlags, dpoFlags)
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := trainConfig(f, train.DefaultDPOConfig(), train.LoadDPOConfig)
	if err != nil {
		return err
	}

	rows, err := trainer.ReadPreferences(f.data)
	if err != nil {
		return err
	}
	model, enc, dir, err := f.load(ctx)
	if err != nil {
		return err
	}
	defer model.Close()
	pairs, err := enc.Pairs(rows)
	if err != nil {
		return err
	}
	absData, _ := filepath.Abs(f.data)
	absModel, _ := filepath.Abs(dir)
	cfg.ModelNameOrPath, cfg.DatasetPath, cfg.OutputDir = f.model, f.data, f.out

	start := time.Now()
	job := &trainer.DPO{Model: model, Config: cfg, Pairs: pairs, RefKey: absModel + "|" + absData + "|" + f.chatTemplate,
		Options: trainer.Options{OutDir: f.out, Resume: f.resume, Console: errOutput(ctx), BaseModel: f.model}}
	res, err := job.Run(ctx)
	if err != nil {
		return err
	}
	summary(stdout, "dpo", res, len(pairs), f.out, start)
	return nil
}

func runTrainSFT(ctx context.Context, args []string, stdout io.Writer) error {
	f := newTrainFlags("train sft", "--model DIR --data FILE --out DIR [--config FILE] [--resume] [flags]", configFlags, sftFlags)
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := trainConfig(f, train.DefaultSFTConfig(), train.LoadSFTConfig)
	if err != nil {
		return err
	}

	rows, err := trainer.ReadSFT(f.data)
	if err != nil {
		return err
	}
	model, enc, _, err := f.load(ctx)
	if err != nil {
		return err
	}
	defer model.Close()
	examples, err := enc.SFTExamples(rows)
	if err != nil {
		return err
	}
	cfg.ModelNameOrPath, cfg.DatasetPath, cfg.OutputDir = f.model, f.data, f.out

	start := time.Now()
	job := &trainer.SFT{Model: model, Config: cfg, Examples: examples,
		Options: trainer.Options{OutDir: f.out, Resume: f.resume, Console: errOutput(ctx), BaseModel: f.model}}
	res, err := job.Run(ctx)
	if err != nil {
		return err
	}
	summary(stdout, "sft", res, len(examples), f.out, start)
	return nil
}

// summary prints the closing line of a training command.
func summary(w io.Writer, kind string, res *trainer.Result, rows int, out string, start time.Time) {
	line := fmt.Sprintf("%s: %d/%d steps on %d rows, %d tokens, %.0f tokens/s", kind, res.Steps, res.TotalSteps, rows, res.Tokens, float64(res.Tokens)/max(res.Seconds, 1e-9))
	if acc, ok := res.Eval["rewards/accuracies"]; ok {
		line += fmt.Sprintf(", eval reward accuracy %.3f", acc)
	}
	if loss, ok := res.Eval[train.MetricLoss]; ok {
		line += fmt.Sprintf(", eval loss %.4f", loss)
	}
	fmt.Fprintf(w, "%s; adapter in %s (%.1fs)\n", line, out, time.Since(start).Seconds())
}

// overlayYAML decodes the YAML document doc over cfg, rejecting unknown
// keys, and validates the result.
func overlayYAML(cfg any, doc string, validate func() error) error {
	if err := train.DecodeYAML([]byte(doc), cfg); err != nil {
		return err
	}
	return validate()
}
