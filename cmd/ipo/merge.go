package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/safetensors"
)

func init() {
	commands["merge"] = command{summary: "merge a LoRA adapter into its base model's weights", run: runMerge}
}

// mergeCopyFiles are the files of the base model folder copied unchanged
// into the merged folder, when present.
var mergeCopyFiles = []string{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "chat_template.jinja", "chat_template.json"}

func runMerge(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("merge", "--model DIR --adapter DIR --out DIR")
	modelArg := fs.String("model", "", "base model folder or Hugging Face id (required)")
	adapterDir := fs.String("adapter", "", "PEFT adapter folder, such as the --out of ipo train (required)")
	outDir := fs.String("out", "", "folder to write the merged model to (required)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for _, req := range []struct{ name, value string }{{"model", *modelArg}, {"adapter", *adapterDir}, {"out", *outDir}} {
		if err := requireFlag(fs, req.name, req.value); err != nil {
			return err
		}
	}
	start := time.Now()

	dir, err := resolveModel(ctx, *modelArg, modelFiles)
	if err != nil {
		return err
	}
	if same, _ := sameDir(dir, *outDir); same {
		return fmt.Errorf("--out %s is the base model folder; choose another folder", *outDir)
	}
	model, err := llama.Load(dir)
	if err != nil {
		return err
	}
	dims := model.AdapterDims()
	model.Close()
	ad, err := peft.Load(*adapterDir, dims)
	if err != nil {
		return err
	}

	n, err := mergeWeights(dir, ad, *outDir)
	if err != nil {
		return err
	}
	for _, name := range mergeCopyFiles {
		if err := copyFile(filepath.Join(dir, name), filepath.Join(*outDir, name)); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "merged %d adapted weights into %s (%.1fs)\n", n, *outDir, time.Since(start).Seconds())
	return nil
}

// mergeWeights writes out/model.safetensors: every tensor of the base
// model folder dir in its stored dtype, with ad merged into the weights it
// adapts. It returns the number of merged weights.
func mergeWeights(dir string, ad *peft.Adapter, out string) (int, error) {
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		return 0, err
	}
	defer set.Close()

	// NOTE: the merged model is written as one file, even for a sharded
	// base, and every tensor is held in memory until it is written.
	targets := map[string]bool{}
	for _, k := range ad.Keys() {
		targets[peft.WeightName(k)] = true
	}
	var tensors []safetensors.WriteTensor
	merged := 0
	for _, name := range set.Names() {
		info, raw, err := set.Raw(name)
		if err != nil {
			return 0, err
		}
		t := safetensors.WriteTensor{Name: name, DType: info.DType, Shape: info.Shape, Data: append([]byte(nil), raw...)}
		if targets[name] {
			w, err := set.Float32(name)
			if err != nil {
				return 0, err
			}
			if _, err := ad.MergeWeight(name, w); err != nil {
				return 0, err
			}
			if t.Data, err = safetensors.EncodeFloat32(w, info.DType); err != nil {
				return 0, fmt.Errorf("merge %s: %w", name, err)
			}
			merged++
		}
		tensors = append(tensors, t)
	}
	if merged != len(ad.Layers) {
		return 0, fmt.Errorf("adapter %s targets %d weights but %d were found in %s; is it an adapter of this base model?", ad.Config.BaseModelNameOrPath, len(ad.Layers), merged, dir)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	return merged, safetensors.WriteFile(filepath.Join(out, safetensors.SingleFile), tensors, map[string]string{"format": "pt"})
}

// copyFile copies src to dst; a missing src is skipped.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// sameDir reports whether a and b name the same existing folder.
func sameDir(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}
