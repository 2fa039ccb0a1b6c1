package llama

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tolerances against the plain-torch reference (testdata/reference.py).
// Logits: the max abs difference over a stored position, divided by the max
// abs reference logit at that position. Log-probs: abs difference divided
// by max(1, |reference|).
const (
	goldenLogitTolerance   = 1e-4
	goldenLogProbTolerance = 1e-4
)

type goldenFile struct {
	Config    string `json:"config"`
	DType     string `json:"dtype"`
	Sequences []struct {
		Tokens    []int       `json:"tokens"`
		Positions []int       `json:"positions"`
		Logits    [][]float64 `json:"logits"`
		LogProbs  []float64   `json:"logprobs"`
	} `json:"sequences"`
}

// goldenNames lists the tiny models written by reference.py.
func goldenNames(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 7 {
		t.Fatalf("found %d golden files in testdata/golden, want at least 7: run testdata/reference.py", len(paths))
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	return names
}

func readGolden(t *testing.T, name string) goldenFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("parse golden %s: %v", name, err)
	}
	return g
}

func loadTestModel(t *testing.T, name string) *Model {
	t.Helper()
	m, err := Load(filepath.Join("testdata", "models", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// relativeMaxDiff returns max|got-want| / max|want|.
func relativeMaxDiff(got []float32, want []float64) float64 {
	var diff, scale float64
	for i, w := range want {
		diff = max(diff, math.Abs(float64(got[i])-w))
		scale = max(scale, math.Abs(w))
	}
	return diff / max(scale, 1e-30)
}

func TestGoldenLogits(t *testing.T) {
	for _, name := range goldenNames(t) {
		t.Run(name, func(t *testing.T) {
			g := readGolden(t, name)
			m := loadTestModel(t, name)

			var batch []Request
			for _, seq := range g.Sequences {
				batch = append(batch, Request{Tokens: seq.Tokens, Positions: seq.Positions})
			}
			got, err := m.Logits(batch)
			if err != nil {
				t.Fatalf("Logits: %v", err)
			}

			var worst float64
			for s, seq := range g.Sequences {
				if len(got[s]) != len(seq.Positions) {
					t.Fatalf("sequence %d: got %d logit rows, want %d", s, len(got[s]), len(seq.Positions))
				}
				for i, want := range seq.Logits {
					if len(got[s][i]) != len(want) {
						t.Fatalf("sequence %d position %d: got %d logits, want %d", s, seq.Positions[i], len(got[s][i]), len(want))
					}
					rel := relativeMaxDiff(got[s][i], want)
					worst = max(worst, rel)
					if rel > goldenLogitTolerance {
						t.Errorf("sequence %d position %d: relative max diff %.3g, want <= %g (got[:4] %v, want[:4] %v)",
							s, seq.Positions[i], rel, goldenLogitTolerance, got[s][i][:4], want[:4])
					}
				}
			}
			t.Logf("%s (%s): worst relative max diff %.2g", name, g.DType, worst)
		})
	}
}

func TestGoldenLogProbs(t *testing.T) {
	for _, name := range goldenNames(t) {
		t.Run(name, func(t *testing.T) {
			g := readGolden(t, name)
			m := loadTestModel(t, name)

			var batch [][]int
			for _, seq := range g.Sequences {
				batch = append(batch, seq.Tokens)
			}
			got, err := m.LogProbs(batch, nil)
			if err != nil {
				t.Fatalf("LogProbs: %v", err)
			}

			for s, seq := range g.Sequences {
				if len(got[s]) != len(seq.LogProbs) {
					t.Fatalf("sequence %d: got %d log-probs, want %d", s, len(got[s]), len(seq.LogProbs))
				}
				for i, want := range seq.LogProbs {
					diff := math.Abs(got[s][i]-want) / max(1, math.Abs(want))
					if diff > goldenLogProbTolerance {
						t.Errorf("sequence %d token %d: log-prob %.7f, want %.7f", s, i+1, got[s][i], want)
					}
				}
			}
		})
	}
}

func TestLogProbsFromStart(t *testing.T) {
	const name = "llama_f32"
	g := readGolden(t, name)
	m := loadTestModel(t, name)

	seq := g.Sequences[0]
	const start = 4
	got, err := m.LogProbs([][]int{seq.Tokens}, []int{start})
	if err != nil {
		t.Fatalf("LogProbs: %v", err)
	}
	want := seq.LogProbs[start-1:]
	if len(got[0]) != len(want) {
		t.Fatalf("got %d log-probs, want %d", len(got[0]), len(want))
	}
	for i := range want {
		if math.Abs(got[0][i]-want[i]) > goldenLogProbTolerance*max(1, math.Abs(want[i])) {
			t.Errorf("token %d: log-prob %.7f, want %.7f", start+i, got[0][i], want[i])
		}
	}
}

func TestNextTokenLogProbs(t *testing.T) {
	const name = "qwen3_qknorm_bf16"
	g := readGolden(t, name)
	m := loadTestModel(t, name)

	// The log-softmax at the second-to-last position, read at the last
	// token, is the golden log-prob of that token.
	var batch [][]int
	var want []float64
	for _, seq := range g.Sequences {
		n := len(seq.Tokens)
		batch = append(batch, seq.Tokens[:n-1])
		want = append(want, seq.LogProbs[n-2])
	}
	got, err := m.NextTokenLogProbs(batch)
	if err != nil {
		t.Fatalf("NextTokenLogProbs: %v", err)
	}
	for s, seq := range g.Sequences {
		last := seq.Tokens[len(seq.Tokens)-1]
		if len(got[s]) != m.Config.VocabSize {
			t.Fatalf("sequence %d: got %d values, want vocab size %d", s, len(got[s]), m.Config.VocabSize)
		}
		if diff := math.Abs(float64(got[s][last]) - want[s]); diff > goldenLogProbTolerance*max(1, math.Abs(want[s])) {
			t.Errorf("sequence %d: log p(%d) = %.7f, want %.7f", s, last, got[s][last], want[s])
		}
		var total float64
		for _, v := range got[s] {
			total += math.Exp(float64(v))
		}
		if math.Abs(total-1) > 1e-5 {
			t.Errorf("sequence %d: probabilities sum to %.7f, want 1", s, total)
		}
	}
}
