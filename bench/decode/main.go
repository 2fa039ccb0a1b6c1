// Command decode measures the decode throughput of ipo/internal/llama with
// the KV cache and writes the results as a Markdown table. The model has
// random weights and SmolLM2-135M's shapes: hidden 576, 30 layers, 9
// heads, 3 KV heads, MLP 1536, vocab 49152 and tied embeddings.
//
// Usage:
//
//	go run ./bench/decode [-runs 3] [-batches 1,8] [-prompt 128] [-steps 64] [-threads 1,2] [-out docs/bench/decode.md]
//
// Each cell prefills batch sequences of -prompt random tokens, then times
// -steps batched decode steps of one token per sequence. It reports the
// median over -runs of batch·steps/seconds, the tokens/s of the model
// alone, and the same through generate.Run with greedy sampling, which
// adds the sampler and the scheduler.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"ipo/bench/internal/benchkit"
	"ipo/internal/compute"
	"ipo/internal/generate"
	"ipo/internal/llama"
	"ipo/internal/sample"
)

// rate is a measured throughput: tokens per wall-clock second and per CPU
// second of the process (user plus system time).
type rate struct {
	wall, cpu float64
}

// cell is one measured configuration.
type cell struct {
	threads, batch int
	model, full    rate // medians
}

func main() {
	runs := flag.Int("runs", 3, "timed runs per cell; the table shows their median")
	batchList := flag.String("batches", "1,8", "comma-separated batch sizes to measure")
	promptLength := flag.Int("prompt", 128, "prompt tokens prefilled before the timed decode steps")
	steps := flag.Int("steps", 64, "timed decode steps per run")
	layers := flag.Int("layers", 30, "decoder layers (30 in SmolLM2-135M); fewer for a quick run")
	threadList := flag.String("threads", "1,2", "comma-separated worker counts to measure")
	out := flag.String("out", "docs/bench/decode.md", "Markdown file to write; empty prints the table only")
	flag.Parse()

	threads, err := parseList(*threadList)
	if err != nil {
		fail(2, "invalid -threads %q: %v; use a list such as 1,2", *threadList, err)
	}
	batches, err := parseList(*batchList)
	if err != nil {
		fail(2, "invalid -batches %q: %v; use a list such as 1,8", *batchList, err)
	}
	if *runs < 1 || *promptLength < 1 || *steps < 1 || *layers < 1 {
		fail(2, "-runs, -prompt, -steps and -layers must be 1 or more")
	}

	cfg := benchkit.SmolLM2Config(*layers)
	start := time.Now()
	model, err := benchkit.New(cfg, 1)
	if err != nil {
		fail(1, "build model: %v", err)
	}
	slog.Info("random model ready", "layers", cfg.NumLayers, "backend", compute.Default().Name(), "seconds", time.Since(start).Seconds())

	var cells []cell
	for _, t := range threads {
		compute.SetThreads(t)
		for _, b := range batches {
			c := cell{threads: t, batch: b}
			if c.model, err = median(*runs, func() (rate, error) { return decodeSteps(model, b, *promptLength, *steps) }); err != nil {
				fail(1, "decode: %v", err)
			}
			if c.full, err = median(*runs, func() (rate, error) { return generateRun(model, b, *promptLength, *steps) }); err != nil {
				fail(1, "generate: %v", err)
			}
			slog.Info("measured", "threads", t, "batch", b, "decode_tokens_per_second", c.model.wall, "generate_tokens_per_second", c.full.wall)
			cells = append(cells, c)
		}
	}

	table := render(cells, cfg, *promptLength, *steps, *runs)
	fmt.Print(table)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
			fail(1, "write %s: %v", *out, err)
		}
	}
}

func randomPrompt(rng *rand.Rand, n, vocab int) []int {
	tokens := make([]int, n)
	for i := range tokens {
		tokens[i] = rng.IntN(vocab)
	}
	return tokens
}

// decodeSteps prefills batch prompts and returns the tokens/s of steps
// batched Decode calls with random tokens.
func decodeSteps(m *llama.Model, batch, promptLength, steps int) (rate, error) {
	rng := rand.New(rand.NewPCG(3, uint64(batch)))
	cache, err := m.NewKVCache(batch, promptLength+steps, 1<<34)
	if err != nil {
		return rate{}, err
	}
	slots := make([]int, batch)
	for s := range slots {
		slots[s] = s
		if _, err := m.Prefill(cache, s, randomPrompt(rng, promptLength, m.Config.VocabSize)); err != nil {
			return rate{}, err
		}
	}

	start, cpu := time.Now(), benchkit.CPUTime().Seconds()
	for range steps {
		if _, err := m.Decode(cache, slots, randomPrompt(rng, batch, m.Config.VocabSize)); err != nil {
			return rate{}, err
		}
	}
	return newRate(batch*steps, start, cpu), nil
}

func newRate(tokens int, start time.Time, cpu float64) rate {
	return rate{
		wall: float64(tokens) / time.Since(start).Seconds(),
		cpu:  float64(tokens) / (benchkit.CPUTime().Seconds() - cpu),
	}
}

// generateRun returns the decode tokens/s of generate.Run with greedy
// sampling over batch requests of steps+1 new tokens each. The prefill and
// first token of each request are timed separately and left out.
func generateRun(m *llama.Model, batch, promptLength, steps int) (rate, error) {
	rng := rand.New(rand.NewPCG(4, uint64(batch)))
	reqs := make([]generate.Request, batch)
	var firstTokens time.Time
	var cpu float64
	for i := range reqs {
		reqs[i] = generate.Request{
			Prompt:       randomPrompt(rng, promptLength, m.Config.VocabSize),
			MaxNewTokens: steps + 1,
			Sampler:      sample.New(sample.DefaultConfig(), uint64(i)),
			Stopper:      sample.NewStopper(nil, nil, steps+1, nil),
		}
	}
	generated := 0
	opts := generate.Options{BatchSize: batch, CacheBytes: 1 << 34, OnToken: func(_, _ int, _ string, _ bool) {
		generated++
		if generated == batch {
			firstTokens, cpu = time.Now(), benchkit.CPUTime().Seconds() // every slot has its first token
		}
	}}
	if _, err := generate.Run(context.Background(), m, reqs, opts); err != nil {
		return rate{}, err
	}
	return newRate(batch*steps, firstTokens, cpu), nil
}

// median returns the medians of runs calls of fn after one warm-up call.
func median(runs int, fn func() (rate, error)) (rate, error) {
	if _, err := fn(); err != nil {
		return rate{}, err
	}
	wall := make([]float64, runs)
	cpu := make([]float64, runs)
	for i := range runs {
		r, err := fn()
		if err != nil {
			return rate{}, err
		}
		wall[i], cpu[i] = r.wall, r.cpu
	}
	slices.Sort(wall)
	slices.Sort(cpu)
	return rate{wall: wall[runs/2], cpu: cpu[runs/2]}, nil
}

func render(cells []cell, cfg llama.Config, promptLength, steps, runs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Decode throughput with the KV cache\n\n")
	fmt.Fprintf(&b, "Random-weight model with SmolLM2-135M's shapes (%d layers, hidden %d, vocab %d, float32), ",
		cfg.NumLayers, cfg.HiddenSize, cfg.VocabSize)
	fmt.Fprintf(&b, "prompts of %d tokens, %d timed decode steps, median of %d runs after one warm-up.\n\n", promptLength, steps, runs)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, backend %s, %s, load average %s, %s.\n\n",
		cpuName(), runtime.NumCPU(), compute.Default().Name(), runtime.Version(), loadAverage(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Command: `go run ./bench/decode`\n\n")
	fmt.Fprintf(&b, "| threads | batch | Model.Decode tokens/s | tokens/CPU-s | generate.Run tokens/s | tokens/CPU-s |\n")
	fmt.Fprintf(&b, "| ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range cells {
		fmt.Fprintf(&b, "| %d | %d | %.1f | %.1f | %.1f | %.1f |\n", c.threads, c.batch, c.model.wall, c.model.cpu, c.full.wall, c.full.cpu)
	}
	b.WriteString(notes)
	return b.String()
}

// notes explains the table below it.
const notes = `
Model.Decode is one batched step of the model alone, with random input
tokens. generate.Run adds greedy sampling over the vocabulary, the stop
checks and the continuous-batching scheduler; its prefill and first token
are left out of the timing. Tokens/s counts wall-clock time and
tokens/CPU-s the user plus system time of the process, which other load on
a shared machine distorts less. The two generate.Run columns and the two
Model.Decode columns come from different runs, so on a loaded machine a
difference between them within one row is mostly noise.

Each decode step sends the rows through the weight matrices in groups of
at most compute.GemvMaxRows (4) rows on the per-row dot-product path. A
row's logits are then the same, bit for bit, at every batch size, and
each group reads each weight matrix once, so batch 8 reads the weights
twice per step where batch 1 reads them once per token. Decode at batch
1 is bound by memory bandwidth: the float32 weights are about 540 MB.
`

// cpuName returns the model name of the first CPU in /proc/cpuinfo, or
// runtime.GOARCH where that file is missing.
func cpuName() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return runtime.GOARCH
}

// loadAverage returns the 1-minute load average, or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data))[0]
}

func parseList(s string) ([]int, error) {
	var list []int
	for _, field := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, fmt.Errorf("%d is less than 1", n)
		}
		list = append(list, n)
	}
	return list, nil
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "decode: "+format+"\n", args...)
	os.Exit(code)
}
