// Command dpo measures the throughput of one DPO training step, as
// ipo/internal/trainer's loop runs it, and writes a Markdown table. The
// model has random weights with SmolLM2-135M's shapes (hidden 576, 30
// layers, 9 heads, 3 KV heads, MLP 1536, vocab 49152, tied embeddings) and
// a LoRA adapter of rank 16 on every linear layer.
//
// Usage:
//
//	go run ./bench/dpo [-runs 3] [-length 512] [-prompt 128] [-threads 1,2] [-layers 30] [-out docs/bench/dpo.md]
//
// One step is what the loop does for a micro-batch of one pair: the
// forward and backward pass of the chosen and rejected sequences, the
// sigmoid DPO loss against cached reference log-probs, gradient clipping
// and an AdamW update. Each cell is the median tokens/s (chosen plus
// rejected tokens) of -runs timed steps after one warm-up.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"ipo/bench/internal/benchkit"
	"ipo/internal/compute"
	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/train"
)

func main() {
	runs := flag.Int("runs", 3, "timed steps per cell; the table shows their median")
	length := flag.Int("length", 512, "tokens per sequence (chosen and rejected each)")
	prompt := flag.Int("prompt", 128, "prompt tokens at the start of each sequence")
	layers := flag.Int("layers", 30, "decoder layers (30 in SmolLM2-135M); fewer for a quick run")
	rank := flag.Int("r", 16, "LoRA rank")
	threadList := flag.String("threads", "1,2", "comma-separated worker counts to measure")
	out := flag.String("out", "docs/bench/dpo.md", "Markdown file to write; empty prints the table only")
	flag.Parse()

	if *runs < 1 || *length < 2 || *prompt < 1 || *prompt >= *length || *layers < 1 || *rank < 1 {
		fmt.Fprintln(os.Stderr, "dpo: -runs, -layers and -r must be 1 or more, and -prompt between 1 and -length - 1")
		os.Exit(2)
	}
	var threads []int
	for _, s := range strings.Split(*threadList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "dpo: invalid -threads %q; use a list such as 1,2\n", *threadList)
			os.Exit(2)
		}
		threads = append(threads, n)
	}

	cfg := benchkit.SmolLM2Config(*layers)
	model, err := llama.New(cfg, benchkit.Weights{RNG: rand.New(rand.NewPCG(1, 2))}, compute.Default())
	if err != nil {
		fmt.Fprintf(os.Stderr, "dpo: build model: %v\n", err)
		os.Exit(1)
	}
	lcfg := peft.DefaultLoraConfig()
	lcfg.R, lcfg.LoraAlpha, lcfg.TargetModules, lcfg.AllLinearLayers = *rank, float64(2**rank), nil, true
	ad, err := peft.New(lcfg, model.AdapterDims(), rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "dpo: adapter: %v\n", err)
		os.Exit(1)
	}
	// A non-zero B makes the adapter's contribution, and its gradient
	// through A, non-trivial, as after a few steps of training.
	for _, l := range ad.Layers {
		for i := range l.B {
			l.B[i] = 0.001
		}
	}

	rng := rand.New(rand.NewPCG(5, 6))
	batch := make([]llama.TrainSequence, 2)
	for s := range batch {
		tokens, targets := make([]int, *length), make([]bool, *length)
		for i := range tokens {
			tokens[i] = rng.IntN(cfg.VocabSize)
			targets[i] = i >= *prompt
		}
		batch[s] = llama.TrainSequence{Tokens: tokens, Targets: targets}
	}

	var rows []string
	for _, n := range threads {
		compute.SetThreads(n)
		rate, cpuRate, err := measure(model, ad, batch, *runs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dpo: %v\n", err)
			os.Exit(1)
		}
		slog.Info("measured", "threads", n, "tokens_per_s", rate, "tokens_per_cpu_s", cpuRate)
		rows = append(rows, fmt.Sprintf("| ipo (Go), float32 | %d | %.0f | %.0f |", n, rate, cpuRate))
	}
	table := "| stack | threads | tokens/s | tokens/CPU-s |\n| --- | ---: | ---: | ---: |\n" + strings.Join(rows, "\n") + "\n"
	fmt.Print(table)
	if *out == "" {
		return
	}
	page := fmt.Sprintf(pageTemplate, time.Now().UTC().Format("2006-01-02"), compute.Default().Name(),
		strings.TrimSpace("go run ./bench/dpo "+strings.Join(os.Args[1:], " ")), cfg.NumLayers, *rank, *length, *prompt, *runs, table)
	if err := os.WriteFile(*out, []byte(page), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "dpo: %v\n", err)
		os.Exit(1)
	}
}

// measure returns the median tokens per wall-clock second and per CPU
// second of runs DPO steps after one warm-up.
func measure(model *llama.Model, ad *peft.Adapter, batch []llama.TrainSequence, runs int) (float64, float64, error) {
	opt, err := train.NewAdamW(train.DefaultAdamWConfig())
	if err != nil {
		return 0, 0, err
	}
	grads := llama.NewLoraGrads(ad)
	var params []train.Param
	for _, k := range ad.Keys() {
		params = append(params,
			train.Param{Name: peft.TensorName(k, "A"), Value: ad.Layers[k].A, Grad: grads[k].A},
			train.Param{Name: peft.TensorName(k, "B"), Value: ad.Layers[k].B, Grad: grads[k].B})
	}
	loss := train.DPOLoss{Type: train.Sigmoid, Beta: 0.1}
	lossGrad := func(logps []float64) ([]float64, error) {
		res := loss.Batch([]train.Pair{{PolicyChosen: logps[0], PolicyRejected: logps[1], ReferenceChosen: logps[0] + 1, ReferenceRejected: logps[1] - 1}})
		return []float64{res.Pairs[0].GradChosen, res.Pairs[0].GradRejected}, nil
	}
	tokens := float64(len(batch[0].Tokens) + len(batch[1].Tokens))
	var rates, cpuRates []float64
	for i := range runs + 1 {
		start, startCPU := time.Now(), benchkit.CPUTime()
		for _, g := range grads {
			clear(g.A)
			clear(g.B)
		}
		if _, err := model.SequenceLogProbGrad(ad, batch, nil, lossGrad, grads); err != nil {
			return 0, 0, err
		}
		gs := make([][]float32, len(params))
		for j, p := range params {
			gs[j] = p.Grad
		}
		train.ClipGradNorm(gs, 1)
		if err := opt.Step(params, 1e-6); err != nil {
			return 0, 0, err
		}
		if i == 0 {
			continue // warm-up
		}
		rates = append(rates, tokens/time.Since(start).Seconds())
		if used := benchkit.CPUTime() - startCPU; used > 0 {
			cpuRates = append(cpuRates, tokens/used.Seconds())
		}
	}
	return median(rates), median(cpuRates), nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

const pageTemplate = `# DPO step throughput

Measured %s on the development machine, compute backend %q, by

    %s

A random-weight model with SmolLM2-135M's shapes (hidden 576, 9 heads,
3 KV heads, head_dim 64, MLP 1536, vocab 49152, tied embeddings, %d
layers) in float32 with a LoRA adapter of rank %d (alpha 2r) on every
linear layer runs one DPO step on one pair: chosen and rejected of %d
tokens each, the first %d of them the prompt. A step is the forward and
backward pass of both sequences, the sigmoid loss against cached reference
log-probs, gradient clipping and an AdamW update; tokens/s counts the
chosen plus rejected tokens. Each cell is the median of %d timed steps
after one warm-up, per wall-clock second and per CPU second of the process.

%s`
