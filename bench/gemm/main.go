// Command gemm measures the matrix-product backends of ipo/internal/compute
// and writes the results as a Markdown table.
//
// Usage:
//
//	go run ./bench/gemm [-runs 7] [-threads 1,2] [-portable] [-out docs/bench/gemm.md]
//
// Every product is C = A·Bᵀ with B stored n×k, the layout of a Linear
// weight. Each cell is the median of -runs timed runs after one warm-up.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ipo/internal/compute"
)

// shape is one benchmarked product: op(A) is m×k, op(B) is k×n.
type shape struct {
	label   string
	m, n, k int
}

var shapes = []shape{
	{"square", 512, 2048, 2048},
	{"MLP gate/up, 512 tokens", 512, 1536, 576},
	{"MLP down, 512 tokens", 512, 576, 1536},
	{"attention q/o, 512 tokens", 512, 576, 576},
	{"LM head, decode batch 1", 1, 49152, 576},
	{"LM head, decode batch 4", 4, 49152, 576},
	{"LM head, decode batch 5", 5, 49152, 576},
	{"LM head, decode batch 8", 8, 49152, 576},
	{"MLP gate/up, decode batch 1", 1, 1536, 576},
}

func main() {
	runs := flag.Int("runs", 7, "timed runs per cell; the table shows their median")
	threadList := flag.String("threads", "1,2", "comma-separated worker counts to measure")
	out := flag.String("out", "docs/bench/gemm.md", "Markdown file to write; empty prints the table only")
	withPortable := flag.Bool("portable", false, "also measure the Portable reference backend, which takes minutes")
	flag.Parse()

	threads, err := parseThreads(*threadList)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gemm: invalid -threads %q: %v; use a list such as 1,2\n", *threadList, err)
		os.Exit(2)
	}
	if *runs < 1 {
		fmt.Fprintf(os.Stderr, "gemm: invalid -runs %d; use 1 or more\n", *runs)
		os.Exit(2)
	}

	var backends []compute.Backend
	for _, b := range compute.Backends() {
		if !*withPortable && b.Name() == "portable" {
			continue
		}
		backends = append(backends, b)
	}

	start := time.Now()
	load := loadAverage()
	table := measure(backends, threads, *runs)
	page := render(table, threads, *runs, strings.Join(os.Args[1:], " "), load)
	fmt.Print(page)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(page), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "gemm: write %s: %v\n", *out, err)
			os.Exit(1)
		}
	}
	slog.Info("benchmark done", "backends", len(backends), "shapes", len(shapes), "wall", time.Since(start).Round(time.Millisecond))
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

// row is the result for one backend and shape: the median and the best
// GFLOP/s per thread count.
type row struct {
	backend string
	shape   shape
	gflops  []float64
	best    []float64
	cpus    float64 // CPU time per wall time at the largest thread count
}

func measure(backends []compute.Backend, threads []int, runs int) []row {
	rng := rand.New(rand.NewPCG(1, 1))
	var table []row
	for _, s := range shapes {
		a := randomSlice(s.m*s.k, rng)
		b := randomSlice(s.n*s.k, rng)
		c := make([]float32, s.m*s.n)
		for _, backend := range backends {
			r := row{backend: backend.Name(), shape: s}
			product := func() {
				backend.Gemm(false, true, s.m, s.n, s.k, 1, a, s.k, b, s.k, 0, c, s.n)
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
			medians, fastest, cpus := timeRuns(runs, threads, product)
			for i := range threads {
				r.gflops = append(r.gflops, flops/medians[i]/1e9)
				r.best = append(r.best, flops/fastest[i]/1e9)
			}
			r.cpus = cpus[len(cpus)-1]
			slog.Info("measured", "backend", r.backend, "shape", fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), "gflops", r.gflops)
			table = append(table, r)
		}
	}
	return table
}

func randomSlice(n int, rng *rand.Rand) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// timeRuns returns, for each thread count, the median and the shortest
// duration of runs calls of fn after one warm-up call, and the CPU time the
// process used per second of those calls. The thread counts alternate
// within each round, so a change in the load of a shared machine affects
// them alike.
func timeRuns(runs int, threads []int, fn func()) (medians, fastest, cpus []float64) {
	times := make([][]float64, len(threads))
	wall := make([]float64, len(threads))
	cpu := make([]float64, len(threads))
	for round := -1; round < runs; round++ {
		for i, t := range threads {
			prev := compute.SetThreads(t)
			cpuStart := processCPUSeconds()
			start := time.Now()
			fn()
			elapsed := time.Since(start).Seconds()
			cpuUsed := processCPUSeconds() - cpuStart
			compute.SetThreads(prev)
			if round >= 0 {
				times[i] = append(times[i], elapsed)
				wall[i] += elapsed
				cpu[i] += cpuUsed
			}
		}
	}
	for i := range threads {
		cpus = append(cpus, cpu[i]/wall[i])
	}
	for _, ts := range times {
		slices.Sort(ts)
		medians = append(medians, ts[len(ts)/2])
		fastest = append(fastest, ts[0])
	}
	return medians, fastest, cpus
}

// processCPUSeconds returns the user and system CPU time of the process, or
// 0 when getrusage fails.
func processCPUSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

func render(table []row, threads []int, runs int, args, load string) string {
	var sb strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&sb, "# Matrix-product benchmark\n\n")
	fmt.Fprintf(&sb, "C = A·Bᵀ in float32 with B stored n×k (a Linear weight). Each cell is the\n")
	fmt.Fprintf(&sb, "median GFLOP/s of %d runs after one warm-up, with the best run in brackets;\n", runs)
	fmt.Fprintf(&sb, "GFLOP/s = 2·m·n·k / time. Decode shapes (m ≤ %d) take the\n", compute.GemvMaxRows)
	fmt.Fprintf(&sb, "gemv path; for them the GB/s column is the weight matrix B read per second\n")
	fmt.Fprintf(&sb, "at the largest thread count, since decode is bound by memory bandwidth.\n")
	fmt.Fprintf(&sb, "CPUs busy is the CPU time of the process per second of wall time during\n")
	fmt.Fprintf(&sb, "the timed runs at the largest thread count. When it is below that count,\n")
	fmt.Fprintf(&sb, "other processes held the cores, and it shows the share the kernels got.\n\n")
	fmt.Fprintf(&sb, "- Command: `go run ./bench/gemm %s`\n", args)
	fmt.Fprintf(&sb, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&sb, "- Machine: %s, %d logical CPUs, host %s\n", cpuModel(), runtime.NumCPU(), host)
	fmt.Fprintf(&sb, "- Go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&sb, "- Load average before the run (1, 5, 15 minutes): %s\n\n", load)

	fmt.Fprintf(&sb, "| backend | product | m | n | k |")
	for _, t := range threads {
		fmt.Fprintf(&sb, " %d thread%s |", t, plural(t))
	}
	last := threads[len(threads)-1]
	fmt.Fprintf(&sb, " CPUs busy at %d | GB/s of B |\n|---|---|--:|--:|--:|", last)
	for range threads {
		fmt.Fprintf(&sb, "--:|")
	}
	fmt.Fprintf(&sb, "--:|--:|\n")
	for _, r := range table {
		s := r.shape
		fmt.Fprintf(&sb, "| %s | %s | %d | %d | %d |", r.backend, s.label, s.m, s.n, s.k)
		for i, g := range r.gflops {
			fmt.Fprintf(&sb, " %.1f (%.1f) |", g, r.best[i])
		}
		fmt.Fprintf(&sb, " %.2f |", r.cpus)
		if s.m > compute.GemvMaxRows {
			fmt.Fprintf(&sb, " |\n")
			continue
		}
		// Each of the m·n·k multiply-adds is 2 flops, and B holds n·k floats.
		last := r.gflops[len(r.gflops)-1]
		bytesPerSecond := last * 1e9 / (2 * float64(s.m)) * 4
		fmt.Fprintf(&sb, " %.1f |\n", bytesPerSecond/1e9)
	}

	fmt.Fprintf(&sb, "\nBackends: avx512 is the 12×32 AVX-512 micro-kernel, avx2 the 6×16 AVX2+FMA\n")
	fmt.Fprintf(&sb, "micro-kernel, go the 4×4 micro-kernel in plain Go. All three pack with the\n")
	fmt.Fprintf(&sb, "AVX2 transpose and compute the gemv path with Dot when the CPU has AVX2, so\n")
	fmt.Fprintf(&sb, "on such a CPU the go rows measure its micro-kernel only; on the decode\n")
	fmt.Fprintf(&sb, "shapes they match the others.\n")
	return sb.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// loadAverage returns the first three fields of /proc/loadavg, or
// "unknown".
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

// cpuModel returns the model name from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return "unknown CPU"
}
