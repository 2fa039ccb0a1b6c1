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

// modelFiles are the files of a Hub model repository that ipo reads.
var modelFiles = []string{"*.json", "*.safetensors", "*.jinja"}

// resolveModel turns a --model argument (a folder or a Hub id) into a
// local folder, downloading into the Hugging Face cache when needed.
func resolveModel(ctx context.Context, arg string) (string, error) {
	return hub.Resolve(ctx, arg, hub.Options{Patterns: modelFiles, Progress: downloadProgress()})
}

// loadModel resolves and loads a model and its tokenizer.
func loadModel(ctx context.Context, arg string) (*llama.Model, *tokenizer.Tokenizer, string, error) {
	dir, err := resolveModel(ctx, arg)
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
	dir, err := resolveModel(ctx, arg)
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
