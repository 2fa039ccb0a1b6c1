package llama

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SupportedModelTypes lists the config.json model_type values this package runs.
var SupportedModelTypes = []string{"llama", "mistral", "qwen2", "qwen3"}

// Config is the architecture read from a model folder's config.json, with
// the defaults of the Hugging Face configuration class of its model_type
// filled in.
type Config struct {
	ModelType         string
	HiddenSize        int
	IntermediateSize  int
	NumLayers         int
	NumHeads          int
	NumKVHeads        int
	HeadDim           int
	VocabSize         int
	MaxPositions      int
	RMSNormEps        float64
	RopeTheta         float64
	RopeScaling       *RopeScaling
	TieWordEmbeddings bool

	// AttentionBias adds a bias to the q, k, v and o projections (llama and
	// qwen3). ParseConfig sets it for qwen2, which always has q, k and v
	// biases and no o bias, and clears it for mistral, which has none.
	AttentionBias bool

	// MLPBias adds a bias to the gate, up and down projections (llama
	// only).
	MLPBias bool

	// SlidingWindow is the number of most recent positions (the query's
	// own included) a query attends to. 0 means no window.
	SlidingWindow int

	BOSTokenID  *int
	EOSTokenIDs []int
	PadTokenID  *int

	// TorchDType is the dtype the checkpoint was saved in, for reports only:
	// the forward pass always computes in float32.
	TorchDType string
}

// RopeScaling is the rope_scaling (or rope_parameters) entry of config.json.
type RopeScaling struct {
	Type   string // "llama3" or "linear"
	Factor float64

	// The llama3 fields.
	LowFreqFactor                 float64
	HighFreqFactor                float64
	OriginalMaxPositionEmbeddings int
}

// rawConfig mirrors the config.json fields this package reads. Pointers
// tell a missing field from a zero one.
type rawConfig struct {
	ModelType         *string         `json:"model_type"`
	HiddenSize        *int            `json:"hidden_size"`
	IntermediateSize  *int            `json:"intermediate_size"`
	NumLayers         *int            `json:"num_hidden_layers"`
	NumHeads          *int            `json:"num_attention_heads"`
	NumKVHeads        *int            `json:"num_key_value_heads"`
	HeadDim           *int            `json:"head_dim"`
	VocabSize         *int            `json:"vocab_size"`
	MaxPositions      *int            `json:"max_position_embeddings"`
	RMSNormEps        *float64        `json:"rms_norm_eps"`
	RopeTheta         *float64        `json:"rope_theta"`
	RopeScaling       json.RawMessage `json:"rope_scaling"`
	RopeParameters    json.RawMessage `json:"rope_parameters"`
	TieWordEmbeddings *bool           `json:"tie_word_embeddings"`
	AttentionBias     *bool           `json:"attention_bias"`
	MLPBias           *bool           `json:"mlp_bias"`
	HiddenAct         *string         `json:"hidden_act"`
	SlidingWindow     *int            `json:"sliding_window"`
	UseSlidingWindow  *bool           `json:"use_sliding_window"`
	BOSTokenID        json.RawMessage `json:"bos_token_id"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
	PadTokenID        json.RawMessage `json:"pad_token_id"`
	TorchDType        *string         `json:"torch_dtype"`
	DType             *string         `json:"dtype"`
}

// UnsupportedModelTypeError reports a config.json model_type this package
// does not run.
type UnsupportedModelTypeError struct {
	ModelType string
	Path      string // the config.json read, when known
}

func (e *UnsupportedModelTypeError) Error() string {
	where := ""
	if e.Path != "" {
		where = " in " + e.Path
	}
	return fmt.Sprintf("unsupported model_type %q%s: supported are %s",
		e.ModelType, where, strings.Join(SupportedModelTypes, ", "))
}

// typeDefaults contains the defaults of one model_type's configuration class
// in Hugging Face transformers.
type typeDefaults struct {
	maxPositions int
	rmsNormEps   float64
	ropeTheta    float64
	headDim      int // 0: hidden_size / num_attention_heads
}

var defaultsByType = map[string]typeDefaults{
	"llama":   {maxPositions: 2048, rmsNormEps: 1e-6, ropeTheta: 10000},
	"mistral": {maxPositions: 4096 * 32, rmsNormEps: 1e-6, ropeTheta: 10000},
	"qwen2":   {maxPositions: 32768, rmsNormEps: 1e-6, ropeTheta: 10000},
	"qwen3":   {maxPositions: 32768, rmsNormEps: 1e-6, ropeTheta: 10000, headDim: 128},
}

// LoadConfig reads and validates dir/config.json. Errors name the file and
// the field at fault.
func LoadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read model config: %w", err)
	}
	cfg, err := ParseConfig(data)
	var unsupported *UnsupportedModelTypeError
	if errors.As(err, &unsupported) {
		unsupported.Path = path
		return Config{}, unsupported
	}
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses and validates the contents of a config.json.
func ParseConfig(data []byte) (Config, error) {
	var raw rawConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if raw.ModelType == nil {
		return Config{}, errors.New(`missing required field "model_type"`)
	}
	defaults, ok := defaultsByType[*raw.ModelType]
	if !ok {
		return Config{}, &UnsupportedModelTypeError{ModelType: *raw.ModelType}
	}

	cfg := Config{ModelType: *raw.ModelType}
	required := []struct {
		name  string
		value *int
		dst   *int
	}{
		{"hidden_size", raw.HiddenSize, &cfg.HiddenSize},
		{"intermediate_size", raw.IntermediateSize, &cfg.IntermediateSize},
		{"num_hidden_layers", raw.NumLayers, &cfg.NumLayers},
		{"num_attention_heads", raw.NumHeads, &cfg.NumHeads},
		{"vocab_size", raw.VocabSize, &cfg.VocabSize},
	}
	for _, field := range required {
		if field.value == nil {
			return Config{}, fmt.Errorf("missing required field %q", field.name)
		}
		if *field.value <= 0 {
			return Config{}, fmt.Errorf("field %q is %d, want a positive integer", field.name, *field.value)
		}
		*field.dst = *field.value
	}

	cfg.NumKVHeads = intOr(raw.NumKVHeads, cfg.NumHeads)
	cfg.MaxPositions = intOr(raw.MaxPositions, defaults.maxPositions)
	cfg.RMSNormEps = floatOr(raw.RMSNormEps, defaults.rmsNormEps)
	cfg.RopeTheta = floatOr(raw.RopeTheta, defaults.ropeTheta)
	cfg.TieWordEmbeddings = boolOr(raw.TieWordEmbeddings, false)
	cfg.AttentionBias = boolOr(raw.AttentionBias, false)
	cfg.MLPBias = boolOr(raw.MLPBias, false)
	switch cfg.ModelType {
	case "qwen2":
		cfg.AttentionBias = true
		cfg.MLPBias = false
	case "mistral", "qwen3":
		cfg.AttentionBias = cfg.AttentionBias && cfg.ModelType == "qwen3"
		cfg.MLPBias = false
	}
	cfg.TorchDType = stringOr(raw.DType, stringOr(raw.TorchDType, ""))

	if err := resolveHeadDim(&cfg, raw.HeadDim, defaults.headDim); err != nil {
		return Config{}, err
	}
	if err := checkShapes(cfg); err != nil {
		return Config{}, err
	}
	if act := stringOr(raw.HiddenAct, "silu"); act != "silu" {
		return Config{}, fmt.Errorf("unsupported hidden_act %q: only \"silu\" is implemented", act)
	}
	if err := resolveSlidingWindow(&cfg, raw); err != nil {
		return Config{}, err
	}
	if err := resolveRope(&cfg, raw); err != nil {
		return Config{}, err
	}
	if err := resolveTokenIDs(&cfg, raw); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func resolveHeadDim(cfg *Config, headDim *int, typeDefault int) error {
	switch {
	case headDim != nil:
		cfg.HeadDim = *headDim
	case typeDefault != 0:
		cfg.HeadDim = typeDefault
	default:
		if cfg.HiddenSize%cfg.NumHeads != 0 {
			return fmt.Errorf("hidden_size %d is not divisible by num_attention_heads %d: set head_dim explicitly",
				cfg.HiddenSize, cfg.NumHeads)
		}
		cfg.HeadDim = cfg.HiddenSize / cfg.NumHeads
	}
	if cfg.HeadDim <= 0 || cfg.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim is %d, want a positive even number (RoPE rotates pairs)", cfg.HeadDim)
	}
	return nil
}

func checkShapes(cfg Config) error {
	if cfg.NumKVHeads <= 0 {
		return fmt.Errorf("field \"num_key_value_heads\" is %d, want a positive integer", cfg.NumKVHeads)
	}
	if cfg.NumHeads%cfg.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d",
			cfg.NumHeads, cfg.NumKVHeads)
	}
	if cfg.MaxPositions <= 0 {
		return fmt.Errorf("field \"max_position_embeddings\" is %d, want a positive integer", cfg.MaxPositions)
	}
	if cfg.RMSNormEps <= 0 {
		return fmt.Errorf("field \"rms_norm_eps\" is %g, want a positive number", cfg.RMSNormEps)
	}
	return nil
}

// resolveSlidingWindow keeps mistral's window and rejects a qwen2/qwen3
// window, whose per-layer rules (max_window_layers) are not implemented.
func resolveSlidingWindow(cfg *Config, raw rawConfig) error {
	switch cfg.ModelType {
	case "mistral":
		if raw.SlidingWindow != nil {
			if *raw.SlidingWindow < 0 {
				return fmt.Errorf("field \"sliding_window\" is %d, want a positive integer or null", *raw.SlidingWindow)
			}
			cfg.SlidingWindow = *raw.SlidingWindow
		}
	case "qwen2", "qwen3":
		// TODO: honour use_sliding_window together with max_window_layers.
		if boolOr(raw.UseSlidingWindow, false) {
			return fmt.Errorf("use_sliding_window is true for model_type %q: not supported, only full attention is implemented", cfg.ModelType)
		}
	}
	return nil
}

// resolveRope reads rope_theta and the rope scaling, from rope_scaling or
// from the newer rope_parameters entry.
func resolveRope(cfg *Config, raw rawConfig) error {
	if cfg.RopeTheta <= 0 {
		return fmt.Errorf("field \"rope_theta\" is %g, want a positive number", cfg.RopeTheta)
	}
	entry, field := raw.RopeScaling, "rope_scaling"
	if isNull(entry) {
		entry, field = raw.RopeParameters, "rope_parameters"
	}
	if isNull(entry) {
		return nil
	}

	var params struct {
		RopeType       *string  `json:"rope_type"`
		Type           *string  `json:"type"`
		Factor         *float64 `json:"factor"`
		RopeTheta      *float64 `json:"rope_theta"`
		LowFreqFactor  *float64 `json:"low_freq_factor"`
		HighFreqFactor *float64 `json:"high_freq_factor"`
		OriginalMax    *int     `json:"original_max_position_embeddings"`
	}
	if err := json.Unmarshal(entry, &params); err != nil {
		return fmt.Errorf("field %q: %w", field, err)
	}
	if params.RopeTheta != nil {
		cfg.RopeTheta = *params.RopeTheta
	}
	kind := stringOr(params.RopeType, stringOr(params.Type, "default"))
	switch kind {
	case "default":
		return nil
	case "linear", "llama3":
	default:
		return fmt.Errorf("unsupported %s type %q: supported are default, linear and llama3", field, kind)
	}

	scaling := &RopeScaling{Type: kind}
	if params.Factor == nil || *params.Factor <= 0 {
		return fmt.Errorf("%s of type %q needs a positive \"factor\"", field, kind)
	}
	scaling.Factor = *params.Factor
	if kind == "llama3" {
		if params.LowFreqFactor == nil || params.HighFreqFactor == nil || params.OriginalMax == nil {
			return fmt.Errorf("%s of type \"llama3\" needs \"low_freq_factor\", \"high_freq_factor\" and \"original_max_position_embeddings\"", field)
		}
		scaling.LowFreqFactor = *params.LowFreqFactor
		scaling.HighFreqFactor = *params.HighFreqFactor
		scaling.OriginalMaxPositionEmbeddings = *params.OriginalMax
		if scaling.HighFreqFactor <= scaling.LowFreqFactor || scaling.LowFreqFactor <= 0 || scaling.OriginalMaxPositionEmbeddings <= 0 {
			return fmt.Errorf("%s of type \"llama3\": want 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0, got %g, %g and %d",
				field, scaling.LowFreqFactor, scaling.HighFreqFactor, scaling.OriginalMaxPositionEmbeddings)
		}
	}
	cfg.RopeScaling = scaling
	return nil
}

func resolveTokenIDs(cfg *Config, raw rawConfig) error {
	bos, err := parseTokenIDs("bos_token_id", raw.BOSTokenID)
	if err != nil {
		return err
	}
	if len(bos) > 0 {
		cfg.BOSTokenID = &bos[0]
	}
	if cfg.EOSTokenIDs, err = parseTokenIDs("eos_token_id", raw.EOSTokenID); err != nil {
		return err
	}
	pad, err := parseTokenIDs("pad_token_id", raw.PadTokenID)
	if err != nil {
		return err
	}
	if len(pad) > 0 {
		cfg.PadTokenID = &pad[0]
	}
	return nil
}

// parseTokenIDs reads a token id field that may be null, an integer or a
// list of integers.
func parseTokenIDs(field string, data json.RawMessage) ([]int, error) {
	if isNull(data) {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(data, &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(data, &many); err != nil {
		return nil, fmt.Errorf("field %q is %s, want an integer, a list of integers or null", field, string(data))
	}
	return many, nil
}

func isNull(data json.RawMessage) bool {
	s := strings.TrimSpace(string(data))
	return s == "" || s == "null"
}

func intOr(v *int, fallback int) int {
	if v == nil {
		return fallback
	}
	return *v
}

func floatOr(v *float64, fallback float64) float64 {
	if v == nil {
		return fallback
	}
	return *v
}

func boolOr(v *bool, fallback bool) bool {
	if v == nil {
		return fallback
	}
	return *v
}

func stringOr(v *string, fallback string) string {
	if v == nil {
		return fallback
	}
	return *v
}
