package llama

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ipo/internal/testutil"
)

// batchTolerance bounds the difference between a sequence's logits scored
// alone and inside a batch, relative to the max abs logit of the row.
const batchTolerance = 1e-5

func TestBatchIndependence(t *testing.T) {
	lengths := []int{150, 3, 70, 1, 9, 64, 65, 20}
	for _, name := range goldenNames(t) {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			rng := rand.New(rand.NewPCG(7, uint64(len(name))))
			batch := make([]Request, len(lengths))
			for s, n := range lengths {
				tokens := make([]int, n)
				for i := range tokens {
					tokens[i] = rng.IntN(m.Config.VocabSize)
				}
				batch[s] = Request{Tokens: tokens}
			}

			together, err := m.Logits(batch)
			if err != nil {
				t.Fatalf("Logits(batch): %v", err)
			}
			for s, req := range batch {
				alone, err := m.Logits([]Request{req})
				if err != nil {
					t.Fatalf("Logits(sequence %d): %v", s, err)
				}
				for p := range alone[0] {
					want := make([]float64, len(alone[0][p]))
					for j, v := range alone[0][p] {
						want[j] = float64(v)
					}
					if rel := relativeMaxDiff(together[s][p], want); rel > batchTolerance {
						t.Errorf("sequence %d (length %d) position %d: batched vs alone relative diff %.3g, want <= %g",
							s, lengths[s], p, rel, batchTolerance)
					}
				}
			}
		})
	}
}

func TestLastLogitsBitIdenticalAcrossBatches(t *testing.T) {
	m := loadTestModel(t, "qwen3_qknorm_bf16")
	rng := rand.New(rand.NewPCG(3, 9))
	batch := make([]Request, 8)
	for s := range batch {
		tokens := make([]int, 5+3*s)
		for i := range tokens {
			tokens[i] = rng.IntN(m.Config.VocabSize)
		}
		batch[s] = Request{Tokens: tokens, LastOnly: true}
	}

	together, err := m.Logits(batch)
	if err != nil {
		t.Fatal(err)
	}
	// Batches of 1 to 8 rows cover both sizes a backend may treat apart.
	for size := 1; size <= len(batch); size++ {
		part, err := m.Logits(batch[:size])
		if err != nil {
			t.Fatal(err)
		}
		for s := range part {
			for j, v := range part[s][0] {
				if v != together[s][0][j] {
					t.Fatalf("batch of %d, sequence %d, logit %d: %v, in the batch of 8 %v", size, s, j, v, together[s][0][j])
				}
			}
		}
	}
}

func TestLogitsPositions(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	tokens := []int{1, 17, 5, 42, 8, 63}
	all, err := m.Logits([]Request{{Tokens: tokens}})
	if err != nil {
		t.Fatal(err)
	}
	picked, err := m.Logits([]Request{
		{Tokens: tokens, Positions: []int{4, 0}},
		{Tokens: tokens, LastOnly: true},
	})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name      string
		got, want []float32
	}{
		{"position 4", picked[0][0], all[0][4]},
		{"position 0", picked[0][1], all[0][0]},
		{"last only", picked[1][0], all[0][5]},
	}
	for _, c := range cases {
		for j := range c.want {
			if math.Abs(float64(c.got[j]-c.want[j])) > batchTolerance*max(1, math.Abs(float64(c.want[j]))) {
				t.Errorf("%s: logit %d = %g, want %g", c.name, j, c.got[j], c.want[j])
				break
			}
		}
	}
}

func TestBadInputErrors(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	long := make([]int, m.Config.MaxPositions+1)
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"empty sequence", func() error {
			_, err := m.Logits([]Request{{Tokens: []int{1}}, {Tokens: nil}})
			return err
		}, "sequence 1 is empty"},
		{"token id too large", func() error {
			_, err := m.Logits([]Request{{Tokens: []int{1, 64}}})
			return err
		}, "token id 64 out of range [0, 64)"},
		{"negative token id", func() error {
			_, err := m.LogProbs([][]int{{-3, 1}}, nil)
			return err
		}, "position 0: token id -3 out of range"},
		{"too long", func() error {
			_, err := m.Logits([]Request{{Tokens: long}})
			return err
		}, "has 257 tokens, more than max_position_embeddings 256"},
		{"position out of range", func() error {
			_, err := m.Logits([]Request{{Tokens: []int{1, 2}, Positions: []int{2}}})
			return err
		}, "position 2 out of range [0, 2)"},
		{"start zero", func() error {
			_, err := m.LogProbs([][]int{{1, 2}}, []int{0})
			return err
		}, "start 0 out of range [1, 2]"},
		{"starts count", func() error {
			_, err := m.LogProbs([][]int{{1, 2}}, []int{1, 1})
			return err
		}, "2 starts for 1 sequences"},
		{"greedy too long", func() error {
			_, err := m.Greedy([]int{1}, 256, nil)
			return err
		}, "exceeds max_position_embeddings 256"},
		{"next token empty", func() error {
			_, err := m.NextTokenLogProbs([][]int{{}})
			return err
		}, "sequence 0 is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil {
				t.Fatalf("got no error, want one containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestGreedyMatchesLogits(t *testing.T) {
	m := loadTestModel(t, "qwen2_bias_tied_f16")
	prompt := []int{1, 9, 33}
	got, err := m.Greedy(prompt, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("got %d tokens, want 5", len(got))
	}

	sequence := append([]int(nil), prompt...)
	for i, token := range got {
		logits, err := m.Logits([]Request{{Tokens: sequence, LastOnly: true}})
		if err != nil {
			t.Fatal(err)
		}
		if want := argmax(logits[0][0]); token != want {
			t.Fatalf("step %d: got token %d, want argmax %d", i, token, want)
		}
		sequence = append(sequence, token)
	}

	stop := got[len(got)-1]
	first := slices.Index(got, stop)
	stopped, err := m.Greedy(prompt, 5, []int{stop})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stopped, got[:first+1]) {
		t.Errorf("with stop token %d: got %v, want %v", stop, stopped, got[:first+1])
	}
}

// repoRoot returns the folder that holds go.mod, above the test's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

func TestStories260KGreedy(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "..", "shared", "models", "stories260K")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("stories260K not available: %v", err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer m.Close()

	pieces := vocabPieces(t, filepath.Join(dir, "tokenizer.json"))
	ids, err := m.Greedy([]int{1}, 40, nil)
	if err != nil {
		t.Fatalf("Greedy: %v", err)
	}
	var text strings.Builder
	for _, id := range ids {
		text.WriteString(strings.ReplaceAll(pieces[id], "▁", " "))
	}

	const want = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
	got := strings.TrimPrefix(text.String(), " ")
	if !strings.HasPrefix(got, want) {
		t.Errorf("greedy text from BOS:\ngot  %q\nwant %q...", got, want)
	}
}

// vocabPieces maps token ids to their pieces in a tokenizer.json BPE vocab.
func vocabPieces(t *testing.T, path string) map[int]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	pieces := make(map[int]string, len(tok.Model.Vocab))
	for piece, id := range tok.Model.Vocab {
		pieces[id] = piece
	}
	return pieces
}

func TestClosedModelErrors(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "models", "llama_f32"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = m.Logits([]Request{{Tokens: []int{1}}})
	if err == nil || !strings.Contains(err.Error(), "model is closed") {
		t.Errorf("Logits after Close: got error %v, want one containing %q", err, "model is closed")
	}
}

func TestEmptyBatchReturnsNothing(t *testing.T) {
	m := loadTestModel(t, "llama_f32")
	logits, err := m.Logits(nil)
	if err != nil || len(logits) != 0 {
		t.Errorf("Logits(nil): got %d results and error %v, want none and no error", len(logits), err)
	}
	logProbs, err := m.LogProbs(nil, nil)
	if err != nil || len(logProbs) != 0 {
		t.Errorf("LogProbs(nil): got %d results and error %v, want none and no error", len(logProbs), err)
	}
	whole, err := m.LogProbs([][]int{{1, 2, 3}}, []int{3})
	if err != nil || len(whole) != 1 || len(whole[0]) != 0 {
		t.Errorf("LogProbs from the end: got %v and error %v, want one empty result", whole, err)
	}
}
