// Command forward measures the prefill throughput of ipo/internal/llama on
// a random-weight model with SmolLM2-135M's shapes (hidden 576, 30 layers,
// 9 heads, 3 KV heads, MLP 1536, vocab 49152, tied embeddings) and writes
// the results as a Markdown table.
//
// Usage:
//
//	go run ./bench/forward [-runs 5] [-batch 8] [-length 512] [-threads 1,2] [-out docs/bench/forward.md]
//
// Each cell is the median tokens/s of -runs timed forward passes after one
// warm-up. The weights are made in memory, so no model folder is needed.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"ipo/bench/internal/benchkit"
	"ipo/internal/compute"
	"ipo/internal/llama"
)

// mode is one measured way of running the prefill.
type mode struct {
	name  string // the -modes value
	label string
	run   func(m *llama.Model, batch [][]int) error
}

var modes = []mode{
	{"last", "logits at the last position", func(m *llama.Model, batch [][]int) error {
		_, err := m.NextTokenLogProbs(batch)
		return err
	}},
	{"logprobs", "log-probs of every token", func(m *llama.Model, batch [][]int) error {
		_, err := m.LogProbs(batch, nil)
		return err
	}},
}

func main() {
	runs := flag.Int("runs", 5, "timed runs per cell; the table shows their median")
	batchSize := flag.Int("batch", 8, "sequences per forward pass")
	length := flag.Int("length", 512, "tokens per sequence")
	layers := flag.Int("layers", 30, "decoder layers (30 in SmolLM2-135M); fewer for a quick run")
	threadList := flag.String("threads", "1,2", "comma-separated worker counts to measure")
	out := flag.String("out", "docs/bench/forward.md", "Markdown file to write; empty prints the table only")
	modeList := flag.String("modes", "last,logprobs", "comma-separated modes to measure: last (logits at the last position), logprobs (log-probs of every token)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed runs to this file")
	flag.Parse()

	threads, err := parseThreads(*threadList)
	if err != nil {
		fmt.Fprintf(os.Stderr, "forward: invalid -threads %q: %v; use a list such as 1,2\n", *threadList, err)
		os.Exit(2)
	}
	if *runs < 1 || *batchSize < 1 || *length < 1 || *layers < 1 {
		fmt.Fprintln(os.Stderr, "forward: -runs, -batch, -length and -layers must be 1 or more")
		os.Exit(2)
	}

	cfg := benchkit.SmolLM2Config(*layers)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	model, err := llama.New(cfg, benchkit.Weights{RNG: rng}, compute.Default())
	if err != nil {
		fmt.Fprintf(os.Stderr, "forward: build model: %v\n", err)
		os.Exit(1)
	}
	slog.Info("random model ready", "layers", cfg.NumLayers, "backend", compute.Default().Name(), "seconds", time.Since(start).Seconds())

	batch := make([][]int, *batchSize)
	for s := range batch {
		batch[s] = make([]int, *length)
		for i := range batch[s] {
			batch[s][i] = rng.IntN(cfg.VocabSize)
		}
	}
	tokens := float64(*batchSize * *length)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "forward: -cpuprofile: %v\n", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "forward: -cpuprofile: %v\n", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	var rows [][]string
	for _, md := range modes {
		if !slices.Contains(strings.Split(*modeList, ","), md.name) {
			continue
		}
		row := []string{md.label}
		for _, n := range threads {
			compute.SetThreads(n)
			rate, cpuRate, err := measure(func() error { return md.run(model, batch) }, *runs, tokens)
			if err != nil {
				fmt.Fprintf(os.Stderr, "forward: %s: %v\n", md.label, err)
				os.Exit(1)
			}
			slog.Info("measured", "mode", md.label, "threads", n, "tokens_per_s", rate, "tokens_per_cpu_s", cpuRate)
			row = append(row, fmt.Sprintf("%.0f", rate), fmt.Sprintf("%.0f", cpuRate))
		}
		rows = append(rows, row)
	}

	table := markdownTable(threads, rows)
	fmt.Print(table)
	if *out == "" {
		return
	}
	page := fmt.Sprintf(pageTemplate, time.Now().UTC().Format("2006-01-02"), runtime.GOARCH, runtime.NumCPU(),
		compute.Default().Name(), strings.TrimSpace("go run ./bench/forward "+strings.Join(os.Args[1:], " ")), *batchSize, *length, cfg.NumLayers, *runs, table)
	page += keptSection(*out)
	if err := os.WriteFile(*out, []byte(page), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "forward: write results: %v\n", err)
		os.Exit(1)
	}
	slog.Info("wrote results", "path", *out)
}

// measure returns the median tokens per wall-clock second and per CPU
// second (user plus system time of the process) of runs timed calls of fn
// after one warm-up call.
func measure(fn func() error, runs int, tokens float64) (wall, cpu float64, err error) {
	if err := fn(); err != nil {
		return 0, 0, err
	}
	wallRates := make([]float64, runs)
	cpuRates := make([]float64, runs)
	for i := range runs {
		start, startCPU := time.Now(), benchkit.CPUTime()
		if err := fn(); err != nil {
			return 0, 0, err
		}
		wallRates[i] = tokens / time.Since(start).Seconds()
		if used := benchkit.CPUTime() - startCPU; used > 0 {
			cpuRates[i] = tokens / used.Seconds()
		}
	}
	slices.Sort(wallRates)
	slices.Sort(cpuRates)
	return wallRates[runs/2], cpuRates[runs/2], nil
}

// keptHeading starts the hand-written part of the results page, which a
// new run keeps.
const keptHeading = "\n## Comparison"

// keptSection returns the part of the existing page at path from
// keptHeading on, or "" when there is none.
func keptSection(path string) string {
	old, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	i := strings.Index(string(old), keptHeading)
	if i < 0 {
		return ""
	}
	return string(old[i:])
}

func parseThreads(list string) ([]int, error) {
	var threads []int
	for _, field := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", field)
		}
		threads = append(threads, n)
	}
	return threads, nil
}

func markdownTable(threads []int, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| prefill |")
	for _, n := range threads {
		fmt.Fprintf(&b, " %d thread(s): tokens/s | tokens/CPU-s |", n)
	}
	b.WriteString("\n| --- |")
	for range threads {
		b.WriteString(" ---: | ---: |")
	}
	b.WriteString("\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

const pageTemplate = `# Prefill throughput of the Llama forward pass

Measured %s on %s with %d CPUs, compute backend %q, by

    %s

A random-weight model with SmolLM2-135M's shapes (hidden 576, 9 heads,
3 KV heads, head_dim 64, MLP 1536, vocab 49152, tied embeddings) in
float32 runs a batch of %d sequences of %d tokens through %d layers. Each
cell is the median of %d timed runs after one warm-up: tokens per
wall-clock second, and tokens per CPU second of the process (user plus
system time), which other load on a shared machine distorts less.
"Logits at the last position" sends only the last row of each sequence
through the output head (the scoring case). "Log-probs of every token"
sends all rows, one vocabulary slice at a time (the DPO and perplexity
case).

%s`
