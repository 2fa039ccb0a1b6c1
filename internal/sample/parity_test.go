package sample

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// warperGolden is testdata/warpers.json, written by testdata/warpers.py
// with torch from the rules of transformers' logits processors.
type warperGolden struct {
	Torch   string      `json:"torch"`
	Vectors [][]float64 `json:"vectors"`
	Cases   []struct {
		Vector            int       `json:"vector"`
		History           []int     `json:"history"`
		Temperature       float64   `json:"temperature"`
		TopK              int       `json:"top_k"`
		TopP              float64   `json:"top_p"`
		MinP              float64   `json:"min_p"`
		RepetitionPenalty float64   `json:"repetition_penalty"`
		Kept              []int     `json:"kept"`
		Probs             []float64 `json:"probs"`
	} `json:"cases"`
}

// TestWarpersMatchTorch compares the kept ids and their probabilities with
// a float32 torch computation of the same rules on random logits. The
// probabilities may differ by float32 rounding in torch's softmax, so the
// tolerance is 1e-6 absolute plus 1e-5 relative.
func TestWarpersMatchTorch(t *testing.T) {
	data, err := os.ReadFile("testdata/warpers.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden warperGolden
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatalf("testdata/warpers.json: %v", err)
	}
	if len(golden.Cases) == 0 {
		t.Fatal("testdata/warpers.json has no cases")
	}

	for i, c := range golden.Cases {
		logits := make([]float32, len(golden.Vectors[c.Vector]))
		for j, v := range golden.Vectors[c.Vector] {
			logits[j] = float32(v)
		}
		cfg := Config{
			DoSample: true, Temperature: c.Temperature, TopK: c.TopK, TopP: c.TopP,
			MinP: c.MinP, RepetitionPenalty: c.RepetitionPenalty,
		}

		s := New(cfg, 0)
		scores := s.process(logits, c.History)
		candidates := s.warp(scores)

		kept := make([]int, len(candidates))
		for j, id := range candidates {
			kept[j] = int(id)
		}
		slices.Sort(kept)
		if !slices.Equal(kept, c.Kept) {
			t.Errorf("case %d %+v: kept %d ids, torch %d\ngot  %v\nwant %v", i, cfg, len(kept), len(c.Kept), head(kept), head(c.Kept))
			continue
		}

		top := maxScore(scores, candidates)
		total := 0.0
		for _, id := range kept {
			total += weight(scores[id], top)
		}
		for j, id := range kept {
			got := weight(scores[id], top) / total
			want := c.Probs[j]
			if math.Abs(got-want) > 1e-6+1e-5*want {
				t.Errorf("case %d %+v: token %d probability %.9g, torch %.9g", i, cfg, id, got, want)
				break
			}
		}
	}
}
