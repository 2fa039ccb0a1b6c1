package train

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDataPlanSteps(t *testing.T) {
	tests := []struct {
		plan          DataPlan
		epochs        float64
		maxSteps      int
		perEpoch, all int
	}{
		{DataPlan{Examples: 10, BatchSize: 3, GradientAccumulation: 2}, 3, -1, 2, 6},
		{DataPlan{Examples: 16, BatchSize: 8, GradientAccumulation: 1}, 1.5, -1, 2, 3},
		{DataPlan{Examples: 100, BatchSize: 8, GradientAccumulation: 4}, 3, -1, 4, 12},
		{DataPlan{Examples: 100, BatchSize: 8, GradientAccumulation: 4}, 3, 7, 4, 7},
	}
	for _, tt := range tests {
		if got := tt.plan.StepsPerEpoch(); got != tt.perEpoch {
			t.Errorf("%+v: steps per epoch: want %d, got %d", tt.plan, tt.perEpoch, got)
		}
		if got := tt.plan.TotalSteps(tt.epochs, tt.maxSteps); got != tt.all {
			t.Errorf("%+v: total steps for %v epochs, max_steps %d: want %d, got %d", tt.plan, tt.epochs, tt.maxSteps, tt.all, got)
		}
	}
}

func TestDataPlanCoversEachEpoch(t *testing.T) {
	plan := DataPlan{Examples: 10, BatchSize: 3, GradientAccumulation: 2, Seed: 7}
	epoch, pos := 0, 0
	var sizes [][]int
	seen := map[int]int{}
	for step := 0; step < 4; step++ {
		batches, nextEpoch, nextPos, err := plan.Next(epoch, pos)
		if err != nil {
			t.Fatal(err)
		}
		var s []int
		for _, b := range batches {
			s = append(s, len(b))
			for _, id := range b {
				seen[id]++
			}
		}
		sizes = append(sizes, s)
		epoch, pos = nextEpoch, nextPos
	}

	// Per epoch: 3+3, then 3+1 (the last micro-batch is short).
	if diff := cmp.Diff([][]int{{3, 3}, {3, 1}, {3, 3}, {3, 1}}, sizes); diff != "" {
		t.Errorf("micro-batch sizes (-want +got):\n%s", diff)
	}
	for id := range 10 {
		if seen[id] != 2 {
			t.Errorf("example %d: want 2 uses in 2 epochs, got %d", id, seen[id])
		}
	}
	if epoch != 2 || pos != 0 {
		t.Errorf("after 4 steps: want epoch 2 position 0, got epoch %d position %d", epoch, pos)
	}

	if slices.Equal(plan.Order(0), plan.Order(1)) {
		t.Error("epoch orders: want different permutations, got equal")
	}
	if !slices.Equal(plan.Order(1), plan.Order(1)) {
		t.Error("epoch order: want the same permutation on every call")
	}
	if _, _, _, err := plan.Next(0, 10); err == nil || !strings.Contains(err.Error(), "does not match the data") {
		t.Errorf("position past the data: want an error, got %v", err)
	}
}

func TestSplitEval(t *testing.T) {
	trainIdx, evalIdx, err := SplitEval(20, 0.1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(evalIdx) != 2 || len(trainIdx) != 18 {
		t.Errorf("sizes: want 18 train and 2 eval, got %d and %d", len(trainIdx), len(evalIdx))
	}
	all := append(append([]int(nil), trainIdx...), evalIdx...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("union of splits: want 0..19, got %v", all)
		}
	}
	again, _, _ := SplitEval(20, 0.1, 3)
	if !slices.Equal(trainIdx, again) {
		t.Error("same seed: want the same split, got another")
	}
	if _, evalNone, _ := SplitEval(20, 0, 3); len(evalNone) != 0 {
		t.Errorf("ratio 0: want no eval examples, got %d", len(evalNone))
	}
	if _, _, err := SplitEval(1, 0.5, 3); err == nil {
		t.Error("one example with eval_split 0.5: want an error, got nil")
	}
}

func TestRefCacheRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), RefCacheFile)
	c, err := LoadRefCache(path, "model-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Logps) != 0 {
		t.Errorf("new cache: want empty, got %d entries", len(c.Logps))
	}
	c.Logps["ex-1"] = RefLogps{Chosen: -12.345678901234567, Rejected: math.Nextafter(-20, 0)}
	c.Logps["ex-2"] = RefLogps{Chosen: -1e-300, Rejected: -7}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}

	got, err := LoadRefCache(path, "model-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("cache (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ex-3"}, got.Missing([]string{"ex-1", "ex-3", "ex-2"})); diff != "" {
		t.Errorf("missing ids (-want +got):\n%s", diff)
	}

	other, err := LoadRefCache(path, "model-b")
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Logps) != 0 || other.Key != "model-b" {
		t.Errorf("other key: want an empty cache for model-b, got %+v", other)
	}

	c.Logps["bad"] = RefLogps{Chosen: math.NaN()}
	if err := c.Save(path); err == nil || !strings.Contains(err.Error(), `example "bad"`) {
		t.Errorf("NaN log-prob: want an error naming the example, got %v", err)
	}
}
