package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"ipo/internal/hub"
	"ipo/internal/llama"
	"ipo/internal/tokenizer"
)

// tokenizerFiles are the files of a Hub model repository that the
// tokenizer and the chat template are read from.
var tokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json"}

// modelFiles are the files of a Hub model repository that ipo reads. Other
// weight files (consolidated.safetensors, onnx/...) are left on the Hub.
var modelFiles = append([]string{"config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json", "model-*.safetensors"}, tokenizerFiles...)

// resolveModel turns a --model argument (a folder or a Hub id) into a
// local folder, downloading the files matching patterns into the Hugging
// Face cache when needed.
func resolveModel(ctx context.Context, arg string, patterns []string) (string, error) {
	return hub.Resolve(ctx, arg, hub.Options{Patterns: patterns, Progress: downloadProgress()})
}

// loadModel resolves and loads a model and its tokenizer.
func loadModel(ctx context.Context, arg string) (*llama.Model, *tokenizer.Tokenizer, string, error) {
	dir, err := resolveModel(ctx, arg, modelFiles)
	if err != nil {
		return nil, nil, "", err
	}
	start := time.Now()
	model, err := llama.Load(dir)
	if err != nil {
		return nil, nil, "", err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		model.Close()
		return nil, nil, "", err
	}
	cfg := model.Config
	slog.Info("loaded model", "dir", dir, "type", cfg.ModelType, "layers", cfg.NumLayers, "hidden", cfg.HiddenSize, "vocab", cfg.VocabSize, "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return model, tok, dir, nil
}

// loadTokenizer resolves a --model argument and loads only its tokenizer,
// so a folder with tokenizer files alone is enough.
func loadTokenizer(ctx context.Context, arg string) (*tokenizer.Tokenizer, string, error) {
	dir, err := resolveModel(ctx, arg, tokenizerFiles)
	if err != nil {
		return nil, "", err
	}
	tok, err := tokenizer.Load(dir)
	return tok, dir, err
}

// downloadProgress logs each file's download once it completes, and its
// progress every few seconds while it runs.
func downloadProgress() func(file string, done, total int64) {
	var last time.Time
	return func(file string, done, total int64) {
		if done == total || time.Since(last) > 5*time.Second {
			last = time.Now()
			slog.Info("download", "file", file, "MB", fmt.Sprintf("%.1f", float64(done)/1e6), "of_MB", fmt.Sprintf("%.1f", float64(total)/1e6))
		}
	}
}
