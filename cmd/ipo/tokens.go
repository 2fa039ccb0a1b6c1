package main

import (
	"context"
	"io"
	"os"

	"ipo/internal/llama"
	"ipo/internal/tokenizer"
)

type (
	stderrKey struct{}
	stdinKey  struct{}
)

// input returns where a command reads its standard input: stdin, or the
// reader a test put into ctx.
func input(ctx context.Context) io.Reader {
	if r, ok := ctx.Value(stdinKey{}).(io.Reader); ok {
		return r
	}
	return os.Stdin
}

// errOutput returns where a command writes its summary lines: stderr, or
// the writer a test put into ctx.
func errOutput(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(stderrKey{}).(io.Writer); ok {
		return w
	}
	return os.Stderr
}

// stopTokens returns the ids that end generation: the EOS ids of
// generation_config.json or config.json, and the tokenizer's EOS.
func stopTokens(model *llama.Model, tok *tokenizer.Tokenizer, dir string) []int {
	seen := map[int]bool{}
	var ids []int
	add := func(id int) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, id := range model.Config.EOSTokenIDs {
		add(id)
	}
	if gen, ok, err := llama.LoadGenerationConfig(dir); err == nil && ok {
		for _, id := range gen.EOSTokenIDs {
			add(id)
		}
	}
	if id, ok := tok.EOS(); ok {
		add(id)
	}
	return ids
}
