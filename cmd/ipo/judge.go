package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"ipo/internal/judge"
	"ipo/internal/llama"
	"ipo/internal/prompts"
	"ipo/internal/tokenizer"
)

// judgeFlags are the flags every command that scores responses shares.
type judgeFlags struct {
	model        string
	chatTemplate string
	prompts      string
	maxLength    int
	batchTokens  int
	maxBatch     int
	yesTokens    string
	noTokens     string
	templateVars templateVars
}

func (f *judgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "model folder or Hugging Face id (required)")
	fs.StringVar(&f.chatTemplate, "chat-template", "auto", "auto (the model's chat template with a generation prompt), none (the raw judge prompt, as in the IPO paper) or a template FILE")
	f.templateVars = templateVars{}
	fs.Var(f.templateVars, "template-var", "extra chat template variable as KEY=VALUE, such as enable_thinking=false for Qwen3; repeatable")
	fs.StringVar(&f.prompts, "prompts", "", "prompt set file (JSON or YAML); default the built-in set, which ipo prompts list prints")
	fs.IntVar(&f.maxLength, "max-length", 4096, "tokens per judge input at most; longer responses, then prompts, are shortened in the middle (capped at the model's max_position_embeddings)")
	fs.IntVar(&f.batchTokens, "batch-tokens", 8192, "padded tokens per forward batch at most (rows × longest row)")
	fs.IntVar(&f.maxBatch, "max-batch", 32, "rows per forward batch at most")
	fs.StringVar(&f.yesTokens, "yes-tokens", "", "comma-separated token ids or pieces counted as Yes (default: every single-token spelling of Yes/yes)")
	fs.StringVar(&f.noTokens, "no-tokens", "", "comma-separated token ids or pieces counted as No (default: every single-token spelling of No/no)")
}

// judgeSetup is a loaded yes/no judge: the model, how inputs are built and
// how they are scored.
type judgeSetup struct {
	model    *llama.Model
	tok      *tokenizer.Tokenizer
	prompts  *prompts.Set
	preparer *judge.Preparer
	scorer   *judge.Scorer
	// Describe is the judge as recorded in summaries.
	Describe map[string]any
	// Identity holds what decides the judge's scores; a scores file made
	// with another identity is not resumed.
	Identity map[string]any
}

func (f *judgeFlags) setup(ctx context.Context) (*judgeSetup, error) {
	if f.maxLength < 1 || f.batchTokens < 1 || f.maxBatch < 1 {
		return nil, fmt.Errorf("--max-length, --batch-tokens and --max-batch must be positive")
	}
	if (f.yesTokens == "") != (f.noTokens == "") {
		return nil, fmt.Errorf("give --yes-tokens and --no-tokens together")
	}

	set := prompts.Builtin()
	if f.prompts != "" {
		var err error
		if set, err = prompts.Load(f.prompts); err != nil {
			return nil, err
		}
	}

	model, tok, dir, err := loadModel(ctx, f.model)
	if err != nil {
		return nil, err
	}
	enc, err := newPromptEncoder(tok, dir, f.chatTemplate)
	if err != nil {
		model.Close()
		return nil, err
	}
	enc.vars = f.templateVars

	var sets judge.TokenSets
	if f.yesTokens != "" {
		sets, err = judge.ParseTokenSets(tok, f.yesTokens, f.noTokens)
	} else {
		sets, err = judge.BuildTokenSets(tok)
	}
	if err != nil {
		model.Close()
		return nil, err
	}
	if sets.Fallback {
		slog.Warn("the vocabulary has no single-token Yes or No; scoring the first piece of each word instead", "yes", sets.YesPieces, "no", sets.NoPieces)
	}

	maxLength := f.maxLength
	if limit := model.Config.MaxPositions; limit > 0 && maxLength > limit {
		slog.Info("capping --max-length at the model's max_position_embeddings", "max_length", limit)
		maxLength = limit
	}

	format := func(category, prompt, response string) (string, error) {
		tmpl, err := set.Template(category)
		if err != nil {
			return "", err
		}
		return enc.Render(tmpl.Render(tok.EscapeSpecial(prompt), tok.EscapeSpecial(response)))
	}

	js := &judgeSetup{
		model:   model,
		tok:     tok,
		prompts: set,
		preparer: &judge.Preparer{
			Tokenizer:        tok,
			Format:           format,
			AddSpecialTokens: enc.template == nil,
			MaxLength:        maxLength,
		},
		scorer: &judge.Scorer{Model: nextTokenModel{model}, Sets: sets, BatchTokens: f.batchTokens, MaxBatch: f.maxBatch},
		Describe: map[string]any{
			"kind":          "yes-no",
			"model":         f.model,
			"model_dir":     dir,
			"chat_template": templateName(f.chatTemplate, enc),
			"prompt_set":    set.Name,
			"yes_tokens":    sets.Yes,
			"no_tokens":     sets.No,
			"yes_pieces":    sets.YesPieces,
			"no_pieces":     sets.NoPieces,
			"max_length":    maxLength,
		},
	}
	weights, err := fingerprintFiles(dir)
	if err != nil {
		model.Close()
		return nil, err
	}
	probe, err := enc.Render("{probe}")
	if err != nil {
		model.Close()
		return nil, err
	}
	questions, err := json.Marshal(struct {
		Layout  string
		Entries []prompts.Entry
		Default string
	}{set.Layout(), set.Entries(), set.Default()})
	if err != nil {
		model.Close()
		return nil, err
	}
	js.Identity = map[string]any{
		"model_files":   weights,
		"chat_template": hashText(probe),
		"prompt_set":    hashText(string(questions)),
		"yes_tokens":    sets.Yes,
		"no_tokens":     sets.No,
		"max_length":    maxLength,
		"add_special":   enc.template == nil,
	}

	slog.Info("judge ready", "yes", strings.Join(sets.YesPieces, " "), "no", strings.Join(sets.NoPieces, " "), "chat_template", js.Describe["chat_template"], "prompts", set.Name)
	return js, nil
}

func (j *judgeSetup) Close() error { return j.model.Close() }

// hashText returns a short hex hash of s.
func hashText(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func templateName(choice string, enc *promptEncoder) string {
	if enc.template == nil {
		return "none"
	}
	return choice
}

// nextTokenModel adapts a llama.Model to judge.Model.
type nextTokenModel struct{ m *llama.Model }

func (n nextTokenModel) NextTokenLogits(batch [][]int) ([][]float32, error) {
	requests := make([]llama.Request, len(batch))
	for i, tokens := range batch {
		requests[i] = llama.Request{Tokens: tokens, LastOnly: true}
	}
	logits, err := n.m.Logits(requests)
	if err != nil {
		return nil, err
	}
	last := make([][]float32, len(logits))
	for i, positions := range logits {
		last[i] = positions[len(positions)-1]
	}
	return last, nil
}
