package safetensors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/testutil"
)

// writeSharded writes a two-shard checkpoint into dir and returns its
// weight map.
func writeSharded(t *testing.T, dir string) map[string]string {
	t.Helper()
	one := mustEncode(t, []float32{1, 2, 3, 4}, BF16)
	two := mustEncode(t, []float32{5, 6}, F16)
	if err := WriteFile(filepath.Join(dir, "model-00001-of-00002.safetensors"),
		[]WriteTensor{{Name: "embed.weight", DType: BF16, Shape: []int{2, 2}, Data: one}},
		map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"),
		[]WriteTensor{{Name: "norm.weight", DType: F16, Shape: []int{2}, Data: two}}, nil); err != nil {
		t.Fatal(err)
	}
	weightMap := map[string]string{
		"embed.weight": "model-00001-of-00002.safetensors",
		"norm.weight":  "model-00002-of-00002.safetensors",
	}
	writeIndex(t, dir, weightMap)
	return weightMap
}

func writeIndex(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 12}, "weight_map": weightMap})
	if err != nil {
		t.Fatal(err)
	}
	writeBytes(t, filepath.Join(dir, IndexFile), b)
}

func TestOpenModelSharded(t *testing.T) {
	dir := t.TempDir()
	writeSharded(t, dir)

	s, err := OpenModel(dir)
	if err != nil {
		t.Fatalf("OpenModel: %v", err)
	}
	defer s.Close()

	if diff := cmp.Diff([]string{"embed.weight", "norm.weight"}, s.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if got := len(s.Files()); got != 2 {
		t.Errorf("Files: want 2 shards, got %d", got)
	}
	if diff := cmp.Diff(map[string]string{"format": "pt"}, s.Metadata()); diff != "" {
		t.Errorf("Metadata of the first shard (-want +got):\n%s", diff)
	}

	embed, err := s.Float32("embed.weight", 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float32{1, 2, 3, 4}, embed); diff != "" {
		t.Errorf("embed.weight (-want +got):\n%s", diff)
	}
	norm, err := s.Float32("norm.weight", 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float32{5, 6}, norm); diff != "" {
		t.Errorf("norm.weight (-want +got):\n%s", diff)
	}
	info, _ := s.Info("norm.weight")
	if want := filepath.Join(dir, "model-00002-of-00002.safetensors"); info.File != want {
		t.Errorf("Info.File: want %s, got %s", want, info.File)
	}

	_, err = s.Float32("lm_head.weight")
	for _, w := range []string{`"lm_head.weight"`, IndexFile, "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing tensor error: want it to contain %q, got %v", w, err)
		}
	}
}

func TestOpenModelSingleFile(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, SingleFile), []WriteTensor{{Name: "x", DType: F32, Shape: []int{1}, Data: make([]byte, 4)}}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := OpenModel(dir)
	if err != nil {
		t.Fatalf("OpenModel: %v", err)
	}
	defer s.Close()
	if diff := cmp.Diff([]string{"x"}, s.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
}

func TestOpenModelErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string
	}{
		{"missing shard", func(t *testing.T, dir string) {
			writeSharded(t, dir)
			os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors"))
		}, []string{"missing shard model-00002-of-00002.safetensors", IndexFile}},
		{"tensor not in its shard", func(t *testing.T, dir string) {
			wm := writeSharded(t, dir)
			wm["lm_head.weight"] = "model-00001-of-00002.safetensors"
			writeIndex(t, dir, wm)
		}, []string{`missing tensor "lm_head.weight"`, "model-00001-of-00002.safetensors"}},
		{"tensor in the wrong shard", func(t *testing.T, dir string) {
			wm := writeSharded(t, dir)
			wm["norm.weight"] = "model-00001-of-00002.safetensors"
			writeIndex(t, dir, wm)
		}, []string{`"norm.weight"`, "does not store it"}},
		{"shard outside the folder", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"x": "../x.safetensors"})
		}, []string{"invalid shard name", "../x.safetensors"}},
		{"index without weight map", func(t *testing.T, dir string) {
			writeBytes(t, filepath.Join(dir, IndexFile), []byte(`{"metadata":{}}`))
		}, []string{`"weight_map"`}},
		{"index invalid JSON", func(t *testing.T, dir string) {
			writeBytes(t, filepath.Join(dir, IndexFile), []byte(`{"weight_map":`))
		}, []string{"invalid JSON", IndexFile}},
		{"bad shard", func(t *testing.T, dir string) {
			writeSharded(t, dir)
			writeBytes(t, filepath.Join(dir, "model-00002-of-00002.safetensors"), []byte{1, 2})
		}, []string{"model-00002-of-00002.safetensors", "truncated file"}},
		{"no weights", func(t *testing.T, dir string) {}, []string{"neither", SingleFile, IndexFile}},
		{"only bin weights", func(t *testing.T, dir string) {
			writeBytes(t, filepath.Join(dir, "pytorch_model.bin"), []byte{0})
		}, []string{"PyTorch .bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			s, err := OpenModel(dir)
			if err == nil {
				s.Close()
				t.Fatalf("OpenModel: want an error, got none")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error: want it to contain %q, got %q", w, err)
				}
			}
		})
	}
}

func TestOpenModelNoSuchFolder(t *testing.T) {
	_, err := OpenModel(filepath.Join(t.TempDir(), "absent"))
	if err == nil || !strings.Contains(err.Error(), "no such folder") {
		t.Fatalf("want a no such folder error, got %v", err)
	}
}

func TestOpenModelStories260K(t *testing.T) {
	dir := testutil.Shared(t, "models/stories260K")
	s, err := OpenModel(dir)
	if err != nil {
		t.Fatalf("OpenModel: %v", err)
	}
	defer s.Close()

	// Shapes from config.json: hidden 64, 8 heads of 8, 4 KV heads,
	// intermediate 172, 5 layers, vocab 512, tied embeddings.
	shapes := map[string][]int{
		"model.embed_tokens.weight":                      {512, 64},
		"model.norm.weight":                              {64},
		"model.layers.0.self_attn.q_proj.weight":         {64, 64},
		"model.layers.0.self_attn.k_proj.weight":         {32, 64},
		"model.layers.4.mlp.gate_proj.weight":            {172, 64},
		"model.layers.4.mlp.down_proj.weight":            {64, 172},
		"model.layers.4.post_attention_layernorm.weight": {64},
	}
	for name, shape := range shapes {
		v, err := s.Float32(name, shape...)
		if err != nil {
			t.Errorf("Float32(%s): %v", name, err)
			continue
		}
		nonzero := 0
		for _, x := range v {
			if x != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%s: want trained (non-zero) weights, got all zeros", name)
		}
	}

	params := 0
	for _, name := range s.Names() {
		info, _ := s.Info(name)
		if info.DType != F32 {
			t.Errorf("%s: want dtype F32 as config.json says, got %s", name, info.DType)
		}
		params += info.Elements()
	}
	if params < 250_000 || params > 270_000 {
		t.Errorf("parameter count: want about 260K, got %d", params)
	}
}
