package resume

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as a writer process that a test kills.
func TestMain(m *testing.M) {
	if path := os.Getenv("RESUME_TEST_WRITER"); path != "" {
		runWriter(path)
		return
	}
	os.Exit(m.Run())
}

// runWriter appends records with long text until it is killed.
func runWriter(path string) {
	w, err := Open(path, Options{Key: FieldKey("id"), FlushRows: 1})
	if err != nil {
		os.Exit(3)
	}
	text := strings.Repeat("x", 4096)
	for id := w.Existing() + 1; ; id++ {
		if err := w.Write(map[string]any{"id": id, "text": text}); err != nil {
			os.Exit(4)
		}
	}
}

func TestKilledWriterLeavesResumableFile(t *testing.T) {
	path := outPath(t)
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "RESUME_TEST_WRITER="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()

		w, err := Open(path, Options{Key: FieldKey("id")})
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		n := w.Existing()
		for id := 1; id <= n; id++ {
			if !w.Done()[strconv.Itoa(id)] {
				t.Fatalf("round %d: id %d missing among %d records", round, id, n)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if lines := readLines(t, path); len(lines) != n {
			t.Errorf("round %d: %d lines, want %d", round, len(lines), n)
		}
		t.Logf("round %d: %d records, %d bytes of a partial line dropped", round, n, w.Dropped())
	}
}
