// Command score measures the throughput of ipo's yes/no judge, the path of
// `ipo score` and `ipo bench`: judge prompt, tokenizer, length-bucketed
// prefill and the P(Yes) read-out, on a random-weight model with
// SmolLM2-135M's shapes and the SmolLM tokenizer, over real RewardBench
// responses. It writes the results as a Markdown page.
//
// Usage:
//
//	go run ./bench/score [-responses 64] [-max-length 512] [-runs 3] [-out docs/bench/score.md]
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"ipo/bench/internal/benchkit"
	"ipo/internal/bench"
	"ipo/internal/compute"
	"ipo/internal/judge"
	"ipo/internal/llama"
	"ipo/internal/prompts"
	"ipo/internal/tokenizer"
)

func main() {
	shared := flag.String("shared", "../shared", "the shared data folder")
	count := flag.Int("responses", 64, "responses to score per run")
	maxLength := flag.Int("max-length", 512, "tokens per judge input at most")
	batchTokens := flag.Int("batch-tokens", 8192, "padded tokens per forward batch at most")
	layers := flag.Int("layers", 30, "decoder layers (30 in SmolLM2-135M)")
	runs := flag.Int("runs", 3, "timed runs; the page shows their median")
	out := flag.String("out", "docs/bench/score.md", "Markdown file to write; empty prints the result only")
	flag.Parse()

	if err := run(*shared, *count, *maxLength, *batchTokens, *layers, *runs, *out); err != nil {
		fmt.Fprintf(os.Stderr, "score: %v\n", err)
		os.Exit(1)
	}
}

func run(shared string, count, maxLength, batchTokens, layers, runs int, out string) error {
	tok, err := tokenizer.Load(filepath.Join(shared, "tokenizers", "smollm"))
	if err != nil {
		return err
	}
	data, err := bench.LoadRewardBench(filepath.Join(shared, "data", "rewardbench", "filtered-first500.jsonl"))
	if err != nil {
		return err
	}
	responses := data.Responses()
	if len(responses) < count {
		return fmt.Errorf("-responses %d: the file has %d", count, len(responses))
	}
	responses = responses[:count]

	model, err := benchkit.New(benchkit.SmolLM2Config(layers), 1)
	if err != nil {
		return err
	}
	sets, err := judge.BuildTokenSets(tok)
	if err != nil {
		return err
	}
	set := prompts.Builtin()
	prep := &judge.Preparer{
		Tokenizer: tok,
		Format: func(category, prompt, response string) (string, error) {
			return set.Render(category, tok.EscapeSpecial(prompt), tok.EscapeSpecial(response))
		},
		AddSpecialTokens: true,
		MaxLength:        maxLength,
	}
	scorer := &judge.Scorer{Model: lastLogits{model}, Sets: sets, BatchTokens: batchTokens, MaxBatch: 32}

	// One run: tokenize every response, then score them all.
	var tokens int
	once := func() error {
		inputs := make([]judge.Input, len(responses))
		tokens = 0
		for i, r := range responses {
			var err error
			if inputs[i], err = prep.Prepare(r.Category, r.Prompt, r.Text); err != nil {
				return err
			}
			tokens += len(inputs[i].Tokens)
		}
		_, err := scorer.Score(inputs)
		return err
	}
	if err := once(); err != nil {
		return err
	}

	rates := make([]float64, runs)
	cpuRates := make([]float64, runs)
	for i := range runs {
		start, startCPU := time.Now(), benchkit.CPUTime()
		if err := once(); err != nil {
			return err
		}
		rates[i] = float64(len(responses)) / time.Since(start).Seconds()
		if used := benchkit.CPUTime() - startCPU; used > 0 {
			cpuRates[i] = float64(len(responses)) / used.Seconds()
		}
		slog.Info("run", "responses_per_s", rates[i], "responses_per_cpu_s", cpuRates[i])
	}
	slices.Sort(rates)
	slices.Sort(cpuRates)
	rate, cpuRate := rates[runs/2], cpuRates[runs/2]
	meanTokens := float64(tokens) / float64(len(responses))

	line := fmt.Sprintf("| %d | %.0f | %.2f | %.2f | %.0f |\n", len(responses), meanTokens, rate, cpuRate, rate*meanTokens)
	fmt.Print(line)
	if out == "" {
		return nil
	}
	page := fmt.Sprintf(pageTemplate, time.Now().UTC().Format("2006-01-02 15:04"), runtime.GOARCH, runtime.NumCPU(), compute.Default().Name(), layers, maxLength, runs, line)
	return os.WriteFile(out, []byte(page), 0o644)
}

// lastLogits is the model's last-position logits as a judge.Model.
type lastLogits struct{ m *llama.Model }

func (l lastLogits) NextTokenLogits(batch [][]int) ([][]float32, error) {
	reqs := make([]llama.Request, len(batch))
	for i, tokens := range batch {
		reqs[i] = llama.Request{Tokens: tokens, LastOnly: true}
	}
	out, err := l.m.Logits(reqs)
	if err != nil {
		return nil, err
	}
	last := make([][]float32, len(out))
	for i, o := range out {
		last[i] = o[0]
	}
	return last, nil
}

const pageTemplate = `# Judge throughput

Responses scored per second by the yes/no judge: the judge prompt, the
tokenizer, length-bucketed prefill and the P(Yes) read-out, as in ` + "`ipo score`" + `
and ` + "`ipo bench`" + `. The model has random weights with SmolLM2-135M's shapes
(hidden 576, 9 heads, 3 KV heads, MLP 1536, vocab 49152) and the SmolLM
tokenizer; the responses are the first RewardBench rows (prompt and
response), shortened to the max length. Each run tokenizes and scores every
response; the table shows the median of the timed runs after one warm-up.

- Command: ` + "`go run ./bench/score`" + `
- Date: %s UTC; %s, %d CPUs; compute backend %s
- Layers %d, max length %d tokens, %d timed runs

| responses | mean tokens | responses/s | responses per CPU-s | tokens/s |
|--:|--:|--:|--:|--:|
%s
The machine is shared, so wall-clock rates drift between runs; the
per-CPU-second column is steadier.
`
