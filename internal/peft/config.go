// Package peft reads and writes LoRA adapters in the format of Hugging
// Face PEFT (adapter_config.json and adapter_model.safetensors), so that an
// adapter trained by ipo loads in Python with PeftModel.from_pretrained and
// an adapter trained in Python loads in ipo.
//
// An Adapter holds the A and B matrices of every adapted linear layer of a
// Llama-family decoder as float32. New initialises them as PEFT does, Save
// and Load move them through the PEFT files, and Merge folds one pair into
// a base weight: W' = W + scaling · B·A.
package peft

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// File names of a PEFT adapter folder.
const (
	ConfigFile  = "adapter_config.json"
	WeightsFile = "adapter_model.safetensors"
)

// AllLinear is the target_modules value that selects every linear layer of
// the decoder except the output head (lm_head).
const AllLinear = "all-linear"

// LoraConfig is the content of adapter_config.json for a LoRA adapter. The
// JSON names and defaults are those of PEFT's LoraConfig.
type LoraConfig struct {
	// R is the rank r of the A (r×in) and B (out×r) matrices.
	R int
	// LoraAlpha is the numerator of the scaling factor alpha/r.
	LoraAlpha float64
	// LoraDropout is the dropout probability on the LoRA input in training.
	LoraDropout float64
	// TargetModules are short module names such as "q_proj". It is empty
	// when TargetRegex or AllLinearLayers selects the modules instead.
	TargetModules []string
	// TargetRegex is a target_modules string other than "all-linear": a
	// regular expression that must match a module's full path, such as
	// "model.layers.0.self_attn.q_proj".
	TargetRegex string
	// AllLinearLayers is true when target_modules is "all-linear".
	AllLinearLayers bool
	// LayersToTransform limits the adapter to these decoder layers; empty
	// means all layers.
	LayersToTransform []int
	// UseRSLoRA selects the rank-stabilised scaling alpha/sqrt(r).
	UseRSLoRA bool
	// InitLoraWeights is PEFT's init_lora_weights: "true" (A Kaiming
	// uniform, B zero), "false" (both Kaiming uniform) or "gaussian" (A
	// normal with standard deviation 1/r, B zero).
	InitLoraWeights string
	// BaseModelNameOrPath names the base model the adapter was trained on.
	BaseModelNameOrPath string
	// Revision is the base model's revision, empty when none.
	Revision string
	// InferenceMode is written as true, as PEFT does when it saves.
	InferenceMode bool
}

// DefaultLoraConfig returns PEFT's LoraConfig defaults: r 8, lora_alpha 8,
// no dropout, and the default Llama targets q_proj and v_proj.
func DefaultLoraConfig() LoraConfig {
	return LoraConfig{
		R:               8,
		LoraAlpha:       8,
		TargetModules:   []string{"q_proj", "v_proj"},
		InitLoraWeights: "true",
		InferenceMode:   true,
	}
}

// Scaling returns the factor applied to B·A: lora_alpha/r, or
// lora_alpha/sqrt(r) with use_rslora.
func (c LoraConfig) Scaling() float64 {
	if c.UseRSLoRA {
		return c.LoraAlpha / math.Sqrt(float64(c.R))
	}
	return c.LoraAlpha / float64(c.R)
}

// Validate checks the values and the target modules against the Llama
// linear layers, and names the offending key.
func (c LoraConfig) Validate() error {
	if c.R <= 0 {
		return fmt.Errorf("r: must be a positive integer, got %d", c.R)
	}
	if c.LoraAlpha <= 0 || math.IsNaN(c.LoraAlpha) || math.IsInf(c.LoraAlpha, 0) {
		return fmt.Errorf("lora_alpha: must be a positive number, got %v", c.LoraAlpha)
	}
	if c.LoraDropout < 0 || c.LoraDropout >= 1 || math.IsNaN(c.LoraDropout) {
		return fmt.Errorf("lora_dropout: must be in [0, 1), got %v", c.LoraDropout)
	}
	switch c.InitLoraWeights {
	case "true", "false", "gaussian":
	default:
		return fmt.Errorf("init_lora_weights: unsupported value %q (supported: true, false, \"gaussian\")", c.InitLoraWeights)
	}
	for _, l := range c.LayersToTransform {
		if l < 0 {
			return fmt.Errorf("layers_to_transform: layer index must be >= 0, got %d", l)
		}
	}

	selectors := 0
	if len(c.TargetModules) > 0 {
		selectors++
	}
	if c.TargetRegex != "" {
		selectors++
	}
	if c.AllLinearLayers {
		selectors++
	}
	if selectors != 1 {
		return fmt.Errorf("target_modules: set exactly one of a list of module names, a regular expression or %q", AllLinear)
	}
	for _, m := range c.TargetModules {
		if !slices.Contains(LinearModules, m) {
			return fmt.Errorf("target_modules: unknown module %q (Llama linear layers: %s, or %q)", m, strings.Join(LinearModules, ", "), AllLinear)
		}
	}
	if c.TargetRegex != "" {
		if _, err := regexp.Compile(`^(?:` + c.TargetRegex + `)$`); err != nil {
			return fmt.Errorf("target_modules: invalid regular expression %q: %v", c.TargetRegex, err)
		}
	}
	return nil
}

// Targets returns the module names the adapter covers in layer, in the
// order of LinearModules.
func (c LoraConfig) Targets(layer int) []string {
	if len(c.LayersToTransform) > 0 && !slices.Contains(c.LayersToTransform, layer) {
		return nil
	}

	var re *regexp.Regexp
	if c.TargetRegex != "" {
		re = regexp.MustCompile(`^(?:` + c.TargetRegex + `)$`) // checked by Validate
	}
	var out []string
	for _, m := range LinearModules {
		switch {
		case c.AllLinearLayers:
			out = append(out, m)
		case re != nil:
			if re.MatchString(ModulePath(layer, m)) {
				out = append(out, m)
			}
		case slices.Contains(c.TargetModules, m):
			out = append(out, m)
		}
	}
	return out
}

// configJSON is adapter_config.json with the keys that PEFT writes for a
// LoRA adapter (as in files that recent PEFT versions save), each set to
// its default unless LoraConfig sets it.
type configJSON struct {
	AlphaPattern        map[string]float64 `json:"alpha_pattern"`
	AutoMapping         any                `json:"auto_mapping"`
	BaseModelNameOrPath *string            `json:"base_model_name_or_path"`
	Bias                string             `json:"bias"`
	CordaConfig         any                `json:"corda_config"`
	EvaConfig           any                `json:"eva_config"`
	ExcludeModules      any                `json:"exclude_modules"`
	FanInFanOut         bool               `json:"fan_in_fan_out"`
	InferenceMode       bool               `json:"inference_mode"`
	InitLoraWeights     json.RawMessage    `json:"init_lora_weights"`
	LayerReplication    any                `json:"layer_replication"`
	LayersPattern       any                `json:"layers_pattern"`
	LayersToTransform   any                `json:"layers_to_transform"`
	LoftqConfig         map[string]any     `json:"loftq_config"`
	LoraAlpha           float64            `json:"lora_alpha"`
	LoraBias            bool               `json:"lora_bias"`
	LoraDropout         float64            `json:"lora_dropout"`
	MegatronConfig      any                `json:"megatron_config"`
	MegatronCore        string             `json:"megatron_core"`
	ModulesToSave       any                `json:"modules_to_save"`
	PeftType            string             `json:"peft_type"`
	R                   int                `json:"r"`
	RankPattern         map[string]int     `json:"rank_pattern"`
	Revision            *string            `json:"revision"`
	TargetModules       any                `json:"target_modules"`
	TaskType            string             `json:"task_type"`
	TrainableTokens     any                `json:"trainable_token_indices"`
	UseDora             bool               `json:"use_dora"`
	UseRSLoRA           bool               `json:"use_rslora"`
}

// MarshalJSON encodes c as PEFT writes adapter_config.json: sorted keys,
// every default key present, and target_modules as a sorted list ("all-linear"
// is expanded to the Llama linear layers, as PEFT does before saving).
func (c LoraConfig) MarshalJSON() ([]byte, error) {
	targets := any(c.TargetRegex)
	if c.TargetRegex == "" {
		names := c.TargetModules
		if c.AllLinearLayers {
			names = LinearModules
		}
		sorted := append([]string(nil), names...)
		sort.Strings(sorted)
		targets = sorted
	}

	var layers any
	if len(c.LayersToTransform) > 0 {
		layers = c.LayersToTransform
	}
	var base, revision *string
	if c.BaseModelNameOrPath != "" {
		base = &c.BaseModelNameOrPath
	}
	if c.Revision != "" {
		revision = &c.Revision
	}
	init := json.RawMessage(c.InitLoraWeights)
	if c.InitLoraWeights != "true" && c.InitLoraWeights != "false" {
		quoted, err := json.Marshal(c.InitLoraWeights)
		if err != nil {
			return nil, err
		}
		init = quoted
	}

	out := configJSON{
		AlphaPattern:        map[string]float64{},
		BaseModelNameOrPath: base,
		Bias:                "none",
		InferenceMode:       c.InferenceMode,
		InitLoraWeights:     init,
		LayersToTransform:   layers,
		LoftqConfig:         map[string]any{},
		LoraAlpha:           c.LoraAlpha,
		LoraDropout:         c.LoraDropout,
		MegatronCore:        "megatron.core",
		PeftType:            "LORA",
		R:                   c.R,
		RankPattern:         map[string]int{},
		Revision:            revision,
		TargetModules:       targets,
		TaskType:            "CAUSAL_LM",
		UseRSLoRA:           c.UseRSLoRA,
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes adapter_config.json. It rejects keys that change
// the forward pass in ways ipo does not implement (DoRA, biases, per-module
// ranks, fan_in_fan_out, extra trained modules) unless they hold their
// defaults. It ignores other unknown keys because newer PEFT versions add
// keys.
func (c *LoraConfig) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*c = LoraConfig{InitLoraWeights: "true"}

	if err := checkPeftType(raw); err != nil {
		return err
	}
	if err := checkUnsupported(raw); err != nil {
		return err
	}

	fields := []struct {
		key string
		dst any
	}{
		{"r", &c.R},
		{"lora_alpha", &c.LoraAlpha},
		{"lora_dropout", &c.LoraDropout},
		{"use_rslora", &c.UseRSLoRA},
		{"inference_mode", &c.InferenceMode},
	}
	for _, f := range fields {
		if v, ok := raw[f.key]; ok && !isNull(v) {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return fmt.Errorf("%s: %v", f.key, err)
			}
		}
	}
	for key, dst := range map[string]*string{"base_model_name_or_path": &c.BaseModelNameOrPath, "revision": &c.Revision} {
		if v, ok := raw[key]; ok && !isNull(v) {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("%s: %v", key, err)
			}
		}
	}

	if err := c.decodeInit(raw["init_lora_weights"]); err != nil {
		return err
	}
	if err := c.decodeTargets(raw["target_modules"]); err != nil {
		return err
	}
	return c.decodeLayers(raw["layers_to_transform"])
}

func checkPeftType(raw map[string]json.RawMessage) error {
	var peftType string
	if v, ok := raw["peft_type"]; ok {
		if err := json.Unmarshal(v, &peftType); err != nil {
			return fmt.Errorf("peft_type: %v", err)
		}
	}
	if peftType != "LORA" {
		return fmt.Errorf("peft_type: only \"LORA\" adapters are supported, got %q", peftType)
	}
	if v, ok := raw["task_type"]; ok && !isNull(v) {
		var task string
		if err := json.Unmarshal(v, &task); err != nil || task != "CAUSAL_LM" {
			return fmt.Errorf("task_type: only \"CAUSAL_LM\" is supported, got %s", v)
		}
	}
	return nil
}

// checkUnsupported rejects keys whose non-default values ipo cannot apply.
func checkUnsupported(raw map[string]json.RawMessage) error {
	defaults := []struct {
		key, want, why string
	}{
		{"bias", `"none"`, "bias training is not supported; use \"none\""},
		{"use_dora", "false", "DoRA adapters are not supported"},
		{"fan_in_fan_out", "false", "only Llama-style (out×in) linear weights are supported"},
		{"lora_bias", "false", "LoRA bias terms are not supported"},
		{"modules_to_save", "null", "fully trained extra modules are not supported"},
		{"rank_pattern", "{}", "per-module ranks are not supported"},
		{"alpha_pattern", "{}", "per-module alphas are not supported"},
		{"layer_replication", "null", "layer replication is not supported"},
		{"exclude_modules", "null", "excluding modules from the targets is not supported"},
		{"use_qalora", "false", "QA-LoRA is not supported"},
		{"trainable_token_indices", "null", "trainable tokens are not supported"},
		{"target_parameters", "null", "parameter targets are not supported"},
	}
	for _, d := range defaults {
		v, ok := raw[d.key]
		if !ok || isNull(v) {
			continue
		}
		got := compact(v)
		if got == d.want || d.want == "null" && got == "[]" {
			continue
		}
		return fmt.Errorf("%s: unsupported value %s: %s", d.key, v, d.why)
	}
	return nil
}

func (c *LoraConfig) decodeInit(v json.RawMessage) error {
	if v == nil || isNull(v) {
		return nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		c.InitLoraWeights = fmt.Sprint(b)
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return fmt.Errorf("init_lora_weights: want true, false or a string, got %s", v)
	}
	c.InitLoraWeights = s
	return nil
}

func (c *LoraConfig) decodeTargets(v json.RawMessage) error {
	if v == nil || isNull(v) {
		return fmt.Errorf("target_modules: missing; set a list of module names or %q", AllLinear)
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if s == AllLinear {
			c.AllLinearLayers = true
		} else {
			c.TargetRegex = s
		}
		return nil
	}
	if err := json.Unmarshal(v, &c.TargetModules); err != nil {
		return fmt.Errorf("target_modules: want a list of strings or a string, got %s", v)
	}
	sort.Strings(c.TargetModules)
	return nil
}

func (c *LoraConfig) decodeLayers(v json.RawMessage) error {
	if v == nil || isNull(v) {
		return nil
	}
	var one int
	if err := json.Unmarshal(v, &one); err == nil {
		c.LayersToTransform = []int{one}
		return nil
	}
	if err := json.Unmarshal(v, &c.LayersToTransform); err != nil {
		return fmt.Errorf("layers_to_transform: want an integer or a list of integers, got %s", v)
	}
	return nil
}

func isNull(v json.RawMessage) bool {
	return compact(v) == "null"
}

func compact(v json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return string(v)
	}
	return buf.String()
}

// ReadConfig reads and validates dir/adapter_config.json.
func ReadConfig(dir string) (LoraConfig, error) {
	path := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return LoraConfig{}, fmt.Errorf("read adapter config: %w", err)
	}
	var c LoraConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return LoraConfig{}, fmt.Errorf("read adapter config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return LoraConfig{}, fmt.Errorf("read adapter config %s: %w", path, err)
	}
	return c, nil
}

// WriteConfig writes c as dir/adapter_config.json.
func WriteConfig(dir string, c LoraConfig) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("write adapter config: %w", err)
	}
	data, err := c.MarshalJSON()
	if err != nil {
		return fmt.Errorf("write adapter config: %w", err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, data, "", "  "); err != nil {
		return fmt.Errorf("write adapter config: %w", err)
	}
	indented.WriteByte('\n')
	path := filepath.Join(dir, ConfigFile)
	if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write adapter config: %w", err)
	}
	return nil
}
