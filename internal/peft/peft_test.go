package peft

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/safetensors"
)

// tinyDims is a two-layer Llama with grouped-query attention.
var tinyDims = Dims{Layers: 2, Hidden: 8, Intermediate: 12, Heads: 4, KVHeads: 2}

func TestConfigMatchesPeftFile(t *testing.T) {
	cfg := DefaultLoraConfig()
	cfg.R = 16
	cfg.LoraAlpha = 32
	cfg.LoraDropout = 0.05
	cfg.TargetModules = nil
	cfg.AllLinearLayers = true
	cfg.BaseModelNameOrPath = "HuggingFaceTB/SmolLM2-135M-Instruct"

	dir := t.TempDir()
	if err := WriteConfig(dir, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("adapter_config.json (-want +got):\n%s", diff)
	}
}

func TestReadPeftConfigFile(t *testing.T) {
	cfg, err := ReadConfig("testdata")
	if err != nil {
		t.Fatal(err)
	}
	want := LoraConfig{
		R: 16, LoraAlpha: 32, LoraDropout: 0.05,
		TargetModules:       []string{"down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"},
		InitLoraWeights:     "true",
		BaseModelNameOrPath: "HuggingFaceTB/SmolLM2-135M-Instruct",
		InferenceMode:       true,
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if got := cfg.Scaling(); got != 2 {
		t.Errorf("scaling: want 2, got %v", got)
	}
}

func TestConfigTargets(t *testing.T) {
	tests := []struct {
		name   string
		json   string
		layer  int
		want   []string
		errSub string
	}{
		{"list", `{"peft_type":"LORA","r":4,"target_modules":["v_proj","q_proj"]}`, 0, []string{"q_proj", "v_proj"}, ""},
		{"all linear", `{"peft_type":"LORA","r":4,"target_modules":"all-linear"}`, 1, LinearModules, ""},
		{"regex", `{"peft_type":"LORA","r":4,"target_modules":".*\\.1\\.mlp\\..*_proj"}`, 1, []string{"gate_proj", "up_proj", "down_proj"}, ""},
		{"regex other layer", `{"peft_type":"LORA","r":4,"target_modules":".*\\.1\\.mlp\\..*_proj"}`, 0, nil, ""},
		{"layers to transform", `{"peft_type":"LORA","r":4,"target_modules":["q_proj"],"layers_to_transform":1}`, 0, nil, ""},
		{"unknown module", `{"peft_type":"LORA","r":4,"target_modules":["qkv_proj"]}`, 0, nil, `unknown module "qkv_proj"`},
		{"missing targets", `{"peft_type":"LORA","r":4}`, 0, nil, "target_modules: missing"},
		{"dora", `{"peft_type":"LORA","r":4,"target_modules":["q_proj"],"use_dora":true}`, 0, nil, "use_dora: unsupported value true"},
		{"bias", `{"peft_type":"LORA","r":4,"target_modules":["q_proj"],"bias":"all"}`, 0, nil, "bias: unsupported"},
		{"rank pattern", `{"peft_type":"LORA","r":4,"target_modules":["q_proj"],"rank_pattern":{"q_proj":2}}`, 0, nil, "rank_pattern: unsupported"},
		{"not lora", `{"peft_type":"IA3","target_modules":["q_proj"]}`, 0, nil, `peft_type: only "LORA"`},
		{"zero rank", `{"peft_type":"LORA","r":0,"target_modules":["q_proj"]}`, 0, nil, "r: must be a positive integer"},
		{"pissa init", `{"peft_type":"LORA","r":4,"lora_alpha":4,"target_modules":["q_proj"],"init_lora_weights":"pissa"}`, 0, nil, `init_lora_weights: unsupported value "pissa"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			body := strings.Replace(tt.json, `"r":`, `"lora_alpha":8,"r":`, 1)
			if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := ReadConfig(dir)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("error: want one containing %q, got %v", tt.errSub, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.Targets(tt.layer)); diff != "" {
				t.Errorf("targets of layer %d (-want +got):\n%s", tt.layer, diff)
			}
		})
	}
}

func TestTensorNames(t *testing.T) {
	cfg := DefaultLoraConfig()
	a, err := New(cfg, tinyDims, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tensor := range a.Tensors() {
		got = append(got, tensor.Name+" "+fmtShape(tensor.Shape))
	}
	want := []string{
		"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight [8 8]",
		"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight [8 8]",
		"base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight [8 8]",
		"base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight [4 8]",
		"base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight [8 8]",
		"base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight [8 8]",
		"base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight [8 8]",
		"base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight [4 8]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tensor names (-want +got):\n%s", diff)
	}
}

func fmtShape(s []int) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), ",", " ")
}

func TestParseTensorName(t *testing.T) {
	tests := []struct {
		name   string
		key    Key
		matrix string
		errSub string
	}{
		{"base_model.model.model.layers.3.mlp.down_proj.lora_B.weight", Key{3, "down_proj"}, "B", ""},
		{"base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", Key{0, "k_proj"}, "A", ""},
		{"base_model.model.model.layers.0.self_attn.qkv_proj.lora_A.weight", Key{}, "", `unknown target module "qkv_proj"`},
		{"base_model.model.model.layers.0.mlp.q_proj.lora_A.weight", Key{}, "", `belongs under "self_attn"`},
		{"base_model.model.model.layers.x.mlp.up_proj.lora_A.weight", Key{}, "", "invalid layer index"},
		{"base_model.model.model.layers.0.mlp.up_proj.lora_A.default.weight", Key{}, "", "want a name ending in"},
		{"model.layers.0.mlp.up_proj.weight", Key{}, "", "want a name of the form"},
	}
	for _, tt := range tests {
		key, matrix, err := ParseTensorName(tt.name)
		if tt.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("ParseTensorName(%q): want error containing %q, got %v", tt.name, tt.errSub, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTensorName(%q): %v", tt.name, err)
			continue
		}
		if key != tt.key || matrix != tt.matrix {
			t.Errorf("ParseTensorName(%q): want %v %s, got %v %s", tt.name, tt.key, tt.matrix, key, matrix)
		}
		if back := TensorName(key, matrix); back != tt.name {
			t.Errorf("TensorName: want %q, got %q", tt.name, back)
		}
	}
}

func TestInitLikePeft(t *testing.T) {
	cfg := DefaultLoraConfig()
	cfg.AllLinearLayers, cfg.TargetModules = true, nil
	a, err := New(cfg, tinyDims, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(a.Layers); got != 14 {
		t.Errorf("adapted layers: want 14, got %d", got)
	}
	for k, l := range a.Layers {
		bound := float32(1 / math.Sqrt(float64(l.In)))
		nonzero := 0
		for _, v := range l.A {
			if v < -bound || v > bound {
				t.Fatalf("%s: A value %v outside ±%v", k, v, bound)
			}
			if v != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%s: A is all zero", k)
		}
		for _, v := range l.B {
			if v != 0 {
				t.Fatalf("%s: B value %v, want 0", k, v)
			}
		}
	}
}

func TestScaling(t *testing.T) {
	tests := []struct {
		r      int
		alpha  float64
		rslora bool
		want   float64
	}{
		{8, 8, false, 1},
		{16, 32, false, 2},
		{16, 32, true, 8},
		{4, 1, true, 0.5},
	}
	for _, tt := range tests {
		c := LoraConfig{R: tt.r, LoraAlpha: tt.alpha, UseRSLoRA: tt.rslora}
		if got := c.Scaling(); got != tt.want {
			t.Errorf("Scaling(r %d, alpha %v, rslora %v): want %v, got %v", tt.r, tt.alpha, tt.rslora, tt.want, got)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := DefaultLoraConfig()
	cfg.R = 3
	cfg.TargetModules = []string{"down_proj", "k_proj", "o_proj"} // sorted, as Load returns them
	cfg.UseRSLoRA = true
	cfg.BaseModelNameOrPath = "tiny"
	a, err := New(cfg, tinyDims, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tensor := range a.Tensors() {
		for i := range tensor.Data {
			tensor.Data[i] += float32(i) * 0.01
		}
	}

	dir := t.TempDir()
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir, tinyDims)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.Config, b.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(a.Tensors(), b.Tensors()); diff != "" {
		t.Errorf("tensors (-want +got):\n%s", diff)
	}
}

// writeAdapter saves a fresh default adapter and then rewrites its weights
// file with edit applied to the tensor list.
func writeAdapter(t *testing.T, edit func([]safetensors.WriteTensor) []safetensors.WriteTensor) string {
	t.Helper()
	a, err := New(DefaultLoraConfig(), tinyDims, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	var tensors []safetensors.WriteTensor
	for _, tensor := range a.Tensors() {
		data, _ := safetensors.EncodeFloat32(tensor.Data, safetensors.F32)
		tensors = append(tensors, safetensors.WriteTensor{Name: tensor.Name, DType: safetensors.F32, Shape: tensor.Shape, Data: data})
	}
	if err := safetensors.WriteFile(filepath.Join(dir, WeightsFile), edit(tensors), nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadRejectsBadAdapters(t *testing.T) {
	tests := []struct {
		name   string
		edit   func([]safetensors.WriteTensor) []safetensors.WriteTensor
		errSub string
	}{
		{"missing tensor", func(ts []safetensors.WriteTensor) []safetensors.WriteTensor {
			return ts[1:]
		}, `missing tensor "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"`},
		{"shape mismatch with r", func(ts []safetensors.WriteTensor) []safetensors.WriteTensor {
			ts[0].Shape = []int{4, 16}
			return ts
		}, "has shape [4 16], want [8 8] for r 8"},
		{"untargeted module", func(ts []safetensors.WriteTensor) []safetensors.WriteTensor {
			extra := ts[0]
			extra.Name = "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"
			return append(ts, extra)
		}, "which adapter_config.json does not target"},
		{"unknown module", func(ts []safetensors.WriteTensor) []safetensors.WriteTensor {
			extra := ts[0]
			extra.Name = "base_model.model.model.layers.0.self_attn.qkv_proj.lora_A.weight"
			return append(ts, extra)
		}, `unknown target module "qkv_proj"`},
		{"layer out of range", func(ts []safetensors.WriteTensor) []safetensors.WriteTensor {
			extra := ts[0]
			extra.Name = "base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight"
			return append(ts, extra)
		}, "does not target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeAdapter(t, tt.edit)
			_, err := Load(dir, tinyDims)
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Fatalf("error: want one containing %q, got %v", tt.errSub, err)
			}
		})
	}
}

func TestLoadMissingFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, tinyDims); err == nil || !strings.Contains(err.Error(), ConfigFile) {
		t.Errorf("missing config: want error naming %s, got %v", ConfigFile, err)
	}
	if err := WriteConfig(dir, DefaultLoraConfig()); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, tinyDims); err == nil || !strings.Contains(err.Error(), WeightsFile) {
		t.Errorf("missing weights: want error naming %s, got %v", WeightsFile, err)
	}
}

func TestMergeSmallMatrices(t *testing.T) {
	// W is 2×3, B is 2×1 and A is 1×3 (r = 1), scaling 2:
	// B·A = [[1·1, 1·2, 1·3], [-1·1, -1·2, -1·3]].
	w := []float32{
		10, 20, 30,
		40, 50, 60,
	}
	l := &Lora{R: 1, In: 3, Out: 2, A: []float32{1, 2, 3}, B: []float32{1, -1}}
	if err := Merge(w, l, 2); err != nil {
		t.Fatal(err)
	}
	want := []float32{
		12, 24, 36,
		38, 46, 54,
	}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("merged weight (-want +got):\n%s", diff)
	}

	// r = 2: B (2×2) · A (2×2) with scaling 0.5.
	w2 := []float32{0, 0, 0, 0}
	l2 := &Lora{R: 2, In: 2, Out: 2, A: []float32{1, 2, 3, 4}, B: []float32{1, 0, 2, 1}}
	if err := Merge(w2, l2, 0.5); err != nil {
		t.Fatal(err)
	}
	want2 := []float32{0.5, 1, 2.5, 4} // 0.5·[[1,2],[5,8]]
	if diff := cmp.Diff(want2, w2); diff != "" {
		t.Errorf("merged r=2 weight (-want +got):\n%s", diff)
	}
}

func TestMergeRejectsBadShapes(t *testing.T) {
	l := &Lora{R: 1, In: 3, Out: 2, A: []float32{1, 2, 3}, B: []float32{1, -1}}
	if err := Merge(make([]float32, 5), l, 1); err == nil || !strings.Contains(err.Error(), "weight has 5 values, want 6") {
		t.Errorf("short weight: want a size error, got %v", err)
	}
	bad := &Lora{R: 2, In: 3, Out: 2, A: []float32{1, 2, 3}, B: []float32{1, -1}}
	if err := Merge(make([]float32, 6), bad, 1); err == nil || !strings.Contains(err.Error(), "A has 3 values") {
		t.Errorf("short A: want a size error, got %v", err)
	}
}

func TestMergeWeightByName(t *testing.T) {
	cfg := DefaultLoraConfig()
	cfg.InitLoraWeights = "false"
	a, err := New(cfg, tinyDims, rand.New(rand.NewPCG(9, 10)))
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, 4*8)
	ok, err := a.MergeWeight("model.layers.1.self_attn.v_proj.weight", w)
	if err != nil || !ok {
		t.Fatalf("MergeWeight v_proj: want true, nil, got %v, %v", ok, err)
	}
	l := a.Layers[Key{1, "v_proj"}]
	var want float64
	for k := range l.R {
		want += float64(l.B[0*l.R+k]) * float64(l.A[k*l.In+0])
	}
	if got := float64(w[0]); math.Abs(got-want*a.Scaling()) > 1e-6 {
		t.Errorf("merged w[0][0]: want %v, got %v", want*a.Scaling(), got)
	}
	ok, err = a.MergeWeight("model.layers.1.self_attn.k_proj.weight", w)
	if err != nil || ok {
		t.Errorf("MergeWeight k_proj: want false, nil, got %v, %v", ok, err)
	}
}

func TestDimsShape(t *testing.T) {
	d := Dims{Layers: 1, Hidden: 576, Intermediate: 1536, Heads: 9, KVHeads: 3}
	tests := []struct {
		module  string
		out, in int
	}{
		{"q_proj", 576, 576},
		{"k_proj", 192, 576},
		{"v_proj", 192, 576},
		{"o_proj", 576, 576},
		{"gate_proj", 1536, 576},
		{"up_proj", 1536, 576},
		{"down_proj", 576, 1536},
	}
	for _, tt := range tests {
		out, in, err := d.Shape(tt.module)
		if err != nil || out != tt.out || in != tt.in {
			t.Errorf("Shape(%s): want %d×%d, got %d×%d (%v)", tt.module, tt.out, tt.in, out, in, err)
		}
	}
	if _, _, err := d.Shape("lm_head"); err == nil {
		t.Error("Shape(lm_head): want an error, got nil")
	}
}
