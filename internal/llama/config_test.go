package llama

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const baseConfig = `{
  "model_type": "llama",
  "hidden_size": 64,
  "intermediate_size": 172,
  "num_hidden_layers": 5,
  "num_attention_heads": 8,
  "num_key_value_heads": 4,
  "vocab_size": 512
}`

// withFields returns baseConfig with fields set (a JSON value) or, for an
// empty value, removed.
func withFields(t *testing.T, fields map[string]string) []byte {
	t.Helper()
	lines := strings.Split(strings.Trim(baseConfig, "{}\n"), ",\n")
	var kept []string
	for _, line := range lines {
		key := strings.Trim(strings.SplitN(strings.TrimSpace(line), ":", 2)[0], `"`)
		if _, ok := fields[key]; !ok {
			kept = append(kept, strings.TrimSpace(line))
		}
	}
	for key, value := range fields {
		if value != "" {
			kept = append(kept, `"`+key+`": `+value)
		}
	}
	return []byte("{" + strings.Join(kept, ",\n") + "}")
}

func TestParseConfigDefaults(t *testing.T) {
	bos, pad := 1, 0
	cases := []struct {
		name   string
		fields map[string]string
		want   Config
	}{
		{
			name:   "llama defaults",
			fields: map[string]string{},
			want: Config{ModelType: "llama", HiddenSize: 64, IntermediateSize: 172, NumLayers: 5, NumHeads: 8,
				NumKVHeads: 4, HeadDim: 8, VocabSize: 512, MaxPositions: 2048, RMSNormEps: 1e-6, RopeTheta: 10000},
		},
		{
			name: "qwen2 bias and token lists",
			fields: map[string]string{"model_type": `"qwen2"`, "num_key_value_heads": "", "bos_token_id": "1",
				"eos_token_id": "[2, 7]", "pad_token_id": "0", "tie_word_embeddings": "true", "torch_dtype": `"bfloat16"`},
			want: Config{ModelType: "qwen2", HiddenSize: 64, IntermediateSize: 172, NumLayers: 5, NumHeads: 8,
				NumKVHeads: 8, HeadDim: 8, VocabSize: 512, MaxPositions: 32768, RMSNormEps: 1e-6, RopeTheta: 10000,
				TieWordEmbeddings: true, AttentionBias: true, BOSTokenID: &bos, EOSTokenIDs: []int{2, 7},
				PadTokenID: &pad, TorchDType: "bfloat16"},
		},
		{
			name:   "qwen3 head_dim default",
			fields: map[string]string{"model_type": `"qwen3"`},
			want: Config{ModelType: "qwen3", HiddenSize: 64, IntermediateSize: 172, NumLayers: 5, NumHeads: 8,
				NumKVHeads: 4, HeadDim: 128, VocabSize: 512, MaxPositions: 32768, RMSNormEps: 1e-6, RopeTheta: 10000},
		},
		{
			name: "mistral window, no biases",
			fields: map[string]string{"model_type": `"mistral"`, "sliding_window": "4096", "rope_theta": "1000000.0",
				"attention_bias": "true", "mlp_bias": "true"},
			want: Config{ModelType: "mistral", HiddenSize: 64, IntermediateSize: 172, NumLayers: 5, NumHeads: 8,
				NumKVHeads: 4, HeadDim: 8, VocabSize: 512, MaxPositions: 131072, RMSNormEps: 1e-6, RopeTheta: 1e6,
				SlidingWindow: 4096},
		},
		{
			name: "llama3 rope scaling",
			fields: map[string]string{"rope_scaling": `{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
				"high_freq_factor": 4.0, "original_max_position_embeddings": 8192}`, "rope_theta": "500000.0"},
			want: Config{ModelType: "llama", HiddenSize: 64, IntermediateSize: 172, NumLayers: 5, NumHeads: 8,
				NumKVHeads: 4, HeadDim: 8, VocabSize: 512, MaxPositions: 2048, RMSNormEps: 1e-6, RopeTheta: 500000,
				RopeScaling: &RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4,
					OriginalMaxPositionEmbeddings: 8192}},
		},
		{
			name:   "rope_parameters entry",
			fields: map[string]string{"rope_parameters": `{"rope_type": "default", "rope_theta": 100000.0}`},
			want: Config{ModelType: "llama", HiddenSize: 64, IntermediateSize: 172, NumLayers: 5, NumHeads: 8,
				NumKVHeads: 4, HeadDim: 8, VocabSize: 512, MaxPositions: 2048, RMSNormEps: 1e-6, RopeTheta: 100000},
		},
		{
			name:   "explicit head_dim",
			fields: map[string]string{"head_dim": "32", "attention_bias": "true", "mlp_bias": "true"},
			want: Config{ModelType: "llama", HiddenSize: 64, IntermediateSize: 172, NumLayers: 5, NumHeads: 8,
				NumKVHeads: 4, HeadDim: 32, VocabSize: 512, MaxPositions: 2048, RMSNormEps: 1e-6, RopeTheta: 10000,
				AttentionBias: true, MLPBias: true},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseConfig(withFields(t, c.fields))
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"missing hidden_size", map[string]string{"hidden_size": ""}, `missing required field "hidden_size"`},
		{"missing vocab_size", map[string]string{"vocab_size": ""}, `missing required field "vocab_size"`},
		{"missing model_type", map[string]string{"model_type": ""}, `missing required field "model_type"`},
		{"zero layers", map[string]string{"num_hidden_layers": "0"}, `field "num_hidden_layers" is 0`},
		{"unsupported model_type", map[string]string{"model_type": `"gpt2"`},
			`unsupported model_type "gpt2": supported are llama, mistral, qwen2, qwen3`},
		{"heads not divisible", map[string]string{"hidden_size": "60", "num_attention_heads": "7", "num_key_value_heads": "7"},
			"hidden_size 60 is not divisible by num_attention_heads 7"},
		{"odd head_dim", map[string]string{"head_dim": "9"}, "head_dim is 9, want a positive even number"},
		{"kv heads not divisor", map[string]string{"num_key_value_heads": "3"},
			"num_attention_heads 8 is not a multiple of num_key_value_heads 3"},
		{"dynamic rope", map[string]string{"rope_scaling": `{"type": "dynamic", "factor": 2.0}`},
			`unsupported rope_scaling type "dynamic": supported are default, linear and llama3`},
		{"yarn rope", map[string]string{"rope_scaling": `{"rope_type": "yarn", "factor": 4.0}`},
			`unsupported rope_scaling type "yarn"`},
		{"llama3 missing fields", map[string]string{"rope_scaling": `{"rope_type": "llama3", "factor": 8.0}`},
			`needs "low_freq_factor", "high_freq_factor" and "original_max_position_embeddings"`},
		{"linear without factor", map[string]string{"rope_scaling": `{"type": "linear"}`}, `needs a positive "factor"`},
		{"gelu activation", map[string]string{"hidden_act": `"gelu"`}, `unsupported hidden_act "gelu"`},
		{"qwen2 sliding window", map[string]string{"model_type": `"qwen2"`, "use_sliding_window": "true"},
			"use_sliding_window is true"},
		{"bad eos type", map[string]string{"eos_token_id": `"two"`}, `field "eos_token_id" is "two"`},
		{"wrong field type", map[string]string{"hidden_size": `"64"`}, "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig(withFields(t, c.fields))
			if err == nil {
				t.Fatalf("got no error, want one containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestLoadConfigNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"unsupported type", withFields(t, map[string]string{"model_type": `"gpt2"`}),
			`unsupported model_type "gpt2" in ` + path + `: supported are llama, mistral, qwen2, qwen3`},
		{"missing field", withFields(t, map[string]string{"intermediate_size": ""}),
			path + `: missing required field "intermediate_size"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, c.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(dir)
			if err == nil {
				t.Fatalf("got no error, want %q", c.want)
			}
			if err.Error() != c.want {
				t.Errorf("got error %q, want %q", err, c.want)
			}
		})
	}

	_, err := LoadConfig(filepath.Join(dir, "absent"))
	if err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("absent folder: got error %v, want one naming config.json", err)
	}
}

func TestLoadMissingTensor(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("testdata", "models", "llama_f32")
	for _, name := range []string{"config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "config.json" {
			// A config with one more layer than the checkpoint stores.
			data = []byte(strings.Replace(string(data), `"num_hidden_layers": 2`, `"num_hidden_layers": 3`, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	_, err := Load(dir)
	const want = "num_hidden_layers to 3 but the checkpoint has 2 layers"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got error %v, want one containing %q", err, want)
	}
}

func TestInverseFrequencies(t *testing.T) {
	base := Config{HeadDim: 8, RopeTheta: 10000}
	cases := []struct {
		name    string
		scaling *RopeScaling
		want    []float64
	}{
		{"default", nil, []float64{1, 0.1, 0.01, 0.001}},
		{"linear", &RopeScaling{Type: "linear", Factor: 4}, []float64{0.25, 0.025, 0.0025, 0.00025}},
		// Wavelengths 6.28, 62.8, 628 and 6283 against cut-offs 16 and 64:
		// kept, interpolated, divided, divided.
		{"llama3", &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64},
			[]float64{1, (1-(64/(20*3.141592653589793)-1)/3)*0.1/8 + (64/(20*3.141592653589793)-1)/3*0.1, 0.01 / 8, 0.001 / 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			cfg.RopeScaling = c.scaling
			got := inverseFrequencies(cfg)
			for i := range c.want {
				if diff := got[i] - c.want[i]; diff > 1e-12 || diff < -1e-12 {
					t.Errorf("frequency %d: got %.12g, want %.12g", i, got[i], c.want[i])
				}
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(baseConfig))
	f.Add([]byte(`{"model_type": "llama", "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 5,
		"num_attention_heads": 8, "vocab_size": 512, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
		"low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}`))
	f.Add([]byte(`{"model_type": "qwen3", "hidden_size": 1, "intermediate_size": 1, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 1, "head_dim": 0}`))
	f.Add([]byte(`{"model_type": "mistral", "eos_token_id": [1, null], "sliding_window": -1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if cfg.HeadDim <= 0 || cfg.HeadDim%2 != 0 || cfg.NumHeads%cfg.NumKVHeads != 0 || cfg.MaxPositions <= 0 {
			t.Errorf("ParseConfig accepted an inconsistent config: %+v", cfg)
		}
		if cfg.RopeScaling != nil && cfg.RopeScaling.Factor <= 0 {
			t.Errorf("ParseConfig accepted rope scaling factor %g", cfg.RopeScaling.Factor)
		}
	})
}
