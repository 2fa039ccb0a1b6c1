package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/testutil"
)

func TestSampleResumeRefusesOtherSettings(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "prompts.jsonl"), `{"id": "a", "prompt": "Once"}`+"\n"+`{"id": "b", "prompt": "Lily"}`+"\n")
	out := filepath.Join(dir, "out.jsonl")
	args := []string{"sample", "--model", model, "--data", data, "--out", out, "--n", "2", "--max-new-tokens", "6", "--seed", "3", "--chat-template", "none"}

	if code, _, errOut := run(t, "", args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	before, _ := os.ReadFile(out)

	code, _, errOut := run(t, "", append(args, "--temperature", "0.5")...)
	if code != 1 || !strings.Contains(errOut, "sampling") {
		t.Errorf("resume with another temperature: exit %d, stderr %q; want 1 naming the sampling settings", code, errOut)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Errorf("the refused run changed %s", out)
	}
	if code, _, errOut := run(t, "", args...); code != 0 {
		t.Errorf("resume with the same settings: exit %d: %s", code, errOut)
	}
}
