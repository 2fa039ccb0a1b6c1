package compute

import "testing"

func TestParallelCoversRange(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17, 1000} {
		for _, threads := range []int{1, 2, 5} {
			prev := SetThreads(threads)
			counts := make([]int, n)
			Parallel(n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					counts[i]++
				}
			})
			SetThreads(prev)
			for i, c := range counts {
				if c != 1 {
					t.Fatalf("Parallel n=%d threads=%d: index %d visited %d times, want 1", n, threads, i, c)
				}
			}
		}
	}
}

func TestThreadsFollowsSetThreads(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	if got := Threads(); got != 3 {
		t.Errorf("Threads after SetThreads(3): want 3, got %d", got)
	}
	SetThreads(0)
	if got := Threads(); got < 1 {
		t.Errorf("Threads after SetThreads(0): want at least 1, got %d", got)
	}
}

func TestParseThreadsValues(t *testing.T) {
	tests := []struct {
		value  string
		want   int
		wantOK bool
	}{
		{"", 0, true},
		{"1", 1, true},
		{"16", 16, true},
		{"0", 0, false},
		{"-2", 0, false},
		{"two", 0, false},
		{"2.5", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseThreads(tc.value)
		if got != tc.want {
			t.Errorf("parseThreads(%q): want %d, got %d", tc.value, tc.want, got)
		}
		if ok != tc.wantOK {
			t.Errorf("parseThreads(%q) ok: want %v, got %v", tc.value, tc.wantOK, ok)
		}
	}
}
