// Package testutil finds the repository root and the shared data folder
// beside it, for tests that run on real models and data sets.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the folder holding go.mod above the test's working
// directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's working directory")
		}
		dir = parent
	}
}

// Shared returns the path of rel inside the shared data folder that sits
// beside the repository (../shared from the root). The test is skipped
// when that path does not exist, unless IPO_REQUIRE_SHARED=1, which CI
// sets so that a missing folder fails instead of hiding tests.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	path := filepath.Join(RepoRoot(t), "..", "shared", rel)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("IPO_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared data %s: %v", path, err)
		}
		t.Skipf("shared data %s not present: %v", path, err)
	}
	return path
}
