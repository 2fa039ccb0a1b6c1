package pipeline

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitPoolsDisjoint(t *testing.T) {
	pools, err := SplitPools(50, 4, 10, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 4 {
		t.Fatalf("%d pools, want 4", len(pools))
	}
	seen := map[int]int{}
	for k, pool := range pools {
		if len(pool) != 10 {
			t.Errorf("pool %d has %d rows, want 10", k, len(pool))
		}
		if !slices.IsSorted(pool) {
			t.Errorf("pool %d = %v, want it sorted", k, pool)
		}
		for _, i := range pool {
			if i < 0 || i >= 50 {
				t.Errorf("pool %d holds row %d, outside 0..49", k, i)
			}
			if first, ok := seen[i]; ok {
				t.Errorf("row %d is in pools %d and %d, want disjoint pools", i, first, k)
			}
			seen[i] = k
		}
	}
}

func TestSplitPoolsSeeded(t *testing.T) {
	a, _ := SplitPools(100, 3, 8, 1)
	b, _ := SplitPools(100, 3, 8, 1)
	c, _ := SplitPools(100, 3, 8, 2)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Errorf("seed 1 gave %v, then %v; want the same pools", a, b)
	}
	if slices.EqualFunc(a, c, slices.Equal) {
		t.Errorf("seeds 1 and 2 both gave %v; want different pools", a)
	}
	// A pool does not take the first rows of the file: the split shuffles.
	if slices.Equal(a[0], []int{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("pool 0 = %v, the first rows in order; want a shuffled choice", a[0])
	}
}

func TestSplitPoolsKeepEarlierPools(t *testing.T) {
	two, _ := SplitPools(40, 2, 5, 3)
	four, _ := SplitPools(40, 4, 5, 3)
	for k := range two {
		if !slices.Equal(two[k], four[k]) {
			t.Errorf("pool %d is %v with 2 iterations but %v with 4; want more iterations to keep the earlier pools", k, two[k], four[k])
		}
	}
}

func TestSplitPoolsTooFewPrompts(t *testing.T) {
	tests := []struct {
		n, iterations, size int
		want                string
	}{
		{10, 3, 4, "need 12 prompts"},
		{10, 0, 4, "at least 1"},
		{10, 2, 0, "at least 1"},
	}
	for _, tt := range tests {
		_, err := SplitPools(tt.n, tt.iterations, tt.size, 1)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SplitPools(%d, %d, %d) error %v, want one containing %q", tt.n, tt.iterations, tt.size, err, tt.want)
		}
	}
}
