package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"ipo/internal/evals"
	"ipo/internal/generate"
	"ipo/internal/llama"
	"ipo/internal/pipeline"
	"ipo/internal/progress"
	"ipo/internal/sample"
	"ipo/internal/tokenizer"
)

func init() {
	commands["eval mmlu"] = command{summary: "MMLU accuracy: k-shot, the answer letter by log-likelihood", run: runEvalMMLU}
	commands["eval gsm8k"] = command{summary: "GSM8K accuracy: greedy generation, final-number exact match", run: runEvalGSM8K}
	commands["eval pairs"] = command{summary: "a judge's preference accuracy on held-out pairs", run: runEvalPairs}
}

// evalRows is how many prompts go through one forward pass in eval mmlu.
const evalRows = 8

// lmScorer computes continuation log-likelihoods with a model on raw text:
// the prompt with BOS when the tokenizer adds one, and no chat template,
// as the original MMLU harness scores base models.
type lmScorer struct {
	model *llama.Model
	tok   *tokenizer.Tokenizer
	bar   *progress.Bar
}

// LogLikelihoods tokenizes prompt+continuation whole and scores the tokens
// after the longest prefix it shares with the tokenized prompt, so a
// continuation such as " A" keeps the tokenization it has in context.
// When every continuation of a prompt adds exactly one token to the
// prompt's tokens, one forward pass of the prompt scores them all.
func (s lmScorer) LogLikelihoods(ctx context.Context, prompts, continuations []string) ([][]float64, error) {
	out := make([][]float64, len(prompts))
	for first := 0; first < len(prompts); first += evalRows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var next []lmPlan // prompts scored from their last logits
		var whole []lmPlan
		for i := first; i < min(first+evalRows, len(prompts)); i++ {
			plan, err := s.plan(i, prompts[i], continuations)
			if err != nil {
				return nil, err
			}
			if plan.oneToken {
				next = append(next, plan)
			} else {
				whole = append(whole, plan)
			}
		}
		if err := s.scoreNext(next, out); err != nil {
			return nil, err
		}
		if err := s.scoreWhole(whole, out); err != nil {
			return nil, err
		}
		if s.bar != nil {
			s.bar.Add(len(next) + len(whole))
		}
	}
	return out, nil
}

// lmPlan holds the tokens of one prompt and of each prompt+continuation.
type lmPlan struct {
	index    int
	prompt   []int
	full     [][]int
	starts   []int
	oneToken bool
}

func (s lmScorer) plan(index int, prompt string, continuations []string) (lmPlan, error) {
	plan := lmPlan{index: index, prompt: s.encode(prompt), oneToken: true}
	for _, c := range continuations {
		full := s.encode(prompt + c)
		start := max(1, commonPrefix(plan.prompt, full))
		if start >= len(full) {
			return plan, fmt.Errorf("continuation %q adds no tokens after prompt %d", c, index+1)
		}
		plan.full = append(plan.full, full)
		plan.starts = append(plan.starts, start)
		if start != len(plan.prompt) || len(full) != start+1 {
			plan.oneToken = false
		}
	}
	return plan, nil
}

// scoreNext scores one-token continuations by the log-softmax of the
// prompt's last logits, computed in float64 as LogProbs does.
func (s lmScorer) scoreNext(plans []lmPlan, out [][]float64) error {
	if len(plans) == 0 {
		return nil
	}
	requests := make([]llama.Request, len(plans))
	for i, p := range plans {
		requests[i] = llama.Request{Tokens: p.prompt, LastOnly: true}
	}
	logits, err := s.model.Logits(requests)
	if err != nil {
		return err
	}
	for i, p := range plans {
		last := logits[i][0]
		peak := math.Inf(-1)
		for _, x := range last {
			peak = math.Max(peak, float64(x))
		}
		sum := 0.0
		for _, x := range last {
			sum += math.Exp(float64(x) - peak)
		}
		logZ := peak + math.Log(sum)
		out[p.index] = make([]float64, len(p.full))
		for j, full := range p.full {
			out[p.index][j] = float64(last[full[len(full)-1]]) - logZ
		}
	}
	return nil
}

// scoreWhole sums the log-probs of each continuation's tokens.
func (s lmScorer) scoreWhole(plans []lmPlan, out [][]float64) error {
	if len(plans) == 0 {
		return nil
	}
	var batch [][]int
	var starts []int
	for _, p := range plans {
		batch = append(batch, p.full...)
		starts = append(starts, p.starts...)
	}
	logProbs, err := s.model.LogProbs(batch, starts)
	if err != nil {
		return err
	}
	row := 0
	for _, p := range plans {
		out[p.index] = make([]float64, len(p.full))
		for j := range p.full {
			for _, x := range logProbs[row] {
				out[p.index][j] += x
			}
			row++
		}
	}
	return nil
}

// encode tokenizes raw text with BOS, reading special-token strings in it
// as plain text.
func (s lmScorer) encode(text string) []int {
	return s.tok.Encode(s.tok.EscapeSpecial(text), true)
}

func commonPrefix(a, b []int) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// evalOutput writes the summary JSON to path, when given.
func evalOutput(path string, summary any) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	if err := pipeline.WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func runEvalMMLU(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("eval mmlu", "--model DIR --data DIR [--subjects a,b] [--shots 5] [--limit N] [--out FILE]")
	modelArg := fs.String("model", "", "model folder or Hugging Face id (required)")
	data := fs.String("data", "", "MMLU folder with dev/SUBJECT_dev.csv and test/SUBJECT_test.csv (required)")
	subjectList := fs.String("subjects", "", "comma-separated subjects; default every subject with a test file")
	shots := fs.Int("shots", 5, "solved dev examples before each question; fewer are used where the prompt would not fit the context")
	limit := fs.Int("limit", 0, "evaluate only the first N test questions of each subject; 0 takes all")
	out := fs.String("out", "", "summary JSON file")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for _, req := range [][2]string{{"model", *modelArg}, {"data", *data}} {
		if err := requireFlag(fs, req[0], req[1]); err != nil {
			return err
		}
	}
	if *shots < 0 || *limit < 0 {
		return fmt.Errorf("--shots and --limit must be 0 or more, got %d and %d", *shots, *limit)
	}

	all, err := evals.MMLUSubjects(*data)
	if err != nil {
		return err
	}
	subjects := splitList(*subjectList)
	if len(subjects) == 0 {
		subjects = all
	}
	for _, s := range subjects {
		if !slices.Contains(all, s) {
			return fmt.Errorf("--subjects: %q has no test file in %s; subjects there: %s", s, *data, strings.Join(all, ", "))
		}
	}

	model, tok, _, err := loadModel(ctx, *modelArg)
	if err != nil {
		return err
	}
	defer model.Close()

	start := time.Now()
	bar := progress.New(errOutput(ctx), 0, progress.Options{Label: "mmlu", Unit: "questions"})
	scorer := lmScorer{model: model, tok: tok, bar: bar}
	opts := evals.MMLUOptions{Shots: *shots, Limit: *limit}
	if limit := model.Config.MaxPositions; limit > 0 {
		opts.Fits = func(p string) bool {
			// The prompt alone rules out most prompts that are too long.
			if len(scorer.encode(p)) >= limit {
				return false
			}
			for _, c := range []string{" A", " B", " C", " D"} {
				if len(scorer.encode(p+c)) > limit {
					return false
				}
			}
			return true
		}
	}
	var results []evals.SubjectResult
	for _, s := range subjects {
		dev, test, err := evals.ReadMMLUSubject(*data, s)
		if err != nil {
			return err
		}
		res, err := evals.EvalMMLUSubject(ctx, scorer, s, dev, test, opts)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	bar.Finish()
	summary := evals.Summarize(results, *shots)

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "subject\tcorrect\ttotal\taccuracy\ttoo long")
	tooLong := 0
	for _, r := range summary.Subjects {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%d\n", r.Subject, r.Correct, r.Total, r.Accuracy, r.TooLong)
		tooLong += r.TooLong
	}
	fmt.Fprintf(tw, "overall\t%d\t%d\t%.4f\t%d\n", summary.Correct, summary.Total, summary.Accuracy, tooLong)
	tw.Flush()
	if tooLong > 0 {
		slog.Warn("questions left out because they do not fit the model's context even without shots", "count", tooLong)
	}

	if err := evalOutput(*out, map[string]any{"task": "mmlu", "model": *modelArg, "result": summary}); err != nil {
		return err
	}
	fmt.Fprintf(errOutput(ctx), "mmlu: %d questions in %d subjects, accuracy %.4f (macro %.4f), %d-shot; %.1fs\n",
		summary.Total, len(summary.Subjects), summary.Accuracy, summary.MacroAccuracy, *shots, time.Since(start).Seconds())
	return nil
}

// greedyGenerator generates with greedy decoding.
type greedyGenerator struct {
	model *llama.Model
	tok   *tokenizer.Tokenizer
	// enc renders each prompt as a user message through the chat
	// template, or takes it as raw text with --chat-template none.
	enc     *promptEncoder
	stopIDs []int
	maxNew  int
	opts    generate.Options
}

// Generate returns each prompt's completion, cut before the first stop
// string.
func (g greedyGenerator) Generate(ctx context.Context, prompts, stops []string) ([]string, error) {
	decode := func(ids []int) string { return g.tok.Decode(ids, true) }
	reqs := make([]generate.Request, len(prompts))
	for i, p := range prompts {
		text, err := g.enc.Text(p)
		if err != nil {
			return nil, fmt.Errorf("prompt %d: %w", i+1, err)
		}
		ids := g.enc.Encode(text)
		maxNew := g.maxNew
		if limit := g.model.Config.MaxPositions; limit > 0 {
			maxNew = min(maxNew, limit-len(ids))
		}
		if maxNew < 1 {
			return nil, fmt.Errorf("prompt %d has %d tokens, which leaves no room to generate within max_position_embeddings %d; lower --shots", i+1, len(ids), g.model.Config.MaxPositions)
		}
		reqs[i] = generate.Request{Prompt: ids, MaxNewTokens: maxNew, Sampler: sample.New(sample.DefaultConfig(), 0),
			Stopper: sample.NewStopper(g.stopIDs, stops, maxNew, decode)}
	}
	results, err := generate.Run(ctx, g.model, reqs, g.opts)
	if err != nil {
		return nil, cacheAdvice(err)
	}
	texts := make([]string, len(results))
	for i, r := range results {
		texts[i] = r.Text
	}
	return texts, nil
}

func runEvalGSM8K(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("eval gsm8k", "--model DIR --data FILE [--shots 0] [--limit N] [--out FILE]")
	modelArg := fs.String("model", "", "model folder or Hugging Face id (required)")
	data := fs.String("data", "", "GSM8K problems: JSON, JSON Lines or Parquet with question and answer (\"... #### N\") (required)")
	shots := fs.Int("shots", 0, "solved examples before each question; 0 asks zero-shot")
	shotsData := fs.String("shots-data", "", "file the solved examples come from (its first --shots problems); default the first --shots problems of --data, which are then left out of the evaluation")
	limit := fs.Int("limit", 0, "evaluate only the first N problems; 0 takes all")
	maxNew := fs.Int("max-new-tokens", 256, "tokens to generate per answer at most")
	batchSize := fs.Int("batch-size", 8, "answers decoded together")
	kvCacheMB := fs.Int("kv-cache-mb", 4096, "memory limit of the KV cache in MiB")
	chatTemplate := fs.String("chat-template", "none", "none (the raw few-shot prompt), auto (the model's chat template, the prompt as one user message) or a template FILE")
	out := fs.String("out", "", "summary JSON file, with every completion")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for _, req := range [][2]string{{"model", *modelArg}, {"data", *data}} {
		if err := requireFlag(fs, req[0], req[1]); err != nil {
			return err
		}
	}
	if *shots < 0 || *limit < 0 || *maxNew < 1 || *batchSize < 1 || *kvCacheMB < 1 {
		return fmt.Errorf("--shots and --limit must be 0 or more, and --max-new-tokens, --batch-size and --kv-cache-mb positive")
	}

	items, err := evals.ReadGSM8K(*data)
	if err != nil {
		return err
	}
	pool := items
	if *shotsData != "" {
		if pool, err = evals.ReadGSM8K(*shotsData); err != nil {
			return err
		}
	}
	if *shots > len(pool) {
		return fmt.Errorf("--shots %d is more than the %d problems of the examples file; lower --shots", *shots, len(pool))
	}
	opts := evals.GSM8KOptions{Shots: pool[:*shots], Limit: *limit}
	if *shotsData == "" {
		items = items[*shots:]
	}

	model, tok, dir, err := loadModel(ctx, *modelArg)
	if err != nil {
		return err
	}
	defer model.Close()

	enc, err := newPromptEncoder(tok, dir, *chatTemplate)
	if err != nil {
		return err
	}

	start := time.Now()
	bar := progress.New(errOutput(ctx), 0, progress.Options{Label: "gsm8k", Unit: "tokens"})
	gen := greedyGenerator{model: model, tok: tok, enc: enc, stopIDs: stopTokens(model, tok, dir), maxNew: *maxNew,
		opts: generate.Options{BatchSize: *batchSize, CacheBytes: int64(*kvCacheMB) << 20, OnToken: func(_, _ int, _ string, _ bool) { bar.Add(1) }}}
	res, err := evals.EvalGSM8K(ctx, gen, items, opts)
	bar.Finish()
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "task\tshots\tcorrect\ttotal\taccuracy")
	fmt.Fprintf(tw, "gsm8k\t%d\t%d\t%d\t%.4f\n", res.Shots, res.Correct, res.Total, res.Accuracy)
	tw.Flush()

	if err := evalOutput(*out, map[string]any{"task": "gsm8k", "model": *modelArg, "max_new_tokens": *maxNew, "chat_template": templateName(*chatTemplate, enc), "result": res}); err != nil {
		return err
	}
	fmt.Fprintf(errOutput(ctx), "gsm8k: %d problems, exact match %.4f, %d-shot; %.1fs\n", res.Total, res.Accuracy, res.Shots, time.Since(start).Seconds())
	return nil
}

func runEvalPairs(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("eval pairs", "--model DIR --data PAIRS [--limit N] [--out FILE] [judge flags]")
	var jf judgeFlags
	jf.register(fs)
	kind := fs.String("judge", "yes-no", "judge that scores the responses: "+strings.Join(judgeKinds, ", "))
	data := fs.String("data", "", "held-out pairs with prompt, chosen and rejected text, such as ipo label output (required)")
	limit := fs.Int("limit", 0, "evaluate only the first N pairs; 0 takes all")
	out := fs.String("out", "", "summary JSON file")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for _, req := range [][2]string{{"model", jf.model}, {"data", *data}} {
		if err := requireFlag(fs, req[0], req[1]); err != nil {
			return err
		}
	}
	if *limit < 0 {
		return fmt.Errorf("--limit must be 0 (all pairs) or more, got %d", *limit)
	}

	pairs, err := evals.ReadPairs(*data)
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(pairs) {
		pairs = pairs[:*limit]
	}
	j, err := openJudge(ctx, *kind, &jf)
	if err != nil {
		return err
	}
	defer j.Close()

	start := time.Now()
	res, err := evals.EvalPairs(ctx, j, pairs)
	if err != nil {
		return err
	}
	if math.IsNaN(res.MeanMargin) {
		return fmt.Errorf("the judge returned a NaN score on %s", *data)
	}

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "pairs\tcorrect\tties\taccuracy\tmean margin")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%.4f\t%.4f\n", res.Total, res.Correct, res.Ties, res.Accuracy, res.MeanMargin)
	tw.Flush()

	if err := evalOutput(*out, map[string]any{"task": "pairs", "data": *data, "judge": j.Describe(), "result": res}); err != nil {
		return err
	}
	fmt.Fprintf(errOutput(ctx), "pairs: %d, accuracy %.4f; %.1fs\n", res.Total, res.Accuracy, time.Since(start).Seconds())
	return nil
}
