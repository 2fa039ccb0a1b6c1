package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// chain is two stages, first and second, where second reads first's
// output; runs counts how often each stage's Run was called.
type chain struct {
	dir     string
	input   string
	setting map[string]any
	runs    map[string]int
	// failSecond makes the second stage write a partial file and fail.
	failSecond bool
}

func newChain(t *testing.T) *chain {
	dir := t.TempDir()
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(input, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &chain{dir: dir, input: input, setting: map[string]any{"n": 2}, runs: map[string]int{}}
}

// run runs both stages and returns their results.
func (c *chain) run(t *testing.T) [2]Result {
	t.Helper()
	firstDir := filepath.Join(c.dir, "run", "first")
	first := &Stage{Name: "first", Iteration: 1, Dir: firstDir,
		Inputs:   []Input{{Name: "input", Path: "input.txt", File: c.input}},
		Settings: c.setting,
		Run: func(context.Context) error {
			c.runs["first"]++
			data, err := os.ReadFile(c.input)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(firstDir, "out.txt"), append(data, '!'), 0o644)
		},
		Outputs: []string{"out.txt"},
		Count:   func() (map[string]float64, error) { return map[string]float64{"bytes": 6}, nil },
	}
	m1, r1, err := Do(context.Background(), first)
	if err != nil {
		t.Fatalf("first stage: %v", err)
	}

	secondDir := filepath.Join(c.dir, "run", "second")
	second := &Stage{Name: "second", Iteration: 1, Dir: secondDir,
		Inputs: []Input{{Name: "first", Path: "first/out.txt", File: filepath.Join(firstDir, "out.txt")}},
		After:  []*Manifest{m1},
		Run: func(context.Context) error {
			c.runs["second"]++
			partial := filepath.Join(secondDir, "partial.txt")
			if c.failSecond {
				os.WriteFile(partial, []byte("half"), 0o644)
				return errors.New("interrupted")
			}
			return os.WriteFile(filepath.Join(secondDir, "done.txt"), []byte("done"), 0o644)
		},
	}
	_, r2, err := Do(context.Background(), second)
	if err != nil && !c.failSecond {
		t.Fatalf("second stage: %v", err)
	}
	return [2]Result{r1, r2}
}

func TestDoSkipRule(t *testing.T) {
	c := newChain(t)
	if got, want := c.run(t), [2]Result{Started, Started}; got != want {
		t.Errorf("first run: results %v, want %v", got, want)
	}
	if got, want := c.run(t), [2]Result{Skipped, Skipped}; got != want {
		t.Errorf("unchanged re-run: results %v, want %v", got, want)
	}

	// A changed setting of the first stage reruns it and the one after it,
	// even though its output bytes stay the same.
	c.setting = map[string]any{"n": 3}
	if got, want := c.run(t), [2]Result{Started, Started}; got != want {
		t.Errorf("after a setting change: results %v, want %v", got, want)
	}

	// A changed input file reruns both too.
	if err := os.WriteFile(c.input, []byte("world"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := c.run(t), [2]Result{Started, Started}; got != want {
		t.Errorf("after an input change: results %v, want %v", got, want)
	}
	if got, want := c.runs, (map[string]int{"first": 3, "second": 3}); got["first"] != want["first"] || got["second"] != want["second"] {
		t.Errorf("Run calls %v, want %v", got, want)
	}
}

func TestDoResumesPartialStage(t *testing.T) {
	c := newChain(t)
	c.failSecond = true
	c.run(t)
	partial := filepath.Join(c.dir, "run", "second", "partial.txt")
	if _, err := os.Stat(filepath.Join(c.dir, "run", "second", ManifestFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed stage has a manifest (stat error %v), want none", err)
	}

	c.failSecond = false
	if got, want := c.run(t), [2]Result{Skipped, Resumed}; got != want {
		t.Errorf("re-run after failure: results %v, want %v", got, want)
	}
	if _, err := os.Stat(partial); err != nil {
		t.Errorf("resumed stage lost its partial output: %v", err)
	}

	// A partial output made from other inputs is removed before the run.
	c.failSecond = true
	os.WriteFile(c.input, []byte("changed"), 0o644)
	c.run(t)
	c.failSecond = false
	os.WriteFile(c.input, []byte("changed again"), 0o644)
	if got, want := c.run(t), [2]Result{Started, Started}; got != want {
		t.Errorf("re-run with other inputs: results %v, want %v", got, want)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial output of other inputs kept (stat error %v), want it removed", err)
	}
}

func TestDoManifestContents(t *testing.T) {
	c := newChain(t)
	c.run(t)
	m, err := ReadManifest(filepath.Join(c.dir, "run", "first", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := HashPath(c.input)
	if len(m.Inputs) != 1 || m.Inputs[0].SHA256 != sum || m.Inputs[0].Path != "input.txt" {
		t.Errorf("inputs %+v, want input.txt with sha256 %s", m.Inputs, sum)
	}
	var settings bytes.Buffer
	json.Compact(&settings, m.Settings)
	if got, want := settings.String(), `{"n":2}`; got != want {
		t.Errorf("settings %s, want %s", got, want)
	}
	outSum, _ := HashPath(filepath.Join(c.dir, "run", "first", "out.txt"))
	if len(m.Outputs) != 1 || m.Outputs[0].SHA256 != outSum {
		t.Errorf("outputs %+v, want out.txt with sha256 %s", m.Outputs, outSum)
	}
	if m.Counts["bytes"] != 6 {
		t.Errorf("counts %v, want bytes 6", m.Counts)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "run", "first", startedFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("finished stage keeps %s (stat error %v), want it removed", startedFile, err)
	}
}

func TestHashPathFolder(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "b.txt"), []byte("b"), 0o644)
	before, err := HashPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Moving content between files changes the hash, because names and
	// sizes are hashed with it.
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("ab"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "b.txt"), []byte(""), 0o644)
	after, err := HashPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Errorf("folder hash %s unchanged after moving a byte between files", before)
	}
}

func TestDoRerunsStageWithDamagedOutput(t *testing.T) {
	c := newChain(t)
	c.run(t)
	out := filepath.Join(c.dir, "run", "first", "out.txt")

	// A deleted output reruns its stage; the next stage reads the same bytes
	// again and stays skipped.
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	if got, want := c.run(t), [2]Result{Started, Skipped}; got != want {
		t.Errorf("after deleting an output: results %v, want %v", got, want)
	}

	// A changed output reruns its stage too.
	if err := os.WriteFile(out, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := c.run(t), [2]Result{Started, Skipped}; got != want {
		t.Errorf("after corrupting an output: results %v, want %v", got, want)
	}
	if data, _ := os.ReadFile(out); string(data) != "hello!" {
		t.Errorf("output after the rerun = %q, want %q", data, "hello!")
	}
}
