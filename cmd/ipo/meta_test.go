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

func TestSampleResumeRefusesChangedPrompt(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := filepath.Join(dir, "prompts.jsonl")
	out := filepath.Join(dir, "out.jsonl")
	args := []string{"sample", "--model", model, "--data", data, "--out", out, "--n", "1", "--max-new-tokens", "4", "--seed", "1", "--chat-template", "none"}

	// Rows without ids are named by position, so a row inserted in front
	// moves every prompt to another id.
	writeFile(t, data, `{"prompt": "Once upon a time"}`+"\n"+`{"prompt": "The little dog"}`+"\n")
	if code, _, errOut := run(t, "", args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	writeFile(t, data, `{"prompt": "The sun was"}`+"\n"+`{"prompt": "Once upon a time"}`+"\n"+`{"prompt": "The little dog"}`+"\n")
	code, _, errOut := run(t, "", args...)
	if code != 1 || !strings.Contains(errOut, "another prompt") {
		t.Errorf("resume after rows moved: exit %d, stderr %q; want 1 and a message about another prompt", code, errOut)
	}

	if code, _, _ := run(t, "", "sample", "--model", model, "--data", data, "--out", filepath.Join(dir, "x.jsonl"), "--n", "1000000000"); code != 1 {
		t.Errorf("--n 1000000000: exit %d, want 1 with a range error", code)
	}
}
