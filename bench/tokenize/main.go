// Command tokenize measures how fast ipo's tokenizer encodes the parity
// corpus (every prompt and response of the shared benchmark data plus the
// edge cases) and compares it with Hugging Face's JavaScript tokenizer,
// @huggingface/tokenizers, run by tools/parity/bench-tokenize.mjs on the
// same texts.
//
// Run it from the repository root:
//
//	go run ./bench/tokenize -runs 5
//
// Both sides encode every text once per run with special tokens, on one
// thread. A first run warms the word caches (and node's JIT) and is
// reported on its own. The tables give the median of the later runs in
// wall-clock time and in process CPU time (user plus system, all threads,
// so garbage collection counts). On a busy machine the CPU-time ratio is
// the steadier of the two. Texts that are not valid UTF-8 are left out,
// since the two sides would not encode the same string. The output is a
// Markdown table for docs/bench/tokenize.md.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"ipo/bench/tokenize/corpus"
	"ipo/internal/tokenizer"
)

// tokenizers are the shared tokenizer folders, relative to the repository
// root.
var tokenizers = []struct {
	name string
	dir  string
}{
	{"qwen3", "../shared/tokenizers/qwen3"},
	{"llama2", "../shared/tokenizers/llama2"},
	{"smollm", "../shared/tokenizers/smollm"},
	{"stories260K", "../shared/models/stories260K"},
}

// nodeResult is the JSON object bench-tokenize.mjs prints.
type nodeResult struct {
	Node      string    `json:"node"`
	Texts     int       `json:"texts"`
	Bytes     int       `json:"bytes"`
	Tokens    int       `json:"tokens"`
	LoadS     float64   `json:"load_s"`
	FirstS    float64   `json:"first_s"`
	RunsS     []float64 `json:"runs_s"`
	MedianS   float64   `json:"median_s"`
	CPUS      []float64 `json:"cpu_s"`
	MedianCPU float64   `json:"median_cpu_s"`
	TextsPerS float64   `json:"texts_per_s"`
	MBPerS    float64   `json:"mb_per_s"`
}

// goResult is the same measurement for ipo's tokenizer.
type goResult struct {
	tokens  int
	load    time.Duration
	first   time.Duration
	runs    []time.Duration
	median  time.Duration
	cpu     []time.Duration
	medCPU  time.Duration
	textsPS float64
	mbPS    float64
}

func main() {
	runs := flag.Int("runs", 5, "timed runs per tokenizer; the median is reported")
	only := flag.String("tokenizers", "", "comma-separated tokenizer names to run (default: qwen3,llama2,smollm,stories260K)")
	withNode := flag.Bool("node", true, "also time @huggingface/tokenizers with node (needs `npm ci` in tools/parity)")
	nodeBin := flag.String("node-bin", "node", "node executable")
	flag.Parse()

	if err := run(*runs, *only, *withNode, *nodeBin); err != nil {
		fmt.Fprintln(os.Stderr, "tokenize:", err)
		os.Exit(1)
	}
}

func run(runs int, only string, withNode bool, nodeBin string) error {
	if runs < 1 {
		return fmt.Errorf("invalid -runs %d: expected at least 1", runs)
	}
	root, err := corpus.FindRoot(".")
	if err != nil {
		return err
	}

	entries, err := benchCorpus(root)
	if err != nil {
		return err
	}
	size := corpus.Bytes(entries)
	corpusFile, err := writeTemp(entries)
	if err != nil {
		return err
	}
	defer os.Remove(corpusFile)

	fmt.Printf("corpus: %d texts, %.2f MB; %d runs, median; %s, GOMAXPROCS %d, %d CPUs\n",
		len(entries), float64(size)/1e6, runs, runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("date: %s; load average before the run: %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), loadAverage())
	fmt.Println("| tokenizer | tokens | ipo s (CPU s) | ipo texts/s | ipo MB/s | HF JS s (CPU s) | HF JS texts/s | HF JS MB/s | ipo / HF JS, wall | ipo / HF JS, CPU | load s, ipo / HF JS | first run s, ipo / HF JS |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

	for _, tc := range tokenizers {
		if only != "" && !slices.Contains(strings.Split(only, ","), tc.name) {
			continue
		}
		dir := filepath.Join(root, tc.dir)
		g, err := timeGo(dir, entries, size, runs)
		if err != nil {
			return err
		}
		if !withNode {
			fmt.Printf("| %s | %d | %.2f (%.2f) | %.0f | %.2f | - | - | - | - | - | %.2f / - | %.2f / - |\n",
				tc.name, g.tokens, g.median.Seconds(), g.medCPU.Seconds(), g.textsPS, g.mbPS, g.load.Seconds(), g.first.Seconds())
			continue
		}

		n, err := timeNode(nodeBin, root, dir, corpusFile, runs)
		if err != nil {
			return err
		}
		if n.Texts != len(entries) || n.Bytes != size {
			return fmt.Errorf("%s: node read %d texts of %d bytes, expected %d texts of %d bytes", tc.name, n.Texts, n.Bytes, len(entries), size)
		}
		tokens := fmt.Sprint(g.tokens)
		if n.Tokens != g.tokens {
			tokens = fmt.Sprintf("%d (HF JS %d)", g.tokens, n.Tokens)
		}
		fmt.Printf("| %s | %s | %.2f (%.2f) | %.0f | %.2f | %.2f (%.2f) | %.0f | %.2f | %.1fx | %.1fx | %.2f / %.2f | %.2f / %.2f |\n",
			tc.name, tokens, g.median.Seconds(), g.medCPU.Seconds(), g.textsPS, g.mbPS,
			n.MedianS, n.MedianCPU, n.TextsPerS, n.MBPerS,
			n.MedianS/g.median.Seconds(), n.MedianCPU/g.medCPU.Seconds(),
			g.load.Seconds(), n.LoadS, g.first.Seconds(), n.FirstS)
	}
	return nil
}

// loadAverage returns the 1, 5 and 15 minute load averages from
// /proc/loadavg, or "unknown" where that file does not exist.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], ", ")
}

// benchCorpus returns the parity corpus without the texts that are not
// valid UTF-8.
func benchCorpus(root string) ([]corpus.Entry, error) {
	shared, err := corpus.Shared(filepath.Join(root, "../shared/data"))
	if err != nil {
		return nil, err
	}
	edge, err := corpus.ReadJSONL(filepath.Join(root, "internal/tokenizer/testdata/parity/edge.jsonl"))
	if err != nil {
		return nil, err
	}

	var entries []corpus.Entry
	for _, e := range corpus.Dedup(append(shared, edge...)) {
		if e.Valid() {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

func writeTemp(entries []corpus.Entry) (string, error) {
	f, err := os.CreateTemp("", "ipo-tokenize-corpus-*.jsonl")
	if err != nil {
		return "", fmt.Errorf("write corpus: %w", err)
	}
	if err := corpus.WriteJSONL(f, entries); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write corpus: %w", err)
	}
	return f.Name(), nil
}

// timeGo loads the tokenizer in dir and times encoding every entry.
func timeGo(dir string, entries []corpus.Entry, size, runs int) (goResult, error) {
	start := time.Now()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return goResult{}, err
	}
	r := goResult{load: time.Since(start)}

	start = time.Now()
	r.tokens = encodeAll(tok, entries)
	r.first = time.Since(start)
	for range runs {
		start, startCPU := time.Now(), cpuTime()
		encodeAll(tok, entries)
		r.runs = append(r.runs, time.Since(start))
		r.cpu = append(r.cpu, cpuTime()-startCPU)
	}

	r.median = median(r.runs)
	r.medCPU = median(r.cpu)
	r.textsPS = float64(len(entries)) / r.median.Seconds()
	r.mbPS = float64(size) / 1e6 / r.median.Seconds()
	return r, nil
}

func encodeAll(tok *tokenizer.Tokenizer, entries []corpus.Entry) int {
	tokens := 0
	for _, e := range entries {
		tokens += len(tok.Encode(e.Text, true))
	}
	return tokens
}

func median(runs []time.Duration) time.Duration {
	sorted := slices.Clone(runs)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// timeNode runs bench-tokenize.mjs on the corpus file.
func timeNode(nodeBin, root, dir, corpusFile string, runs int) (nodeResult, error) {
	cmd := exec.Command(nodeBin, "bench-tokenize.mjs", "--tokenizer", dir, "--in", corpusFile, "--runs", fmt.Sprint(runs))
	cmd.Dir = filepath.Join(root, "tools/parity")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nodeResult{}, fmt.Errorf("%s not found: install Node.js or pass -node=false", nodeBin)
		}
		return nodeResult{}, fmt.Errorf("node bench-tokenize.mjs --tokenizer %s: %v\n%s", dir, err, stderr.String())
	}

	var r nodeResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nodeResult{}, fmt.Errorf("read bench-tokenize.mjs output %q: %w", stdout.String(), err)
	}
	return r, nil
}
