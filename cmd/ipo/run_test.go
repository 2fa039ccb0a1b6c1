package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/pipeline"
	"ipo/internal/testutil"
)

// loadExampleRun loads docs/run-example.yaml with its runs in runsDir,
// from the repository root, where its relative paths start.
func loadExampleRun(t *testing.T, runsDir string) *pipeline.Config {
	t.Helper()
	testutil.Shared(t, "models/stories260K")
	root := testutil.RepoRoot(t)
	t.Chdir(root)
	cfg, err := pipeline.LoadConfig(filepath.Join("docs", "run-example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RunsDir = runsDir
	return cfg
}

func TestRunResumeGivesSameManifests(t *testing.T) {
	whole := loadExampleRun(t, t.TempDir())
	var out bytes.Buffer
	if err := runLoop(context.Background(), whole, &out, runHooks{}); err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}

	// The second run is cancelled in the middle of iteration 2's training,
	// after its second step, then run again.
	split := *whole
	split.RunsDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := false
	hooks := runHooks{stageOutput: func(stage string, p []byte) {
		if stage == "iter-2/train" && bytes.Contains(p, []byte("step 2/")) {
			cancelled = true
			cancel()
		}
	}}
	err := runLoop(ctx, &split, &bytes.Buffer{}, hooks)
	if !cancelled {
		t.Fatal("iteration 2's training never logged step 2, so the run was not interrupted")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v, want context.Canceled", err)
	}
	trainDir := filepath.Join(split.RunDir(), "iter-2", "train")
	if _, err := os.Stat(filepath.Join(trainDir, pipeline.ManifestFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("interrupted training stage has a manifest (stat error %v), want none", err)
	}

	var rerun bytes.Buffer
	if err := runLoop(context.Background(), &split, &rerun, runHooks{}); err != nil {
		t.Fatalf("re-run after the interruption: %v", err)
	}
	for _, want := range []string{"iter-1/merge               done before, skipped", "iter-2/train             resumed"} {
		if !strings.Contains(normalizeSpaces(rerun.String()), normalizeSpaces(want)) {
			t.Errorf("re-run output lacks %q:\n%s", want, rerun.String())
		}
	}

	wantManifests := readManifests(t, whole.RunDir())
	gotManifests := readManifests(t, split.RunDir())
	if len(wantManifests) != 2*10+5 {
		t.Errorf("uninterrupted run wrote %d manifests, want 25 (5 evaluations of the base model, 10 stages per iteration)", len(wantManifests))
	}
	for name, want := range wantManifests {
		got, ok := gotManifests[name]
		if !ok {
			t.Errorf("resumed run lacks %s", name)
			continue
		}
		if got != want {
			t.Errorf("%s differs between the resumed and the uninterrupted run:\nresumed:\n%s\nuninterrupted:\n%s", name, got, want)
		}
	}

	checkReport(t, split.RunDir(), split.Iterations)

	// A changed training setting reruns iteration 1's training and every
	// stage after it, but not the sampling and labelling before it.
	whole.Train.Config["beta"] = 0.2
	var changed bytes.Buffer
	if err := runLoop(context.Background(), whole, &changed, runHooks{}); err != nil {
		t.Fatalf("run with another beta: %v", err)
	}
	for _, want := range []string{"iter-1/label done before, skipped", "iter-1/train finished", "iter-1/merge finished", "iter-2/prompts done before, skipped", "iter-2/sample finished"} {
		if !strings.Contains(normalizeSpaces(changed.String()), want) {
			t.Errorf("run with another beta: output lacks %q:\n%s", want, changed.String())
		}
	}
}

// readManifests returns every manifest under dir by its relative path, as
// JSON without the wall time and with the run folder's own path removed.
func readManifests(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != pipeline.ManifestFile {
			return err
		}
		m, err := pipeline.ReadManifest(path)
		if err != nil {
			return err
		}
		m.WallSeconds = 0
		raw, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		data := string(raw)
		if strings.Contains(data, dir) {
			t.Errorf("%s holds the run folder's absolute path %s", path, dir)
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkReport checks that the report has a table per iteration and that
// its plots decode as PNG.
func checkReport(t *testing.T, dir string, iterations int) {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(dir, pipeline.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= iterations; k++ {
		heading := "## Iteration " + string(rune('0'+k)) + "\n\n| stage | figure | value |"
		if !strings.Contains(string(md), heading) {
			t.Errorf("report lacks the table of iteration %d (%q)", k, heading)
		}
	}
	for _, want := range []string{"| label | pairs kept |", "| train | loss |", "| MMLU | score (delta) |", "| RewardBench | score (delta) |", "| RM-Bench | score (delta) |", "| GSM8K | score (delta) |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks the row %q", want)
		}
	}
	for _, name := range []string{pipeline.LossPlot, pipeline.MarginsPlot, pipeline.ScoresPlot} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s does not decode as PNG: %v", name, err)
		}
	}
}

func normalizeSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing config", []string{"run"}, 2, ""},
		{"absent config file", []string{"run", "--config", "absent-run.yaml"}, 1, "absent-run.yaml"},
		{"stray argument", []string{"run", "--config", "x.yaml", "extra"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q, want it to mention %q", errOut, tt.want)
			}
		})
	}
}

func TestRunRejectsUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.yaml")
	os.WriteFile(path, []byte("name: x\nmodel: m\niterations: 1\nitrations: 2\n"), 0o644)
	code, _, errOut := run(t, "", "run", "--config", path)
	if code != 1 || !strings.Contains(errOut, "unknown key itrations") {
		t.Errorf("exit %d, stderr %q; want 1 and a message naming the key itrations", code, errOut)
	}
}

func TestIsHubDatasetID(t *testing.T) {
	local := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(local, []byte("{}\n"), 0o644)
	tests := []struct {
		data string
		want bool
	}{
		{"allenai/reward-bench", true},
		{local, false},
		{"../shared/absent.jsonl", false},
		{"rows.jsonl", false},
		{"a/b/c.jsonl", false},
	}
	for _, tt := range tests {
		if got := isHubDatasetID(tt.data); got != tt.want {
			t.Errorf("isHubDatasetID(%q) = %v, want %v", tt.data, got, tt.want)
		}
	}
}
