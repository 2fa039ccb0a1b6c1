package trainer

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/testutil"
	"ipo/internal/train"
)

// tinyModel loads the 2-layer random test model of package llama.
func tinyModel(t *testing.T) *llama.Model {
	t.Helper()
	m, err := llama.Load(filepath.Join(testutil.RepoRoot(t), "internal/llama/testdata/models/llama_f32"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// parityPairs returns n pairs over a vocabulary of vocab tokens whose
// chosen completions hold only even token ids and whose rejected ones hold
// only odd ids, after a random prompt that starts with BOS (1).
func parityPairs(n, vocab int, seed uint64) []EncodedPair {
	rng := rand.New(rand.NewPCG(seed, 7))
	draw := func(parity, k int) []int {
		out := make([]int, k)
		for i := range out {
			out[i] = 4 + 2*rng.IntN((vocab-5)/2) + parity
		}
		return out
	}
	pairs := make([]EncodedPair, n)
	for i := range pairs {
		prompt := append([]int{1}, draw(rng.IntN(2), 3+rng.IntN(3))...)
		pairs[i] = EncodedPair{ID: "pair-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Prompt: prompt, Chosen: draw(0, 4), Rejected: draw(1, 4)}
	}
	return pairs
}

func tinyConfig() train.DPOConfig {
	cfg := train.DefaultDPOConfig()
	cfg.LearningRate = 1e-3
	cfg.MaxSteps = 6
	cfg.PerDeviceTrainBatchSize = 2
	cfg.PerDeviceEvalBatchSize = 4
	cfg.GradientAccumulationSteps = 2
	cfg.WarmupSteps = 1
	cfg.LoggingSteps = 1
	cfg.SaveSteps = 2
	cfg.EvalSplit = 0.25
	cfg.LoraDropout = 0.1
	cfg.LoraTargetModules = []string{peft.AllLinear}
	return cfg
}

func runDPO(t *testing.T, m *llama.Model, cfg train.DPOConfig, pairs []EncodedPair, opts Options) (*Result, error) {
	t.Helper()
	d := &DPO{Model: m, Config: cfg, Pairs: pairs, RefKey: "test", Options: opts}
	return d.Run(context.Background())
}

// stepLines returns the metrics log without the timing values, which
// differ between runs.
func stepLines(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if i := strings.Index(line, `"tokens_per_second"`); i >= 0 {
			j := strings.IndexAny(line[i:], ",}")
			line = line[:i] + line[i+j:]
		}
		out = append(out, line)
	}
	return out
}

func TestResumeIsBitExact(t *testing.T) {
	m := tinyModel(t)
	pairs := parityPairs(20, m.Config.VocabSize, 1)
	cfg := tinyConfig()

	whole := t.TempDir()
	want, err := runDPO(t, m, cfg, pairs, Options{OutDir: whole})
	if err != nil {
		t.Fatal(err)
	}
	if want.Steps != cfg.MaxSteps {
		t.Fatalf("uninterrupted run did %d steps, want %d", want.Steps, cfg.MaxSteps)
	}

	for _, stop := range []int{1, 3} {
		split := t.TempDir()
		first, err := runDPO(t, m, cfg, pairs, Options{OutDir: split, StopAfter: stop})
		if err != nil {
			t.Fatal(err)
		}
		if first.Steps != stop {
			t.Fatalf("stopped run did %d steps, want %d", first.Steps, stop)
		}
		if _, err := runDPO(t, m, cfg, pairs, Options{OutDir: split}); err == nil || !strings.Contains(err.Error(), "--resume") {
			t.Errorf("rerun without resume: error %v, want one that names --resume", err)
		}
		got, err := runDPO(t, m, cfg, pairs, Options{OutDir: split, Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.Steps != cfg.MaxSteps {
			t.Errorf("resumed run ended at step %d, want %d", got.Steps, cfg.MaxSteps)
		}
		for _, k := range want.Adapter.Keys() {
			w, g := want.Adapter.Layers[k], got.Adapter.Layers[k]
			for i := range w.A {
				if w.A[i] != g.A[i] {
					t.Fatalf("stop at %d: %s A[%d] = %v after resuming, want %v", stop, k, i, g.A[i], w.A[i])
				}
			}
			for i := range w.B {
				if w.B[i] != g.B[i] {
					t.Fatalf("stop at %d: %s B[%d] = %v after resuming, want %v", stop, k, i, g.B[i], w.B[i])
				}
			}
		}
		wl, gl := stepLines(t, whole), stepLines(t, split)
		if strings.Join(wl, "\n") != strings.Join(gl, "\n") {
			t.Errorf("stop at %d: metrics log after resuming\n%s\nwant\n%s", stop, strings.Join(gl, "\n"), strings.Join(wl, "\n"))
		}
		wck, _, err := train.LatestCheckpoint(whole, m.AdapterDims())
		if err != nil {
			t.Fatal(err)
		}
		gck, _, err := train.LatestCheckpoint(split, m.AdapterDims())
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range wck.Optimizer.ExpAvgSq {
			g := gck.Optimizer.ExpAvgSq[name]
			for i := range w {
				if w[i] != g[i] {
					t.Fatalf("stop at %d: exp_avg_sq of %s[%d] = %v, want %v", stop, name, i, g[i], w[i])
				}
			}
		}
	}
}

func TestResumeRejectsChangedConfig(t *testing.T) {
	m := tinyModel(t)
	pairs := parityPairs(12, m.Config.VocabSize, 2)
	cfg := tinyConfig()
	dir := t.TempDir()
	if _, err := runDPO(t, m, cfg, pairs, Options{OutDir: dir, StopAfter: 2}); err != nil {
		t.Fatal(err)
	}
	cfg.Beta = 0.5
	_, err := runDPO(t, m, cfg, pairs, Options{OutDir: dir, Resume: true})
	if err == nil || !strings.Contains(err.Error(), "beta") {
		t.Errorf("resume with another beta: error %v, want one naming beta", err)
	}
}

func TestNonFiniteLossStops(t *testing.T) {
	m := tinyModel(t)
	pairs := parityPairs(12, m.Config.VocabSize, 3)
	cfg := tinyConfig()
	cfg.LearningRate = 1e36
	cfg.WarmupSteps = 0
	cfg.MaxGradNorm = 0
	cfg.SaveSteps = 1
	cfg.EvalSplit = 0
	dir := t.TempDir()
	res, err := runDPO(t, m, cfg, pairs, Options{OutDir: dir})
	var nf *train.NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v, want a *train.NonFiniteError", err)
	}
	if len(nf.BatchIDs) == 0 && nf.What == train.MetricLoss {
		t.Errorf("non-finite loss error names no examples: %v", nf)
	}
	if nf.Step != res.Steps+1 {
		t.Errorf("non-finite value at step %d, want the step after the last good one, %d", nf.Step, res.Steps+1)
	}
	ck, _, err := train.LatestCheckpoint(dir, m.AdapterDims())
	if err != nil {
		t.Fatalf("no checkpoint kept: %v", err)
	}
	if ck.State.Step != res.Steps {
		t.Errorf("latest checkpoint is step %d, want the last good step %d", ck.State.Step, res.Steps)
	}
}

// cancelWriter cancels a context when a log line contains marker.
type cancelWriter struct {
	marker string
	cancel context.CancelFunc
}

func (w cancelWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.marker) {
		w.cancel()
	}
	return len(p), nil
}

func TestInterruptSavesCheckpoint(t *testing.T) {
	m := tinyModel(t)
	pairs := parityPairs(16, m.Config.VocabSize, 4)
	cfg := tinyConfig()
	cfg.SaveSteps = 100
	dir := t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := &DPO{Model: m, Config: cfg, Pairs: pairs, RefKey: "test", Options: Options{OutDir: dir, Console: cancelWriter{"step 3/", cancel}}}
	res, err := d.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if res.Steps != 3 {
		t.Errorf("interrupted after %d steps, want 3", res.Steps)
	}
	ck, _, err := train.LatestCheckpoint(dir, m.AdapterDims())
	if err != nil {
		t.Fatalf("no checkpoint after the interruption: %v", err)
	}
	if ck.State.Step != 3 {
		t.Errorf("checkpoint of step %d, want 3", ck.State.Step)
	}
}
