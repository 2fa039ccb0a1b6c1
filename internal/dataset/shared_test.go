package dataset

import (
	"path/filepath"
	"testing"

	"ipo/internal/testutil"
)

// sharedPath returns ../shared/<rel> resolved from the folder that holds
// go.mod, and skips the test when that data is not present.
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	return testutil.Shared(t, rel)
}

func TestReadSharedRewardBench(t *testing.T) {
	rows, err := Read(sharedPath(t, "data/rewardbench"))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(rows) != 721 {
		t.Errorf("rows = %d, want 721", len(rows))
	}
	for _, field := range []string{"prompt", "chosen", "rejected", "subset"} {
		if _, err := rows[720].String(field); err != nil {
			t.Errorf("last row: %v", err)
		}
	}
}

func TestReadSharedRMBench(t *testing.T) {
	tests := []struct {
		file string
		rows int
	}{
		{"chat_filtered.json", 129},
		{"code_filtered.json", 228},
		{"safety-refuse_filtered.json", 284},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rows, err := ReadFile(sharedPath(t, filepath.Join("data/rm-bench", tt.file)))
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if len(rows) != tt.rows {
				t.Errorf("rows = %d, want %d", len(rows), tt.rows)
			}
			chosen, err := rows[0].Strings("chosen")
			if err != nil {
				t.Fatal(err)
			}
			if len(chosen) != 3 {
				t.Errorf("chosen styles = %d, want 3", len(chosen))
			}
		})
	}
}
