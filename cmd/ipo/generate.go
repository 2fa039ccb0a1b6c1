package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

func init() {
	commands["generate"] = command{summary: "continue a prompt with greedy decoding", run: runGenerate}
}

func runGenerate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("generate", "--model DIR --prompt TEXT [--max-new-tokens N]")
	modelArg := fs.String("model", "", "model folder or Hugging Face id (required)")
	prompt := fs.String("prompt", "", "prompt text; empty starts from BOS alone")
	maxNew := fs.Int("max-new-tokens", 64, "number of tokens to generate at most")
	chatTemplate := fs.String("chat-template", "none", "auto (the model's chat template, as a user message), none (raw prompt) or a template FILE")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if err := requireFlag(fs, "model", *modelArg); err != nil {
		return err
	}
	if *maxNew < 1 {
		return fmt.Errorf("--max-new-tokens must be at least 1, got %d", *maxNew)
	}

	model, tok, dir, err := loadModel(ctx, *modelArg)
	if err != nil {
		return err
	}
	defer model.Close()

	ids, err := encodePrompt(tok, dir, *chatTemplate, *prompt)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("the prompt encodes to no tokens and the tokenizer adds no BOS; give --prompt")
	}

	stop := stopTokens(model, tok, dir)
	start := time.Now()
	out, err := model.Greedy(ids, *maxNew, stop)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)

	fmt.Fprintln(stdout, tok.Decode(out, true))
	fmt.Fprintf(errOutput(ctx), "generated %d tokens in %.2fs (%.1f tokens/s)\n", len(out), elapsed.Seconds(), float64(len(out))/elapsed.Seconds())
	return nil
}
